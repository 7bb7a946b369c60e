// Types only: the module itself is loaded on first use (see secretsManager).
// eslint-disable-next-line import/no-extraneous-dependencies
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Invocation, loadConfig, operationDeadline } from '../plumbing/config';
import { registerSecret } from '../plumbing/log';
import { retry } from '../plumbing/retry';
import { AWS_ACCESS_KEY_ID_PATTERN, DEFAULT_IMS_SCOPES } from '../private/contract';

const ACCESS_KEY_PARAM = 's3AccessKey';

/** Auth params that are identifiers, not secrets (once their shape proves they are). */
const NON_SECRET_PARAMS = new Set([ACCESS_KEY_PARAM]);

let client: SecretsManagerClient | undefined;

/**
 * The Secrets Manager client module, required on first use rather than at import: a warm
 * container that already holds the AEP credential, and every event that reads no secret, never
 * pays for loading it. `@aws-sdk/*` is external to the bundle, so esbuild leaves this `require` here.
 */
function secretsManagerSdk(): typeof import('@aws-sdk/client-secrets-manager') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
  return require('@aws-sdk/client-secrets-manager');
}

// Created on first use so the endpoint and region come from the environment of the first call
// (AWS_ENDPOINT_URL_SECRETS_MANAGER in tests), and reused across warm invocations.
function secretsManager(): SecretsManagerClient {
  client ??= new (secretsManagerSdk().SecretsManagerClient)({});
  return client;
}

/**
 * The invocation whose time budget bounds the secret reads (a container runs one invocation at a
 * time; {@link beginSecretReads} is called at the start of each).
 */
let budget: Invocation | undefined;

/** Bounds this invocation's secret reads (their AccessDenied retries) by its deadline. */
export function beginSecretReads(invocation: Invocation): void {
  budget = invocation;
}

/**
 * GetSecretValue, read again while AccessDenied for the grant propagation window (never past the
 * invocation's deadline): CloudFormation runs a custom resource as soon as the policy granting its
 * secret is CREATE_COMPLETE, but IAM puts that policy in force only seconds later. Any other error,
 * or a refusal that outlasts the window (a real missing grant), fails at once / then.
 */
async function getSecretString(arn: string): Promise<string | undefined> {
  const invocation = budget ?? { config: loadConfig(), deadline: Number.POSITIVE_INFINITY };
  const { config } = invocation;
  const out = await retry({
    operation: `GetSecretValue ${arn}`,
    maxAttempts: Number.POSITIVE_INFINITY,
    baseDelayMs: config.grantRetryBaseMs,
    deadline: operationDeadline(invocation, config.grantPropagationMs),
    classify: (err) => ({ retryable: (err as { name?: string })?.name === 'AccessDeniedException' }),
  }, () => secretsManager().send(new (secretsManagerSdk().GetSecretValueCommand)({ SecretId: arn })));
  return out.SecretString;
}

/** Reads a Secrets Manager secret whose value is a JSON object. Registers nothing: callers know which fields are secret. */
export async function readJsonSecret(arn: string): Promise<Record<string, unknown>> {
  const out = { SecretString: await getSecretString(arn) };
  if (typeof out.SecretString !== 'string') {
    throw new Error(`Secret ${arn} has no SecretString; store it as a JSON string`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.SecretString);
  } catch {
    // Never echo the parse error: it quotes the secret text.
    throw new Error(`Secret ${arn} is not valid JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`Secret ${arn} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** The AEP API credential (OAuth Server-to-Server) stored in Secrets Manager. */
export interface AepCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly orgId: string;
  /** Comma-separated IMS scopes. */
  readonly scopes: string;
}

/**
 * AEP credentials by secret ARN. Every event of a stack names the same secret, so a warm container
 * reads it once; a new ARN (another stack, a replaced secret) is a new read, and a value rotated
 * behind the same ARN is read again when IMS rejects the cached one ({@link readAepCredentials} `fresh`).
 */
const credentialsCache = new Map<string, AepCredentials>();

/**
 * `{ clientId, clientSecret, orgId, scopes? }` from the container cache, or read from Secrets
 * Manager (always with `fresh`). Registers the client secret with the redactor either way: the
 * redactor starts empty each invocation, and a cached secret is still a secret.
 */
export async function readAepCredentials(arn: string, options: { readonly fresh?: boolean } = {}): Promise<CachedAepCredentials> {
  const cached = options.fresh ? undefined : credentialsCache.get(arn);
  if (cached) {
    registerSecret(cached.clientSecret);
    return { credentials: cached, fromCache: true };
  }
  const secret = await readJsonSecret(arn);
  registerSecret(secret.clientSecret);
  const field = (key: string): string => {
    const value = secret[key];
    if (typeof value !== 'string' || value === '') {
      throw new Error(`AEP credentials secret ${arn} lacks the string field '${key}' (expected { clientId, clientSecret, orgId, scopes? })`);
    }
    return value;
  };
  const scopes = secret.scopes;
  const credentials: AepCredentials = {
    clientId: field('clientId'),
    clientSecret: field('clientSecret'),
    orgId: field('orgId'),
    scopes: typeof scopes === 'string' && scopes !== '' ? scopes
      : Array.isArray(scopes) && scopes.length ? scopes.join(',')
        : DEFAULT_IMS_SCOPES,
  };
  credentialsCache.set(arn, credentials);
  return { credentials, fromCache: false };
}

/** What {@link readAepCredentials} returns: the credential and whether it came from the container cache. */
export interface CachedAepCredentials {
  readonly credentials: AepCredentials;
  /** True when no read happened: a rejection by IMS may then mean the value was rotated since. */
  readonly fromCache: boolean;
}

/**
 * Reads the secret auth params: `fields` maps an AEP auth param to a key of the JSON secret.
 * Every value is registered with the redactor except AWS access key ids, which are identifiers
 * (the construct already passes them in clear as the change token) and must stay readable in
 * error messages.
 */
export async function readSecretParams(arn: string, fields: Record<string, string>): Promise<Record<string, string>> {
  const secret = await readJsonSecret(arn);
  const params: Record<string, string> = {};
  for (const [param, key] of Object.entries(fields)) {
    const value = secret[key];
    if (typeof value !== 'string' || value === '') {
      throw new Error(`Secret ${arn} lacks the string field '${key}' (needed for auth param '${param}')`);
    }
    if (!NON_SECRET_PARAMS.has(param) || !AWS_ACCESS_KEY_ID_PATTERN.test(value)) registerSecret(value);
    if (param === ACCESS_KEY_PARAM && !AWS_ACCESS_KEY_ID_PATTERN.test(value)) {
      // Never quote the value: with swapped field names it is the secret access key.
      throw new Error(
        `Secret ${arn} field '${key}' (auth param '${param}') is not an AWS access key id ` +
        '(AKIA or ASIA followed by 16 upper-case letters or digits); are the secret field names swapped?',
      );
    }
    params[param] = value;
  }
  return params;
}

/**
 * Writes a new current version of a JSON secret (PutSecretValue). Only the key watch writes, and
 * only the library's own access-key secret: every other secret is the user's or CloudFormation's.
 * The caller registers the secret fields with the redactor before calling.
 */
export async function putJsonSecret(arn: string, value: Record<string, string>): Promise<void> {
  await secretsManager().send(new (secretsManagerSdk().PutSecretValueCommand)({ SecretId: arn, SecretString: JSON.stringify(value) }));
}
