import { reachabilityFolder } from './reachability';
import { type AwsKey, getSessionToken, waitUntilKeyWorks } from '../../aws/aws-keys';
import { waitUntilKeyCanList } from '../../aws/s3-probe';
import { readSecretParams } from '../../aws/secrets';
import { type Invocation, operationDeadline } from '../../plumbing/config';
import { registerSecret } from '../../plumbing/log';
import { optionalInt, optionalString, type RawProps, requireString, stringMap } from '../../plumbing/props';
import { AepIds, AWS_ACCESS_KEY_ID_PATTERN, CommonProps, ConnectionProps, decodeBoolean, STS_SESSION_DURATION } from '../../private/contract';

/** AEP auth param names of the S3 `Access Key` auth spec (API-NOTES §4.1, §5.2). */
export const S3Params = {
  ACCESS_KEY: 's3AccessKey',
  SECRET_KEY: 's3SecretKey',
  SESSION_TOKEN: 's3SessionToken',
  ROLE: 's3Role',
} as const;

// AEP marks these `format: password`; hide them even when the construct passed them inline.
export const SENSITIVE_PARAMS: readonly string[] = [S3Params.SECRET_KEY, S3Params.SESSION_TOKEN, S3Params.ROLE];

/**
 * The only auth params a secret field may fill: the ones AEP keeps masked, plus the key id that
 * belongs with them. The mapping comes from the event, and the handler does not trust the event:
 * a field mapped to a param AEP stores in clear (`folderPath`, `bucketName`) would hand AEP, and
 * anyone who can read the connection, the secret's value.
 */
export const SECRET_FIELD_PARAMS: readonly string[] = [S3Params.ACCESS_KEY, ...SENSITIVE_PARAMS];

/** STS GetSessionToken bounds (API-NOTES §6.2). */
const SESSION_DURATION_MIN = STS_SESSION_DURATION.MIN_SECONDS;
const SESSION_DURATION_MAX = STS_SESSION_DURATION.MAX_SECONDS;

/**
 * The auth params to send to AEP: inline `AuthParams` plus the secret ones read now from
 * `AuthSecretArn`. With `VerifyAwsKey` the AWS key is proven first; with
 * `SessionTokenDurationSeconds` the long-term key is exchanged for temporary credentials.
 */
export async function resolveAuthParams(
  props: RawProps, invocation: Invocation, options: { proveListing?: boolean } = {},
): Promise<Record<string, string>> {
  const params = { ...stringMap(props, ConnectionProps.AUTH_PARAMS), ...await readSecretFields(props) };
  for (const name of SENSITIVE_PARAMS) registerSecret(params[name]);
  checkAccessKeyId(params[S3Params.ACCESS_KEY]);

  const sessionSeconds = sessionDuration(props);
  // A destination key is proven where AEP will use it: listing the export folder. The source is
  // proven by AEP itself (explore) once the connection exists.
  // Only for a connection this event makes: an in-place Update may be a rollback, which
  // CloudFormation runs before it reverts the IAM policy the check depends on.
  const exportFolder = options.proveListing && requireString(props, ConnectionProps.CONNECTION_SPEC_ID) === AepIds.S3_DESTINATION_CONNECTION_SPEC
    && params[S3Params.ACCESS_KEY] !== undefined ? reachabilityFolder(props) : undefined;
  if (!decodeBoolean(props[ConnectionProps.VERIFY_AWS_KEY]) && sessionSeconds === undefined && !exportFolder) return params;

  // GetSessionToken also needs a working long-term key, so it is probed first either way.
  const key = awsKeyOf(params);
  const probe = {
    intervalMs: invocation.config.keyProbeIntervalMs,
    deadline: operationDeadline(invocation, invocation.config.keyProbeDeadlineMs),
  };
  // Listing also proves the key exists: in place of the STS probe, not after it.
  if (exportFolder && sessionSeconds === undefined) await waitUntilKeyCanList(key, exportFolder, probe);
  else await waitUntilKeyWorks(key, probe);
  if (sessionSeconds === undefined) return params;
  return { ...params, ...await temporaryParams(key, sessionSeconds) };
}

/** The secret params named by `AuthSecretFields`, read from `AuthSecretArn` (none when unset). */
async function readSecretFields(props: RawProps): Promise<Record<string, string>> {
  const fields = stringMap(props, ConnectionProps.AUTH_SECRET_FIELDS);
  const arn = optionalString(props, ConnectionProps.AUTH_SECRET_ARN);
  if (!arn) {
    if (Object.keys(fields).length) {
      throw new Error(`Property '${ConnectionProps.AUTH_SECRET_FIELDS}' needs '${ConnectionProps.AUTH_SECRET_ARN}'`);
    }
    return {};
  }
  const clear = Object.keys(fields).filter((param) => !SECRET_FIELD_PARAMS.includes(param));
  if (clear.length) {
    throw new Error(
      `Property '${ConnectionProps.AUTH_SECRET_FIELDS}' maps secret fields to ${clear.map((p) => `'${p}'`).join(', ')}: a secret field may only `
      + `fill ${SECRET_FIELD_PARAMS.map((p) => `'${p}'`).join(', ')} (params AEP masks), never a param AEP stores in clear`,
    );
  }
  // The AEP API credential is the handler's own: it never becomes a connection's auth param.
  if (arn === optionalString(props, CommonProps.CREDENTIALS_SECRET_ARN)) {
    throw new Error(`Property '${ConnectionProps.AUTH_SECRET_ARN}' names the AEP API credential secret: a connection's auth secret must be another secret`);
  }
  return readSecretParams(arn, fields);
}

/** `SessionTokenDurationSeconds`, validated against STS limits. */
export function sessionDuration(props: RawProps, key: string = ConnectionProps.SESSION_TOKEN_DURATION): number | undefined {
  const seconds = optionalInt(props, key);
  if (seconds !== undefined && (seconds < SESSION_DURATION_MIN || seconds > SESSION_DURATION_MAX)) {
    throw new Error(
      `Property '${key}' must be between ${SESSION_DURATION_MIN} and ${SESSION_DURATION_MAX} seconds, got ${seconds}`,
    );
  }
  return seconds;
}

/** Fails (without quoting the value, which may be a misplaced secret) unless `value` is shaped like an access key id. */
function checkAccessKeyId(value: string | undefined): void {
  if (value === undefined || AWS_ACCESS_KEY_ID_PATTERN.test(value)) return;
  registerSecret(value);
  throw new Error(
    `Auth param '${S3Params.ACCESS_KEY}' is not an AWS access key id (AKIA or ASIA followed by 16 upper-case letters or digits); ` +
    'is the secret access key in its place?',
  );
}

/** The AWS key held in the `s3AccessKey` / `s3SecretKey` params. */
export function awsKeyOf(params: Record<string, string>): AwsKey {
  const accessKeyId = params[S3Params.ACCESS_KEY];
  const secretAccessKey = params[S3Params.SECRET_KEY];
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      `Verifying the AWS key or using session tokens needs the auth params '${S3Params.ACCESS_KEY}' and '${S3Params.SECRET_KEY}'`,
    );
  }
  checkAccessKeyId(accessKeyId);
  return { accessKeyId, secretAccessKey };
}

/** Temporary credentials for `key`, as the three S3 auth params AEP stores (API-NOTES §6.3). */
export async function temporaryParams(key: AwsKey, durationSeconds: number): Promise<Record<string, string>> {
  const temp = await getSessionToken(key, durationSeconds);
  return {
    [S3Params.ACCESS_KEY]: temp.accessKeyId,
    [S3Params.SECRET_KEY]: temp.secretAccessKey,
    [S3Params.SESSION_TOKEN]: temp.sessionToken,
  };
}
