// Inlined into the handler bundle by esbuild (devDependencies, like axios).
// eslint-disable-next-line import/no-extraneous-dependencies
import { Sha256 } from '@aws-crypto/sha256-js';
// eslint-disable-next-line import/no-extraneous-dependencies
import { SignatureV4 } from '@smithy/signature-v4';
import { type AwsKey } from './aws-keys';
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

/** A refusal or failure of IAM with AWS's error code (`LimitExceeded`, `NoSuchEntity`, `AccessDenied`, …). */
export class IamKeyError extends Error {
  constructor(readonly code: string, readonly status: number, message: string) {
    super(message);
    this.name = 'IamKeyError';
  }
}

/** One access key of a user as `ListAccessKeys` reports it. */
export interface AccessKeyMetadata {
  readonly accessKeyId: string;
  readonly status: 'Active' | 'Inactive';
  /** Epoch ms. */
  readonly createDate: number;
}

/** IAM is global per partition; the function's region says which partition. */
function iamEndpoint(env: Record<string, string | undefined>): { url: string; signingRegion: string } {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const override = env.AWS_ENDPOINT_URL_IAM ?? env.AWS_ENDPOINT_URL;
  if (region?.startsWith('cn-')) return { url: override ?? 'https://iam.cn-north-1.amazonaws.com.cn', signingRegion: 'cn-north-1' };
  if (region?.startsWith('us-gov-')) return { url: override ?? 'https://iam.us-gov.amazonaws.com', signingRegion: 'us-gov-west-1' };
  return { url: override ?? 'https://iam.amazonaws.com', signingRegion: 'us-east-1' };
}

/** Lambda puts the execution role's credentials in the environment. */
function roleCredentials(env: Record<string, string | undefined>): AwsKey {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new IamKeyError('MissingCredentials', 0, 'IAM call without AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment');
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN };
}

async function iamCall(action: string, params: Record<string, string>, invocation: Invocation): Promise<string> {
  const env = process.env;
  const { url, signingRegion } = iamEndpoint(env);
  const endpoint = new URL(url);
  const body = new URLSearchParams({ Action: action, ...params, Version: '2010-05-08' }).toString();
  const signer = new SignatureV4({ credentials: roleCredentials(env), region: signingRegion, service: 'iam', sha256: Sha256 });
  const once = async (): Promise<string> => {
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path: endpoint.pathname || '/',
      headers: { 'host': endpoint.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    });
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body, signal: AbortSignal.timeout(invocation.config.httpTimeoutMs) });
    } catch (err) {
      throw new IamKeyError('NetworkError', 0, `IAM ${action} could not reach ${endpoint.host}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP ${res.status}`;
      const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '';
      throw new IamKeyError(code, res.status, `IAM ${action} failed: ${code} (HTTP ${res.status})${message ? `: ${message}` : ''}`);
    }
    return text;
  };
  // CreateAccessKey is not idempotent: a retry after a lost answer could make a second key.
  // Only reads and deletes are retried (a repeated delete answers NoSuchEntity, handled by callers).
  if (action === 'CreateAccessKey') return once();
  return retry({
    operation: `IAM ${action}`,
    maxAttempts: invocation.config.retryMaxAttempts,
    baseDelayMs: invocation.config.retryBaseMs,
    deadline: operationDeadline(invocation, invocation.config.deadlineMs),
    classify: (err) => {
      const e = err as IamKeyError;
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
  if (keys.some((k) => !k.accessKeyId || Number.isNaN(k.createDate))) throw new IamKeyError('MalformedResponse', 200, 'IAM ListAccessKeys answered a key without AccessKeyId or CreateDate');
  return keys.sort((a, b) => a.createDate - b.createDate);
}

/** A new access key of the user; its secret is registered with the redactor before anything else. */
export async function createAccessKey(userName: string, invocation: Invocation): Promise<AwsKey & { createDate: number }> {
  const xml = await iamCall('CreateAccessKey', { UserName: userName }, invocation);
  const secret = tag(xml, 'SecretAccessKey');
  if (secret !== undefined) registerSecret(unescapeXml(secret));
  const accessKeyId = tag(xml, 'AccessKeyId');
  if (!accessKeyId || secret === undefined) throw new IamKeyError('MalformedResponse', 200, 'IAM CreateAccessKey answered without AccessKeyId or SecretAccessKey');
  return { accessKeyId, secretAccessKey: unescapeXml(secret), createDate: Date.parse(tag(xml, 'CreateDate') ?? '') || Date.now() };
}

/** Deletes a key of the user; a key already gone counts as deleted. */
export async function deleteAccessKey(userName: string, accessKeyId: string, invocation: Invocation): Promise<void> {
  try {
    await iamCall('DeleteAccessKey', { UserName: userName, AccessKeyId: accessKeyId }, invocation);
  } catch (err) {
    if ((err as IamKeyError).code !== 'NoSuchEntity') throw err;
  }
}

/** The user's tags (one page: IAM allows 50 tags per user, below the default page size of 100). */
export async function listUserTags(userName: string, invocation: Invocation): Promise<Record<string, string>> {
  const xml = await iamCall('ListUserTags', { UserName: userName }, invocation);
  return Object.fromEntries([...xml.matchAll(/<member>([\s\S]*?)<\/member>/g)]
    .map(([, m]) => [unescapeXml(tag(m, 'Key') ?? ''), unescapeXml(tag(m, 'Value') ?? '')]));
}
