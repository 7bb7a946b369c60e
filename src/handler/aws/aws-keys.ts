// Inlined into the Lambda bundle by esbuild; the lint allow-list for bundled dev dependencies names only the entry file.
// eslint-disable-next-line import/no-extraneous-dependencies
import { GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { registerSecret } from '../plumbing/log';
import { retry, RetryExhaustedError, type RetryVerdict } from '../plumbing/retry';

/** An AWS access key, long-term (`AKIA…`) or temporary (`ASIA…` + session token). */
export interface AwsKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Timing of {@link waitUntilKeyWorks}. */
export interface KeyProbeOptions {
  /** First backoff step in ms. */
  readonly baseDelayMs: number;
  /** Epoch ms after which the probe gives up. */
  readonly deadline: number;
}

// A client per key: the key *is* the identity under test, so it cannot come from the
// environment. Built on demand so AWS_ENDPOINT_URL_STS / AWS_REGION are read at call time.
function stsFor(key: AwsKey, maxAttempts?: number): STSClient {
  return new STSClient({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, sessionToken: key.sessionToken },
    maxAttempts,
  });
}

/**
 * Proves that `key` works by calling STS GetCallerIdentity signed with it, retrying while STS
 * still rejects it. A freshly created IAM access key takes seconds to propagate; AEP would
 * otherwise store a key that fails its first test, so waiting here replaces any fixed sleep.
 */
export async function waitUntilKeyWorks(key: AwsKey, options: KeyProbeOptions): Promise<void> {
  // The SDK's own retries stay off: this loop owns the timing.
  const sts = stsFor(key, 1);
  try {
    await retry({
      operation: `sts:GetCallerIdentity (${key.accessKeyId})`,
      maxAttempts: Number.POSITIVE_INFINITY,
      baseDelayMs: options.baseDelayMs,
      deadline: options.deadline,
      classify: classifyProbeError,
    }, () => sts.send(new GetCallerIdentityCommand({})));
  } catch (err) {
    if (err instanceof RetryExhaustedError) {
      throw new Error(
        `AWS access key ${key.accessKeyId} was still rejected by STS after ${err.attempts} attempts ` +
        `(${stsErrorName(err.lastError)}); check that the key exists, is active and matches its secret`,
      );
    }
    throw new Error(`AWS access key ${key.accessKeyId} does not work: ${stsErrorName(err)}`);
  } finally {
    sts.destroy();
  }
}

/**
 * Exchanges a long-term IAM user key for temporary credentials (API-NOTES §6: GetSessionToken
 * must be signed with the IAM user's own key, not the Lambda role). Registers the new secret
 * and session token with the redactor.
 */
export async function getSessionToken(key: AwsKey, durationSeconds: number): Promise<Required<AwsKey>> {
  const sts = stsFor(key);
  try {
    const out = await sts.send(new GetSessionTokenCommand({ DurationSeconds: durationSeconds }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
      throw new Error('STS GetSessionToken returned no credentials');
    }
    registerSecret(c.SecretAccessKey);
    registerSecret(c.SessionToken);
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
  } catch (err) {
    throw new Error(`STS GetSessionToken with access key ${key.accessKeyId} failed: ${stsErrorName(err)}`);
  } finally {
    sts.destroy();
  }
}

/** Not-yet-valid keys (IAM propagation) and transient STS failures are retried; a wrong secret is not. */
function classifyProbeError(err: unknown): RetryVerdict {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'SignatureDoesNotMatch') return { retryable: false };
  const notYetValid = e.name === 'InvalidClientTokenId' || status === 403;
  const transient = e.$retryable !== undefined || (status !== undefined && (status === 429 || status >= 500))
    || e.name === 'TimeoutError' || NETWORK_CODES.has(e.code ?? '');
  return { retryable: notYetValid || transient };
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

function stsErrorName(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return [e.name, e.message].filter(Boolean).join(': ') || String(err);
}
