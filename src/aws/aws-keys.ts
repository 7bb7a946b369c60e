// Types only: the module itself is loaded on first use (see stsSdk).
// eslint-disable-next-line import/no-extraneous-dependencies
import type { STSClient } from '@aws-sdk/client-sts';
import { errorMessage, log, registerSecret } from '../plumbing/log';
import { type RetryVerdict, sleep } from '../plumbing/retry';

/** An AWS access key, long-term (`AKIA…`) or temporary (`ASIA…` + session token). */
export interface AwsKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Timing of {@link waitUntilKeyWorks}. */
export interface KeyProbeOptions {
  /** Wait between two probes in ms while STS still rejects the key (doubled per throttled probe). */
  readonly intervalMs: number;
  /** Epoch ms after which the probe gives up. */
  readonly deadline: number;
}

/** Most a throttled probe stretches the interval: 16× (8 s with the default 500 ms). */
const MAX_THROTTLE_DOUBLINGS = 4;

/**
 * The wait before the next probe. Propagation is not a failure that backing off helps: the key
 * starts working at a moment STS does not announce, and every ms between that moment and the next
 * probe is deliberate waiting, so the interval is constant. Only throttling (many Creates probing
 * at once) stretches it, doubling per throttled probe in a row.
 */
export function probeDelay(intervalMs: number, throttledInARow: number): number {
  return intervalMs * 2 ** Math.min(throttledInARow, MAX_THROTTLE_DOUBLINGS);
}

/**
 * The STS client module, required on first use rather than at import: only a Create/Update that
 * verifies a key or registers session credentials, and the scheduled refresh, call STS, and
 * loading the client at import more than doubled the bundle's cold start for every other event.
 * `@aws-sdk/*` is external to the bundle (the runtime ships it), so esbuild leaves this `require`
 * where it is; Node caches the module after the first call.
 */
function stsSdk(): typeof import('@aws-sdk/client-sts') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
  return require('@aws-sdk/client-sts');
}

// A client per key: the key *is* the identity under test, so it cannot come from the
// environment. Built on demand so AWS_ENDPOINT_URL_STS / AWS_REGION are read at call time.
function stsFor(key: AwsKey, maxAttempts?: number): STSClient {
  return new (stsSdk().STSClient)({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, sessionToken: key.sessionToken },
    maxAttempts,
  });
}

/**
 * Proves that `key` works by calling STS GetCallerIdentity signed with it, polling at a constant
 * interval while STS still rejects it. A freshly created IAM access key takes seconds to
 * propagate; AEP would otherwise store a key that fails its first test, so waiting here replaces
 * any fixed sleep, and the wait ends at most one interval (plus a round trip) after the key works.
 */
export async function waitUntilKeyWorks(key: AwsKey, options: KeyProbeOptions): Promise<void> {
  // The SDK's own retries stay off: this loop owns the timing.
  const sts = stsFor(key, 1);
  try {
    await probeUntilAccepted(() => sts.send(new (stsSdk().GetCallerIdentityCommand)({})), options, {
      what: `AWS access key ${key.accessKeyId}`,
      classify: classifyProbeError,
      rejected: (err) => new Error(`AWS access key ${key.accessKeyId} does not work: ${stsErrorName(err)}`),
      exhausted: (err, attempts) => new Error(
        `AWS access key ${key.accessKeyId} was still rejected by STS after ${attempts} attempts ` +
        `(${stsErrorName(err)}); check that the key exists, is active and matches its secret`,
      ),
    });
  } finally {
    sts.destroy();
  }
}

/** How {@link probeUntilAccepted} reads and reports failures. */
export interface ProbeReport {
  /** What is probed, for log lines (never secret). */
  readonly what: string;
  /** Whether a failure may still turn into success (propagation, throttling, transient). */
  readonly classify: (err: unknown) => RetryVerdict;
  /** The error for a failure that will not pass. */
  readonly rejected: (err: unknown) => Error;
  /** The error when the deadline arrives while the probe is still refused. */
  readonly exhausted: (err: unknown, attempts: number) => Error;
}

/**
 * Calls `probe` until it succeeds, polling at the constant interval of {@link probeDelay} while
 * the failure is retryable; the one probe loop for everything a new key must be able to do
 * (STS GetCallerIdentity, listing the export folder).
 */
export async function probeUntilAccepted<T>(probe: () => Promise<T>, options: KeyProbeOptions, report: ProbeReport): Promise<T> {
  let throttledInARow = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await probe();
      if (attempt > 1) log('info', `${report.what} accepted`, { probes: attempt });
      return result;
    } catch (err) {
      if (!report.classify(err).retryable) throw report.rejected(err);
      throttledInARow = isThrottling(err) ? throttledInARow + 1 : 0;
      const delayMs = probeDelay(options.intervalMs, throttledInARow);
      if (Date.now() + delayMs >= options.deadline) throw report.exhausted(err, attempt);
      log('warn', `${report.what} not accepted yet; probing again`, { attempt, delayMs, error: errorMessage(err) });
      await sleep(delayMs);
    }
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
    const out = await sts.send(new (stsSdk().GetSessionTokenCommand)({ DurationSeconds: durationSeconds }));
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

function isThrottling(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };
  return e.$retryable?.throttling === true || e.$metadata?.httpStatusCode === 429
    || e.name === 'Throttling' || e.name === 'ThrottlingException';
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

function stsErrorName(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return [e.name, e.message].filter(Boolean).join(': ') || String(err);
}
