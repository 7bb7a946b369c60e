// Inlined into the Lambda bundle by esbuild; the lint allow-list for bundled dev dependencies names only the entry file.
// eslint-disable-next-line import/no-extraneous-dependencies
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_ACCESS_KEY_ID_PATTERN, DEFAULT_IMS_SCOPES } from '../../private/contract';
import { registerSecret } from '../plumbing/log';

const ACCESS_KEY_PARAM = 's3AccessKey';

/** Auth params that are identifiers, not secrets (once their shape proves they are). */
const NON_SECRET_PARAMS = new Set([ACCESS_KEY_PARAM]);

let client: SecretsManagerClient | undefined;

// Created on first use so the endpoint and region come from the environment of the first call
// (AWS_ENDPOINT_URL_SECRETS_MANAGER in tests), and reused across warm invocations.
function secretsManager(): SecretsManagerClient {
  client ??= new SecretsManagerClient({});
  return client;
}

/** Reads a Secrets Manager secret whose value is a JSON object. Registers nothing: callers know which fields are secret. */
export async function readJsonSecret(arn: string): Promise<Record<string, unknown>> {
  const out = await secretsManager().send(new GetSecretValueCommand({ SecretId: arn }));
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

/** Reads `{ clientId, clientSecret, orgId, scopes? }` and registers the client secret with the redactor. */
export async function readAepCredentials(arn: string): Promise<AepCredentials> {
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
  return {
    clientId: field('clientId'),
    clientSecret: field('clientSecret'),
    orgId: field('orgId'),
    scopes: typeof scopes === 'string' && scopes !== '' ? scopes
      : Array.isArray(scopes) && scopes.length ? scopes.join(',')
        : DEFAULT_IMS_SCOPES,
  };
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
