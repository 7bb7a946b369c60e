/**
 * The connection-spec rules Flow Service enforces on top of its OpenAPI request schemas: the
 * `authSpec`, encryption spec and `targetSpec` of each connection spec (API-NOTES §4.1, §5.2,
 * §5.4, §5.5). Adobe's OpenAPI files do not carry these (or carry stale versions), so they are
 * written out here. Messages name the offending field and the rule, never the value: several
 * fields are secrets.
 */
import { AepIds } from '../../src/private/contract';

/** Data Lake target connection spec used by source ingestion flows (API-NOTES §1, §4.4). */
export const DATA_LAKE_TARGET_SPEC = 'c604ff05-7f1a-43c0-8e18-33bf874cb11c';

/** A rejected request: HTTP status, Flow Service error code and human-readable messages. */
export interface Violation {
  readonly status: number;
  readonly errorCode: string;
  readonly messages: readonly string[];
}

/** Builds a {@link Violation} (400 unless told otherwise). */
export function violation(messages: string | readonly string[], errorCode = '400', status = 400): Violation {
  return { status, errorCode, messages: typeof messages === 'string' ? [messages] : messages };
}

/** Returns a problem description, or undefined when the value is fine. */
type Check = (value: unknown) => string | undefined;

interface ParamRule {
  readonly required?: boolean;
  readonly check: Check;
}

type ParamRules = Readonly<Record<string, ParamRule>>;

const BUCKET_NAME = /(?=^.{3,63}$)(?!^(\d+\.)+\d+$)(^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$)/;
// Same language as the connection spec's `^[0-9a-zA-Z\/\!\-_\.\*\''\(\)]*((\%SEGMENT_(NAME|ID)\%)?\/?)+$`
// (API-NOTES §5.5), rewritten without the nested optional groups, which backtrack exponentially
// on inputs like "%SEGMENT_NAME%/" repeated and would hang the stand-in.
const TARGET_PATH = /^[0-9a-zA-Z/!\-_.*'()]*(?:%SEGMENT_(?:NAME|ID)%|\/)*$/;
const IAM_ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const isString: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string');
const matches = (re: RegExp, rule: string): Check => (v) =>
  typeof v === 'string' && re.test(v) ? undefined : `must be ${rule}`;
const oneOf = (...allowed: readonly unknown[]): Check => (v) =>
  allowed.includes(v) ? undefined : `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
const isBoolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean');
const isHttpsUrl: Check = (v) => {
  if (typeof v !== 'string') {
    return 'must be an https URL';
  }
  try {
    return new URL(v).protocol === 'https:' ? undefined : 'must be an https URL';
  } catch {
    return 'must be an https URL';
  }
};

const ACCESS_KEY_ID = matches(/^[A-Z2-7]{20}$/, '20 characters of [A-Z2-7] (an AWS access key id)');
const SECRET_ACCESS_KEY = matches(/^[A-Za-z0-9/+]{40}$/, '40 characters of [A-Za-z0-9/+] (an AWS secret access key)');
const BUCKET = matches(BUCKET_NAME, 'a valid S3 bucket name (3-63 chars, lower-case letters, digits, dots, hyphens, not an IP address)');

/**
 * `authSpec` params per connection spec and auth spec name. Every auth spec lists all params it
 * accepts: anything else is rejected, as Flow Service validates `auth.params` against the spec.
 */
const AUTH_SPECS: Readonly<Record<string, Readonly<Record<string, ParamRules>>>> = {
  // S3 source, API-NOTES §4.1. Real STS temporary keys (ASIA…) match the access-key pattern too.
  [AepIds.S3_SOURCE_CONNECTION_SPEC]: {
    'Access Key': {
      s3AccessKey: { required: true, check: ACCESS_KEY_ID },
      s3SecretKey: { required: true, check: SECRET_ACCESS_KEY },
      s3SessionToken: { check: isString },
      serviceUrl: { check: isHttpsUrl },
      bucketName: { check: BUCKET },
      folderPath: { check: isString },
    },
    // Only `bucketName` is documented; `folderPath` is allowed because the UI offers a folder and
    // Adobe has not published the authSpec (API-NOTES §9.5).
    'IAMRole Based': {
      bucketName: { required: true, check: BUCKET },
      folderPath: { check: isString },
    },
  },
  // S3 destination, API-NOTES §5.2 (from the connection spec, not destinations.yaml, which is stale).
  [AepIds.S3_DESTINATION_CONNECTION_SPEC]: {
    'Access Key': {
      s3AccessKey: { required: true, check: ACCESS_KEY_ID },
      s3SecretKey: { required: true, check: SECRET_ACCESS_KEY },
    },
    'Assumed Role': {
      s3Role: { required: true, check: matches(IAM_ROLE_ARN, 'an IAM role ARN (arn:aws:iam::<account>:role/<name>)') },
    },
  },
};

/** Params Flow Service adds to stored destination auth params (API-NOTES §3.2); allowed on stored resources only. */
export const SERVER_ADDED_AUTH_PARAMS: ReadonlySet<string> = new Set(['authorizedDate']);

/** S3 destination `targetSpec` params (API-NOTES §5.5). */
const DESTINATION_TARGET_PARAMS: ParamRules = {
  mode: { required: true, check: oneOf('Server-to-server') },
  bucketName: { required: true, check: BUCKET },
  path: { required: true, check: matches(TARGET_PATH, "a folder path of [0-9a-zA-Z/!-_.*'()], optionally ending in %SEGMENT_NAME%/%SEGMENT_ID%") },
  fileType: { check: oneOf('CSV', 'JSON', 'PARQUET') },
  datasetFileType: { check: oneOf('JSON', 'PARQUET') },
  compression: { required: true, check: oneOf('NONE', 'GZIP') },
  csvOptions: { check: (v) => (v && typeof v === 'object' && !Array.isArray(v) ? undefined : 'must be an object') },
  includeFileManifest: { check: isBoolean },
};

const CSV_OPTIONS: ParamRules = {
  delimiter: { check: oneOf(',', '\t', '|', ';', ':') },
  quote: { check: oneOf('"', '') },
  escape: { check: oneOf('\\', "'") },
  nullValue: { check: oneOf('null', '""', '') },
  emptyValue: { check: oneOf('null', '""', '') },
};

/** The connection specs a base connection may use, i.e. the ones {@link AUTH_SPECS} knows. */
export function isKnownConnectionSpec(id: unknown): boolean {
  return typeof id === 'string' && id in AUTH_SPECS;
}

/** Checks `connectionSpec` ({id, version}): missing version is a 422 in Flow Service (API-NOTES §3.3). */
export function checkConnectionSpecRef(body: Record<string, unknown>, allowed: readonly string[]): Violation | undefined {
  const spec = body.connectionSpec;
  if (!isObject(spec)) {
    return violation('connectionSpec is required and must be an object {id, version}');
  }
  if (typeof spec.id !== 'string' || !allowed.includes(spec.id)) {
    return violation(`connectionSpec.id ${JSON.stringify(spec.id)} is not a valid connection spec id for this resource`, '1413-400');
  }
  if (spec.version === undefined) {
    return violation("connectionSpec.version 'version' is required for spec info", '422', 422);
  }
  if (typeof spec.version !== 'string') {
    return violation('connectionSpec.version must be a string');
  }
  return undefined;
}

/**
 * Checks a base connection (create body, or the stored resource after a PATCH) against the
 * connection-spec rules. `connectionSpec` must already have passed {@link checkConnectionSpecRef}.
 */
export function checkConnection(body: Record<string, unknown>, stored: boolean): Violation | undefined {
  const problems = [...checkNameAndDescription(body)];
  const specId = (body.connectionSpec as { id: string }).id;
  const auth = body.auth;
  if (!isObject(auth) || typeof auth.specName !== 'string' || !isObject(auth.params)) {
    return violation([...problems, 'auth is required and must be {specName: string, params: object}']);
  }
  const rules = AUTH_SPECS[specId][auth.specName];
  if (!rules) {
    const known = Object.keys(AUTH_SPECS[specId]).map((n) => `'${n}'`).join(', ');
    return violation(`auth.specName '${auth.specName}' is not an auth spec of connection spec ${specId} (known: ${known})`, '1415-400');
  }
  const params = stored ? withoutKeys(auth.params, SERVER_ADDED_AUTH_PARAMS) : auth.params;
  problems.push(...checkParams('auth.params', params, rules));
  problems.push(...checkEncryption(body, specId));
  return problems.length ? violation(problems) : undefined;
}

/** Checks a target connection (create body or stored resource) against the `targetSpec` rules. */
export function checkTargetConnection(body: Record<string, unknown>): Violation | undefined {
  const problems = [...checkNameAndDescription(body)];
  const specId = (body.connectionSpec as { id: string }).id;
  if (specId !== AepIds.S3_DESTINATION_CONNECTION_SPEC) {
    // The Data Lake target (source ingestion) is only checked against flow-service.yaml.
    return problems.length ? violation(problems) : undefined;
  }
  if (typeof body.baseConnectionId !== 'string' || !body.baseConnectionId) {
    problems.push('baseConnectionId is required');
  }
  const params = body.params;
  if (!isObject(params)) {
    return violation([...problems, 'params is required and must be an object']);
  }
  problems.push(...checkParams('params', params, DESTINATION_TARGET_PARAMS));
  const hasFileType = params.fileType !== undefined;
  const hasDatasetFileType = params.datasetFileType !== undefined;
  if (hasFileType === hasDatasetFileType) {
    problems.push('params must have exactly one of fileType (audience exports) and datasetFileType (dataset exports)');
  }
  if (params.csvOptions !== undefined) {
    if (params.fileType !== 'CSV') {
      problems.push('params.csvOptions is only allowed when params.fileType is "CSV"');
    } else if (isObject(params.csvOptions)) {
      problems.push(...checkParams('params.csvOptions', params.csvOptions, CSV_OPTIONS));
    }
  }
  return problems.length ? violation(problems) : undefined;
}

function checkNameAndDescription(body: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (typeof body.name !== 'string' || body.name.trim() === '') {
    problems.push('name is required and must be a non-empty string');
  }
  if (body.description !== undefined && typeof body.description !== 'string') {
    problems.push('description must be a string');
  }
  return problems;
}

/**
 * Destination file encryption (API-NOTES §5.4): which request key, spec name and algorithm are
 * accepted is decided by the served connection spec (aep-connection-specs.ts); here only what holds
 * in every variant: no encryption on the source spec, and a base64 public key.
 */
function checkEncryption(body: Record<string, unknown>, specId: string): string[] {
  const key = body.encryption !== undefined ? 'encryption' : body.encryptionSpecs !== undefined ? 'encryptionSpecs' : undefined;
  if (key === undefined) {
    return [];
  }
  if (specId !== AepIds.S3_DESTINATION_CONNECTION_SPEC) {
    return [`${key} is not supported by this connection spec`];
  }
  const enc = body[key];
  if (!isObject(enc) || !isObject(enc.params)) {
    return [`${key} must be {specName, params: {encryptionAlgo, publicKey}}`];
  }
  const publicKey = enc.params.publicKey;
  return typeof publicKey === 'string' && publicKey.length > 0 && BASE64.test(publicKey) ? [] : [`${key}.params.publicKey must be a base64 string`];
}

function checkParams(prefix: string, params: Record<string, unknown>, rules: ParamRules): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(params)) {
    if (!(key in rules)) {
      problems.push(`${prefix}.${key} is not a parameter of this spec (allowed: ${Object.keys(rules).join(', ')})`);
    }
  }
  for (const [key, rule] of Object.entries(rules)) {
    const value = params[key];
    if (value === undefined || value === null) {
      if (rule.required) {
        problems.push(`${prefix}.${key} is required`);
      }
      continue;
    }
    const problem = rule.check(value);
    if (problem) {
      problems.push(`${prefix}.${key} ${problem}`);
    }
  }
  return problems;
}

/** Narrowing helper: a plain (non-array) object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function withoutKeys(obj: Record<string, unknown>, keys: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([key]) => !keys.has(key)));
}
