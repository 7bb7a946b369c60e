/**
 * The connection specs the Flow Service stand-in serves at `GET /connectionSpecs/{id}`
 * (DATAFLOWS.md §1), in each documented variant, and the checks of a connection body against the
 * variant served. Adobe's docs disagree with each other (API-NOTES §9.1, §9.4, §9.5), so a test
 * picks the variant and proves the handler builds the request the served spec accepts.
 *
 * Modelling choices (inference, stated once here):
 * - The destination spec is printed by Adobe (DATAFLOWS §1.2); the source spec is not (§1.3), so
 *   its auth specs are written from the create tutorial (API-NOTES §4.1).
 * - Encryption: the spec's `encryptionSpecs[0]` names the encryption spec and the `encryptionAlgo`
 *   enum. Each documented request shape pairs with its own spelling: an enum with `PGP/GPG` is the
 *   current docs' top-level `encryption` (`File Encryption`); an enum with `PGPGPG` (as printed) is
 *   the older tutorial's `encryptionSpecs` request key. The request's `specName` must be the
 *   declared name.
 * - `readOnly: true` on an auth param (a draft-07 keyword) means AEP keeps it once set: a PATCH may
 *   not change it. The `token-only` refresh variant marks `s3AccessKey`/`s3SecretKey` so, which is
 *   the only reading under which the documented one-op session-token PATCH (§6.3) is all AEP takes.
 * - Older revision (beta-era tutorial `976a76d2`): the destination had no `Assumed Role` auth spec
 *   (added January 2024, API-NOTES §5.1).
 */
import Ajv, { type ValidateFunction } from 'ajv';
import { S3_PARTNER_SCHEMA } from './aep-data-prep';
import { isObject } from './aep-rules';
import { AepIds } from '../../src/private/contract';

/** Which documented variant of the S3 connection specs the stand-in serves. */
export interface ConnectionSpecVariant {
  /** `current`: today's docs; `older`: the beta-era revision (no destination `Assumed Role`). Default `current`. */
  readonly revision?: 'current' | 'older';
  /** The PGP value of the destination `encryptionAlgo` enum (and the request shape it pairs with). Default `PGP/GPG`. */
  readonly encryptionAlgo?: 'PGP/GPG' | 'PGPGPG';
  /** Whether the source `IAMRole Based` auth spec declares `folderPath`. Default true. */
  readonly iamRoleFolderPath?: boolean;
  /** `three-ops`: key id, secret and token replaceable; `token-only`: only `s3SessionToken` (§6.3 as documented). Default `three-ops`. */
  readonly sessionTokenRefresh?: 'three-ops' | 'token-only';
}

/** The variant served when none is chosen. */
export const DEFAULT_CONNECTION_SPEC_VARIANT: Required<ConnectionSpecVariant> = {
  revision: 'current',
  encryptionAlgo: 'PGP/GPG',
  iamRoleFolderPath: true,
  sessionTokenRefresh: 'three-ops',
};

const SCHEMA = 'http://json-schema.org/draft-07/schema#';
const ACCESS_KEY_PATTERN = '^[A-Z2-7]{20}$';
const SECRET_KEY_PATTERN = '^[A-Za-z0-9\\/\\+]{40}$';

/** The `{ items: [spec] }` items of both S3 connection specs in `variant`. */
export function connectionSpecDocuments(variant: ConnectionSpecVariant = {}): Record<string, Record<string, unknown>> {
  const v = { ...DEFAULT_CONNECTION_SPEC_VARIANT, ...variant };
  const readOnlyKey = v.sessionTokenRefresh === 'token-only' ? { readOnly: true } : {};
  const source = {
    id: AepIds.S3_SOURCE_CONNECTION_SPEC,
    name: 'amazon-s3',
    providerId: '0ed90a81-07f4-4586-8190-b40eccef1c5a',
    version: '1.0',
    authSpec: [
      {
        name: 'Access Key',
        type: 'KeyBased',
        spec: {
          $schema: SCHEMA,
          description: 'Defines auth params required for connecting to amazon-s3',
          type: 'object',
          properties: {
            s3AccessKey: { description: 'Access key id', type: 'string', pattern: ACCESS_KEY_PATTERN, ...readOnlyKey },
            s3SecretKey: { description: 'Secret access key for the user account', type: 'string', format: 'password', pattern: SECRET_KEY_PATTERN, ...readOnlyKey },
            s3SessionToken: { description: 'Session token of temporary credentials', type: 'string', format: 'password' },
            serviceUrl: { description: 'S3 endpoint, e.g. https://s3.{REGION}.amazonaws.com', type: 'string' },
            bucketName: { description: 'Bucket name', type: 'string' },
            folderPath: { description: 'Folder the credential may read', type: 'string' },
          },
          required: ['s3AccessKey', 's3SecretKey'],
        },
      },
      {
        name: 'IAMRole Based',
        type: 'IamBasedAuthentication',
        spec: {
          $schema: SCHEMA,
          description: 'Defines auth params required for connecting to amazon-s3 through the Experience Platform IAM role',
          type: 'object',
          properties: {
            bucketName: { description: 'Bucket name', type: 'string' },
            ...(v.iamRoleFolderPath ? { folderPath: { description: 'Folder path', type: 'string' } } : {}),
          },
          required: ['bucketName'],
        },
      },
    ],
    sourceSpec: { name: 'FileSystem', type: 'FileSystem', spec: { type: 'object', properties: { path: { type: 'string' }, recursive: { type: 'boolean', default: false } } } },
    exploreSpec: { name: 'FileSystem', type: 'FileSystem' },
    permissionsInfo: {
      manage: [{ type: 'lowLevel', name: 'EnterpriseSource', permissions: ['write'] }],
      view: [{ type: 'lowLevel', name: 'EnterpriseSource', permissions: ['read'] }],
    },
  };
  const pgp = v.encryptionAlgo;
  const destinationAuth: unknown[] = [{
    name: 'Access Key',
    type: 'KeyBased',
    spec: {
      $schema: SCHEMA,
      description: 'Defines auth params required for connecting to amazon-s3',
      type: 'object',
      properties: {
        s3AccessKey: { description: 'Access key id', type: 'string', pattern: ACCESS_KEY_PATTERN },
        s3SecretKey: { description: 'Secret access key for the user account', type: 'string', format: 'password', pattern: SECRET_KEY_PATTERN },
      },
      required: ['s3SecretKey', 's3AccessKey'],
    },
  }];
  if (v.revision === 'current') {
    destinationAuth.push({
      name: 'Assumed Role',
      type: 'S3RoleBased',
      spec: {
        $schema: SCHEMA,
        description: 'Defines role based auth params required for connecting to amazon-s3',
        type: 'object',
        properties: { s3Role: { title: 'Role', description: 'S3 role', type: 'string', format: 'password' } },
        required: ['s3Role'],
      },
    });
  }
  const destination = {
    id: AepIds.S3_DESTINATION_CONNECTION_SPEC,
    name: 'Amazon S3',
    providerId: '14e34fac-d307-11e9-bb65-2a2ae2dbcce4',
    version: '1.0',
    authSpec: destinationAuth,
    encryptionSpecs: [{
      name: pgp === 'PGP/GPG' ? 'File Encryption' : 'File PGP/GPG Encryption',
      type: 'FileAsymmetric',
      spec: {
        $schema: SCHEMA,
        description: "Defines parameters required for capturing user's inputs for encryption",
        type: 'object',
        properties: {
          publicKey: { description: 'Base64 encoded RSA public key', type: 'string', contentEncoding: 'base64' },
          encryptionAlgo: { description: 'Algorithm for encryption.', type: 'string', default: pgp, enum: [pgp, 'NONE'] },
        },
        required: ['encryptionAlgo', 'publicKey'],
      },
    }],
    // DATAFLOWS §1.2: the profile-mapping tutorial reads the output schema from here (its `spec`
    // is the target connection params, checked by destinations.yaml already).
    targetSpec: { name: 'User based target', type: 'UserNamespace', spec: {}, attributes: { partnerSchema: { jsonSchema: structuredClone(S3_PARTNER_SCHEMA) } } },
  };
  return { [source.id]: source, [destination.id]: destination };
}

interface AuthSpecDoc {
  readonly name: string;
  readonly spec: { properties: Record<string, Record<string, unknown>>; required?: string[] };
}

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('password', true);
// By content: the served documents are built afresh for each request, and ajv caches by schema
// object, so it compiled the same auth spec again on every connection POST (and kept each copy).
const compiled = new Map<string, ValidateFunction>();

/** Schema check of `params` against a served spec; messages name fields and rules, never values. */
function schemaProblems(prefix: string, schema: object, params: Record<string, unknown>): string[] {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) compiled.set(key, validate = ajv.compile(schema));
  if (validate(params)) return [];
  return (validate.errors ?? []).map((e) => {
    const field = e.instancePath ? `${prefix}${e.instancePath.replace(/\//g, '.')}` : prefix;
    const rule = e.keyword === 'enum' ? `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`
      : e.keyword === 'pattern' ? `must match the pattern ${(e.params as { pattern: string }).pattern}` : (e.message ?? e.keyword);
    return e.keyword === 'required' ? `${prefix}.${(e.params as { missingProperty: string }).missingProperty} is required` : `${field} ${rule}`;
  });
}

/**
 * Checks a connection's auth and encryption against the served connection spec: auth spec name
 * offered (`1415-400` otherwise), params declared, required, typed and patterned as declared;
 * encryption under the request key, spec name and algorithm the spec pairs with (see the header).
 */
export function checkAgainstServedSpec(
  body: Record<string, unknown>, doc: Record<string, unknown>, stored: boolean,
): { code?: string; problems: string[] } {
  const auth = body.auth as { specName: string; params: Record<string, unknown> };
  const authSpecs = doc.authSpec as AuthSpecDoc[];
  const spec = authSpecs.find((a) => a.name === auth.specName);
  if (!spec) {
    return {
      code: '1415-400',
      problems: [`auth.specName '${auth.specName}' is not an auth spec of connection spec ${String(doc.id)} (offered: ${authSpecs.map((a) => `'${a.name}'`).join(', ')})`],
    };
  }
  const problems: string[] = [];
  const params = stored ? Object.fromEntries(Object.entries(auth.params).filter(([k]) => k !== 'authorizedDate')) : auth.params;
  for (const key of Object.keys(params)) {
    if (!(key in spec.spec.properties)) {
      problems.push(`auth.params.${key} is not declared by auth spec '${spec.name}' (declared: ${Object.keys(spec.spec.properties).join(', ')})`);
    }
  }
  problems.push(...schemaProblems('auth.params', spec.spec, params));
  problems.push(...checkEncryptionAgainst(body, doc));
  return { problems };
}

function checkEncryptionAgainst(body: Record<string, unknown>, doc: Record<string, unknown>): string[] {
  const declared = (doc.encryptionSpecs as Array<{ name: string; spec: { properties: { encryptionAlgo: { enum: string[] } } } }> | undefined)?.[0];
  const sent = body.encryption !== undefined ? 'encryption' : body.encryptionSpecs !== undefined ? 'encryptionSpecs' : undefined;
  if (!sent) return [];
  if (!declared) return [`${sent} is not supported by connection spec ${String(doc.id)} (it declares no encryptionSpecs)`];
  const algo = declared.spec.properties.encryptionAlgo.enum.find((a) => a !== 'NONE');
  const expectedKey = algo === 'PGP/GPG' ? 'encryption' : 'encryptionSpecs';
  if (body.encryption !== undefined && body.encryptionSpecs !== undefined) return ['send either encryption or encryptionSpecs, not both'];
  if (sent !== expectedKey) {
    return [`${sent} is not accepted by this connection spec revision; send ${expectedKey} {specName: "${declared.name}", params: {encryptionAlgo, publicKey}}`];
  }
  const block = body[sent];
  if (!isObject(block) || !isObject(block.params)) return [`${sent} must be {specName, params: {encryptionAlgo, publicKey}}`];
  const problems: string[] = [];
  if (block.specName !== declared.name) problems.push(`${sent}.specName must be "${declared.name}" (the declared encryption spec)`);
  problems.push(...schemaProblems(`${sent}.params`, { ...declared.spec, additionalProperties: false }, block.params));
  return problems;
}

/** Names of `readOnly` auth params of `authSpecName` in the served spec: a PATCH may not change them. */
export function readOnlyAuthParams(doc: Record<string, unknown>, authSpecName: string): string[] {
  const spec = (doc.authSpec as AuthSpecDoc[]).find((a) => a.name === authSpecName);
  return spec ? Object.entries(spec.spec.properties).filter(([, p]) => p.readOnly === true).map(([k]) => k) : [];
}
