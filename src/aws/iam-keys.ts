import { type AwsKey } from './aws-keys';
import { IamError, iamQuery } from './iam-query';
import { type Invocation, operationDeadline } from '../plumbing/config';
import { registerSecret } from '../plumbing/log';
import { retry } from '../plumbing/retry';

/**
 * The IAM user calls of the key watch (ListAccessKeys, CreateAccessKey, DeleteAccessKey) and of
 * the access-key cleanup (ListUserTags, ListAccessKeys, DeleteAccessKey) as SigV4-signed Query
 * requests with the function's own role credentials. No IAM SDK client: the signer the bundle
 * already carries is enough for four small calls, and the Lambda runtime does not ship
 * `@aws-sdk/client-iam` in every version.
 */

export { IamError };

/** One access key of a user as `ListAccessKeys` reports it. */
export interface AccessKeyMetadata {
  readonly accessKeyId: string;
  readonly status: 'Active' | 'Inactive';
  /** Epoch ms. */
  readonly createDate: number;
}

/** Lambda puts the execution role's credentials in the environment. */
function roleCredentials(env: Record<string, string | undefined>): AwsKey {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new IamError('MissingCredentials', 0, 'IAM call without AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment');
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN };
}

async function iamCall(action: string, params: Record<string, string>, invocation: Invocation): Promise<string> {
  const env = process.env;
  const options = {
    credentials: roleCredentials(env),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    env,
    timeoutMs: invocation.config.httpTimeoutMs,
    withMessage: true,
  };
  const once = (): Promise<string> => iamQuery(action, params, options);
  // CreateAccessKey is not idempotent: a retry after a lost answer could make a second key.
  // Only reads and deletes are retried (a repeated delete answers NoSuchEntity, handled by callers).
  if (action === 'CreateAccessKey') return once();
  return retry({
    operation: `IAM ${action}`,
    maxAttempts: invocation.config.retryMaxAttempts,
    baseDelayMs: invocation.config.retryBaseMs,
    deadline: operationDeadline(invocation, invocation.config.deadlineMs),
    classify: (err) => {
      const e = err as IamError;
      return { retryable: e.code === 'NetworkError' || e.code === 'Throttling' || e.status >= 500 };
    },
  }, once);
}

function tag(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** The user's access keys, oldest first (a user has at most two). */
export async function listAccessKeys(userName: string, invocation: Invocation): Promise<AccessKeyMetadata[]> {
  const xml = await iamCall('ListAccessKeys', { UserName: userName }, invocation);
  const keys = [...xml.matchAll(/<member>([\s\S]*?)<\/member>/g)].map(([, m]) => ({
    accessKeyId: tag(m, 'AccessKeyId') ?? '',
    status: tag(m, 'Status') === 'Inactive' ? 'Inactive' as const : 'Active' as const,
    createDate: Date.parse(tag(m, 'CreateDate') ?? ''),
  }));
  if (keys.some((k) => !k.accessKeyId || Number.isNaN(k.createDate))) throw new IamError('MalformedResponse', 200, 'IAM ListAccessKeys answered a key without AccessKeyId or CreateDate');
  return keys.sort((a, b) => a.createDate - b.createDate);
}

/** A new access key of the user; its secret is registered with the redactor before anything else. */
export async function createAccessKey(userName: string, invocation: Invocation): Promise<AwsKey & { createDate: number }> {
  const xml = await iamCall('CreateAccessKey', { UserName: userName }, invocation);
  const secret = tag(xml, 'SecretAccessKey');
  if (secret !== undefined) registerSecret(unescapeXml(secret));
  const accessKeyId = tag(xml, 'AccessKeyId');
  if (!accessKeyId || secret === undefined) throw new IamError('MalformedResponse', 200, 'IAM CreateAccessKey answered without AccessKeyId or SecretAccessKey');
  return { accessKeyId, secretAccessKey: unescapeXml(secret), createDate: Date.parse(tag(xml, 'CreateDate') ?? '') || Date.now() };
}

/** Deletes a key of the user; a key already gone counts as deleted. */
export async function deleteAccessKey(userName: string, accessKeyId: string, invocation: Invocation): Promise<void> {
  try {
    await iamCall('DeleteAccessKey', { UserName: userName, AccessKeyId: accessKeyId }, invocation);
  } catch (err) {
    if ((err as IamError).code !== 'NoSuchEntity') throw err;
  }
}

/** The user's tags (one page: IAM allows 50 tags per user, below the default page size of 100). */
export async function listUserTags(userName: string, invocation: Invocation): Promise<Record<string, string>> {
  const xml = await iamCall('ListUserTags', { UserName: userName }, invocation);
  return Object.fromEntries([...xml.matchAll(/<member>([\s\S]*?)<\/member>/g)]
    .map(([, m]) => [unescapeXml(tag(m, 'Key') ?? ''), unescapeXml(tag(m, 'Value') ?? '')]));
}
