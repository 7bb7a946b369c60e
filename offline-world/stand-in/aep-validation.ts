/**
 * Request-body validation for the Flow Service stand-in: Adobe's own OpenAPI schemas
 * (shared/contracts, compiled with ajv) first, then the connection-spec rules of API-NOTES
 * ({@link ./aep-rules}). Where Adobe's files are known to be stale the documented behaviour wins;
 * each such spot says so below.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dereference } from '@readme/openapi-parser';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import {
  checkConnection, checkConnectionSpecRef, checkTargetConnection, DATA_LAKE_TARGET_SPEC, isObject, Violation, violation,
} from './aep-rules';
import { cacheCompiledValidators, derivedFromSpecFile, readSpecFile, validatorCacheDir, versionOf } from './validator-cache';
import { AepIds } from '../../src/private/contract';
import { FETCH_SPECS_COMMAND } from '../specs';

/** The two Adobe OpenAPI files the stand-in validates against. */
export const SPEC_FILES = {
  SOURCES: 'flow-service.yaml',
  DESTINATIONS: 'destinations.yaml',
} as const;

/**
 * PATCH bodies as Flow Service actually accepts them (API-NOTES §3.4, §6.3): an ARRAY of RFC 6902
 * operations with lower-case `op`. Neither spec models this correctly, so neither is used:
 * flow-service.yaml's `PatchInstruction` is a single object with upper-case ops and an
 * object-only `value` (a token replace sends a string), and destinations.yaml's
 * `PatchConnectionItem` is a single item whose `value` only knows `accessId`/`secretKey`,
 * names the S3 auth spec does not have.
 */
export const PATCH_BODY_SCHEMA = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    required: ['op', 'path'],
    additionalProperties: false,
    properties: {
      op: { type: 'string', enum: ['add', 'replace', 'remove'] },
      path: { type: 'string', pattern: '^/' },
      value: {},
    },
    if: { properties: { op: { enum: ['add', 'replace'] } } },
    then: { required: ['value'] },
  },
};

/**
 * What `auth` must look like when destinations.yaml cannot judge it. The file's
 * `AmazonS3AuthParameters` only knows `specName: 'Access Key'`, but the connection spec also has
 * `Assumed Role` (API-NOTES §3.4 table, §5.2); the auth params themselves are checked by the
 * connection-spec rules.
 */
export const AUTH_ENVELOPE_SCHEMA = {
  type: 'object',
  required: ['specName', 'params'],
  properties: { specName: { type: 'string' }, params: { type: 'object' } },
};

/** Paths a PATCH may not touch: the spec of a connection is fixed (`1414-400`, API-NOTES §7). */
const IMMUTABLE_PATHS = ['/connectionSpec', '/id'];
/** Server-managed fields; a client has no business patching them. */
const READ_ONLY_PATHS = [
  '/createdAt', '/updatedAt', '/createdBy', '/updatedBy', '/createdClient', '/updatedClient',
  '/sandboxId', '/sandboxName', '/imsOrgId', '/etag', '/version', '/state', '/baseConnectionId', '/inheritedAttributes', '/typeInfo',
];

interface CompiledSchemas {
  readonly sourceConnection: ValidateFunction;
  readonly destinationConnection: ValidateFunction;
  readonly destinationConnectionAnyAuth: ValidateFunction;
  readonly destinationTarget: ValidateFunction;
  readonly dataLakeTarget: ValidateFunction;
}

/** Options for {@link AepValidator.create}. */
export interface AepValidatorOptions {
  /** Folder holding {@link SPEC_FILES}. */
  readonly specDir: string;
  /** Throw when the specs are missing instead of warning and skipping schema validation. */
  readonly requireSpecs: boolean;
  /** Where the one-time "specs missing" warning goes. */
  readonly warn: (message: string) => void;
}

// Parsing + dereferencing + compiling costs ~100 ms; every stand-in in a test run shares it.
const compiledCache = new Map<string, Promise<CompiledSchemas>>();
const warnedDirs = new Set<string>();

/** Validates Flow Service request bodies; every method returns the first failing stage or undefined. */
export class AepValidator {
  /** Loads the specs from `options.specDir` (cached per folder). */
  public static async create(options: AepValidatorOptions): Promise<AepValidator> {
    const dir = path.resolve(options.specDir);
    const missing = Object.values(SPEC_FILES).filter((file) => !fs.existsSync(path.join(dir, file)));
    if (missing.length > 0) {
      const message = `AEP stand-in: ${missing.join(', ')} not found in ${dir}; OpenAPI schema validation and the contract check are OFF `
        + `(connection-spec rules still apply). Set AEP_CONTRACTS_DIR to a folder holding them, or run \`${FETCH_SPECS_COMMAND}\`.`;
      if (options.requireSpecs) {
        throw new Error(message);
      }
      if (!warnedDirs.has(dir)) {
        warnedDirs.add(dir);
        options.warn(message);
      }
      return new AepValidator(undefined);
    }
    let compiled = compiledCache.get(dir);
    if (!compiled) {
      compiled = compileSchemas(dir);
      compiledCache.set(dir, compiled);
      compiled.catch(() => compiledCache.delete(dir));
    }
    return new AepValidator(await compiled);
  }

  private constructor(private readonly schemas: CompiledSchemas | undefined) {}

  /** True when Adobe's OpenAPI schemas are applied (specs found); the connection-spec rules always are. */
  public get schemaValidation(): boolean {
    return this.schemas !== undefined;
  }

  /**
   * A base connection: a `POST /connections` body (`stored = false`) or the resource a PATCH would
   * produce (`stored = true`, server-added fields allowed).
   */
  public connection(body: unknown, stored: boolean): Violation | undefined {
    if (!isObject(body)) {
      return violation('body must be a JSON object');
    }
    const specs = [AepIds.S3_SOURCE_CONNECTION_SPEC, AepIds.S3_DESTINATION_CONNECTION_SPEC];
    const ref = checkConnectionSpecRef(body, specs);
    if (ref) {
      return ref;
    }
    if (this.schemas) {
      const specId = (body.connectionSpec as { id: string }).id;
      const request = stored ? connectionRequestView(body) : body;
      const schemaCheck = specId === AepIds.S3_SOURCE_CONNECTION_SPEC
        ? runSchema(this.schemas.sourceConnection, request, `${SPEC_FILES.SOURCES} CreateConnectionRequest`)
        : isObject(body.auth) && body.auth.specName === 'Access Key'
          ? runSchema(this.schemas.destinationConnection, request, `${SPEC_FILES.DESTINATIONS} Create_S3_Base_Connection_Request_V2`)
          : runSchema(this.schemas.destinationConnectionAnyAuth, request, `${SPEC_FILES.DESTINATIONS} Create_S3_Base_Connection_Request_V2`);
      if (schemaCheck) {
        return schemaCheck;
      }
    }
    return checkConnection(body, stored);
  }

  /** A target connection: `POST /targetConnections` body or the resource a PATCH would produce. */
  public targetConnection(body: unknown, stored: boolean): Violation | undefined {
    if (!isObject(body)) {
      return violation('body must be a JSON object');
    }
    const ref = checkConnectionSpecRef(body, [AepIds.S3_DESTINATION_CONNECTION_SPEC, DATA_LAKE_TARGET_SPEC]);
    if (ref) {
      return ref;
    }
    if (this.schemas) {
      const request = stored ? targetRequestView(body) : body;
      const schemaCheck = (body.connectionSpec as { id: string }).id === DATA_LAKE_TARGET_SPEC
        ? runSchema(this.schemas.dataLakeTarget, request, `${SPEC_FILES.SOURCES} CreateTargetConnectionRequest`)
        : runSchema(this.schemas.destinationTarget, request, `${SPEC_FILES.DESTINATIONS} Create_S3_Target_Connection_Request_V2`);
      if (schemaCheck) {
        return schemaCheck;
      }
    }
    return checkTargetConnection(body);
  }

  /** A PATCH body (structure and which paths it may touch); the result is checked separately. */
  public patch(body: unknown): Violation | undefined {
    const structure = runSchema(patchValidator, body, 'JSON Patch array (API-NOTES §3.4)');
    if (structure) {
      return structure;
    }
    for (const op of body as Array<{ path: string }>) {
      if (IMMUTABLE_PATHS.some((p) => touches(op.path, p))) {
        return violation(`${op.path}: the connection spec and id of a connection cannot be changed`, '1414-400');
      }
      if (READ_ONLY_PATHS.some((p) => touches(op.path, p))) {
        return violation(`${op.path} is read-only`);
      }
    }
    return undefined;
  }
}

const patchValidator = newAjv().compile(PATCH_BODY_SCHEMA);

/**
 * An ajv instance for the stand-in's own schema checks. Its compiles go through the disk cache of
 * generated validator code (validator-cache.ts), as the contract check's do: every test file that
 * starts a stand-in compiled the same ~20 schemas again (~0.3 s of CPU per file).
 */
export function newAjv(): Ajv {
  const cacheDir = validatorCacheDir();
  // strict:false: Adobe's schemas use OpenAPI-only keywords (example, x-*, contentEncoding).
  // Ajv understands OpenAPI 3.0 `nullable` natively. code.source: what the cache stores.
  // validateSchema: false: checking Adobe's schemas against the JSON Schema meta-schema compiled the
  // meta-schema in every instance; what a request is judged by does not change.
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, ...(cacheDir ? { code: { source: true } } : {}) });
  addFormats(ajv);
  // OpenAPI formats that are annotations, not constraints.
  ajv.addFormat('password', true);
  ajv.addFormat('binary', true);
  return cacheCompiledValidators(ajv, cacheDir);
}

async function compileSchemas(dir: string): Promise<CompiledSchemas> {
  const [sources, destinations] = await Promise.all([
    loadSpec(path.join(dir, SPEC_FILES.SOURCES)),
    loadSpec(path.join(dir, SPEC_FILES.DESTINATIONS)),
  ]);
  const ajv = newAjv();
  const component = (doc: OpenApiDoc, name: string): object => {
    const schema = doc.components?.schemas?.[name];
    if (!schema) {
      throw new Error(`AEP stand-in: schema ${name} not found in the OpenAPI spec`);
    }
    return schema;
  };
  // destinations.yaml's POST /connections body is a oneOf over S3/SFTP × legacy/V2. The body's
  // connectionSpec.id already picks the branch: the legacy one pins 4890fc95… (stale, API-NOTES
  // §3.4), the V2 one pins 4fce964d…. Validating against that one branch gives precise messages
  // instead of "must match exactly one schema in oneOf".
  const destinationConnection = component(destinations, 'Create_S3_Base_Connection_Request_V2');
  return {
    sourceConnection: ajv.compile(requestBodySchema(sources, '/connections', 'post')),
    destinationConnection: ajv.compile(destinationConnection),
    destinationConnectionAnyAuth: ajv.compile(replaceProperty(destinationConnection, 'auth', AUTH_ENVELOPE_SCHEMA)),
    destinationTarget: ajv.compile(component(destinations, 'Create_S3_Target_Connection_Request_V2')),
    dataLakeTarget: ajv.compile(requestBodySchema(sources, '/targetConnections', 'post')),
  };
}

export interface OpenApiDoc {
  paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: object }> } }>>;
  components?: { schemas?: Record<string, object> };
}

// Parsing and dereferencing a spec costs more than compiling what the stand-in takes from it; the
// validators here and the flow schemas (aep-flow-schemas.ts) read the same two files, so each is loaded
// once per process. Nobody writes to a loaded document (ajv only reads schemas).
const loadedSpecs = new Map<string, Promise<OpenApiDoc>>();

/** A spec, parsed and dereferenced (once per process and file). */
export function loadSpec(file: string): Promise<OpenApiDoc> {
  const key = path.resolve(file);
  let loaded = loadedSpecs.get(key);
  if (!loaded) {
    loaded = parseSpec(key);
    loadedSpecs.set(key, loaded);
    loaded.catch(() => loadedSpecs.delete(key));
  }
  return loaded;
}

// Everything the dereferenced document depends on besides the file and the YAML parser (see
// derivedFromSpecFile): change it with any change to what parseSpec does (stripKeys included).
const PARSER_DIR = path.dirname(require.resolve('@readme/openapi-parser/package.json'));
const DEREFERENCE_RECIPE = `@readme/openapi-parser ${versionOf('@readme/openapi-parser')}`
  + ` (json-schema-ref-parser ${versionOf('@apidevtools/json-schema-ref-parser', PARSER_DIR)}) dereference;`
  + ' no example(s); external: false; circular: ignore';

async function parseSpec(file: string): Promise<OpenApiDoc> {
  // Dereferencing took ~0.1 s of CPU per spec and test file; the result has no cycles (circular
  // refs stay as in-document $refs), so it is kept on disk as JSON like the parsed specs.
  return await derivedFromSpecFile(file, DEREFERENCE_RECIPE, async () => {
    const raw = readSpecFile(file);
    // `example(s)` are documentation; destinations.yaml even has a dangling
    // #/components/examples/Patch_Connection_Response ref that makes dereferencing fail.
    // The files themselves are Adobe's and stay untouched.
    const cleaned = stripKeys(raw, new Set(['example', 'examples']));
    return dereference(cleaned as Parameters<typeof dereference>[0], {
      resolve: { external: false },
      dereference: { circular: 'ignore' },
    });
  }) as OpenApiDoc;
}

function requestBodySchema(doc: OpenApiDoc, route: string, method: string): object {
  const schema = doc.paths?.[route]?.[method]?.requestBody?.content?.['application/json']?.schema;
  if (!schema) {
    throw new Error(`AEP stand-in: no JSON request body for ${method.toUpperCase()} ${route}`);
  }
  return schema;
}

export function runSchema(validate: ValidateFunction, body: unknown, schemaName: string): Violation | undefined {
  if (validate(body)) {
    return undefined;
  }
  const messages = [...new Set((validate.errors ?? []).map(describeError))].slice(0, 8);
  return violation(messages.map((m) => `${m} (${schemaName})`));
}

/** Describes an ajv error by location and rule only: ajv never puts the value in `message`. */
function describeError(error: ErrorObject): string {
  const where = error.instancePath ? error.instancePath.substring(1).replace(/\//g, '.') : 'body';
  const allowed = error.keyword === 'enum' ? ` ${JSON.stringify((error.params as { allowedValues: unknown[] }).allowedValues)}` : '';
  return `${where} ${error.message}${allowed}`;
}

/** The create-request view of a stored connection (what a PATCH result must still satisfy). */
function connectionRequestView(resource: Record<string, unknown>): Record<string, unknown> {
  const { name, description, auth, connectionSpec, encryption, encryptionSpecs } = resource;
  const params = isObject(auth) && isObject(auth.params) ? { ...auth.params } : undefined;
  if (params) {
    delete params.authorizedDate;
  }
  return dropUndefined({ name, description, auth: params ? { ...auth as object, params } : auth, connectionSpec, encryption, encryptionSpecs });
}

function targetRequestView(resource: Record<string, unknown>): Record<string, unknown> {
  const { name, description, baseConnectionId, params, data, connectionSpec } = resource;
  return dropUndefined({ name, description, baseConnectionId, params, data, connectionSpec });
}

function dropUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

function touches(opPath: string, protectedPath: string): boolean {
  return opPath === protectedPath || opPath.startsWith(`${protectedPath}/`);
}

function stripKeys(value: unknown, keys: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => stripKeys(v, keys));
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => !keys.has(k)).map(([k, v]) => [k, stripKeys(v, keys)]));
  }
  return value;
}

/** A copy of `schema` with `properties[name]` replaced wherever it is declared (top level or in allOf). */
function replaceProperty(schema: object, name: string, replacement: object): object {
  const copy = structuredClone(schema) as { properties?: Record<string, object>; allOf?: object[] };
  if (copy.properties && name in copy.properties) {
    copy.properties[name] = replacement;
  }
  if (copy.allOf) {
    copy.allOf = copy.allOf.map((part) => replaceProperty(part, name, replacement));
  }
  return copy;
}
