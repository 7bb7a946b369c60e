import { errorMessage, log } from './log';

/** What a failed attempt says about retrying. */
export interface RetryVerdict {
  readonly retryable: boolean;
  /** Server-requested minimum wait (`Retry-After`), in ms. */
  readonly retryAfterMs?: number;
}

/** Bounds of one retried operation. */
export interface RetryPolicy {
  /** Label used in logs, e.g. `POST /connections`. */
  readonly operation: string;
  /** Attempts including the first (use `Infinity` to bound by deadline only). */
  readonly maxAttempts: number;
  /** First backoff step in ms; steps double up to 16× this. */
  readonly baseDelayMs: number;
  /** Epoch ms: no attempt starts after it, no wait crosses it. */
  readonly deadline: number;
  /** Decides whether an error is worth another attempt. */
  readonly classify: (err: unknown) => RetryVerdict;
}

/** Thrown when the budget runs out while the last error was still retryable. */
export class RetryExhaustedError extends Error {
  constructor(readonly operation: string, readonly attempts: number, readonly lastError: unknown) {
    super(`${errorMessage(lastError)} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`);
    this.name = 'RetryExhaustedError';
  }
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or the policy's attempt or
 * time budget is spent. Waits use exponential backoff with full jitter (spreads concurrent
 * stacks hammering the same org) but never less than the server's `Retry-After`.
 *
 * The retry loop of AEP requests, the IMS token and the create-or-adopt loop, each with its own
 * `classify`. (The AWS key probe polls at a constant interval instead: see `waitUntilKeyWorks`.)
 */
export async function retry<T>(policy: RetryPolicy, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const verdict = policy.classify(err);
      if (!verdict.retryable) throw err;
      const delayMs = backoffDelay(n, policy.baseDelayMs, verdict.retryAfterMs);
      if (n >= policy.maxAttempts || Date.now() + delayMs >= policy.deadline) {
        throw new RetryExhaustedError(policy.operation, n, err);
      }
      log('warn', 'retrying', { operation: policy.operation, attempt: n, delayMs, error: errorMessage(err) });
      await sleep(delayMs);
    }
  }
}

/** Full-jitter delay for retry `n` (1-based), at least `retryAfterMs`. */
export function backoffDelay(n: number, baseDelayMs: number, retryAfterMs = 0): number {
  const cap = Math.min(baseDelayMs * 16, baseDelayMs * 2 ** (n - 1));
  return Math.max(Math.round(Math.random() * cap), retryAfterMs);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
