/**
 * Timing knobs. Production defaults follow API-NOTES §3.6 (5 attempts, 1 → 16 s backoff); every
 * knob can be overridden through an environment variable so tests can run in milliseconds.
 */

/** Retry and timeout settings of the handler. */
export interface HandlerConfig {
  /** Per-request timeout for AEP and IMS calls (`AEP_HTTP_TIMEOUT_MS`, default 15 s). */
  readonly httpTimeoutMs: number;
  /** First backoff step; the cap is 16× this (`AEP_RETRY_BASE_MS`, default 1 s). */
  readonly retryBaseMs: number;
  /** Attempts per AEP operation, the first one included (`AEP_RETRY_MAX_ATTEMPTS`, default 5). */
  readonly retryMaxAttempts: number;
  /** Total time one AEP operation may spend retrying (`AEP_DEADLINE_MS`, default 120 s). */
  readonly deadlineMs: number;
  /** How long to wait for a new AWS key to become valid (`AWS_KEY_PROBE_DEADLINE_MS`, default 120 s). */
  readonly keyProbeDeadlineMs: number;
  /**
   * Wait between two probes of a new AWS key (`AWS_KEY_PROBE_INTERVAL_MS`, default 500 ms): the
   * Create goes on at most this long (plus one STS round trip) after the key starts working.
   */
  readonly keyProbeIntervalMs: number;
  /**
   * How long a secret read refused with AccessDenied is read again (`AWS_GRANT_PROPAGATION_MS`,
   * default 30 s): IAM puts a policy CloudFormation just created or changed in force only
   * seconds later, so the first read after a fresh grant may be refused.
   */
  readonly grantPropagationMs: number;
  /** First backoff step between those reads; steps double up to 16× this (`AWS_GRANT_RETRY_BASE_MS`, default 250 ms). */
  readonly grantRetryBaseMs: number;
}

/** Time kept back from the Lambda timeout so a failure can still be reported to CloudFormation. */
export const LAMBDA_SAFETY_MARGIN_MS = 5_000;

/** Reads the configuration from the environment, falling back to production defaults. */
export function loadConfig(env: Record<string, string | undefined> = process.env): HandlerConfig {
  return {
    httpTimeoutMs: positiveInt(env.AEP_HTTP_TIMEOUT_MS, 15_000),
    retryBaseMs: positiveInt(env.AEP_RETRY_BASE_MS, 1_000),
    retryMaxAttempts: positiveInt(env.AEP_RETRY_MAX_ATTEMPTS, 5),
    deadlineMs: positiveInt(env.AEP_DEADLINE_MS, 120_000),
    keyProbeDeadlineMs: positiveInt(env.AWS_KEY_PROBE_DEADLINE_MS, 120_000),
    keyProbeIntervalMs: positiveInt(env.AWS_KEY_PROBE_INTERVAL_MS, 500),
    grantPropagationMs: positiveInt(env.AWS_GRANT_PROPAGATION_MS, 30_000),
    grantRetryBaseMs: positiveInt(env.AWS_GRANT_RETRY_BASE_MS, 250),
  };
}

function positiveInt(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return raw !== undefined && raw !== '' && Number.isInteger(value) && value > 0 ? value : fallback;
}

/** The parts of the Lambda context the handler uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/** What one invocation knows about its time budget. */
export interface Invocation {
  readonly config: HandlerConfig;
  /** Epoch ms after which no new attempt may start (Lambda timeout minus a margin). */
  readonly deadline: number;
}

/** Builds the invocation budget, clamped to the Lambda's remaining time when a context is given. */
export function startInvocation(context?: LambdaContext, config: HandlerConfig = loadConfig()): Invocation {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function'
    ? context.getRemainingTimeInMillis() - LAMBDA_SAFETY_MARGIN_MS
    : Number.POSITIVE_INFINITY;
  return { config, deadline: Date.now() + Math.max(0, remaining) };
}

/** The deadline of one operation that may spend up to `budgetMs`, never past the invocation's. */
export function operationDeadline(invocation: Invocation, budgetMs: number): number {
  return Math.min(Date.now() + budgetMs, invocation.deadline);
}
