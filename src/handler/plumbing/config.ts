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
  /** First backoff step of the AWS key probe (`AWS_KEY_PROBE_BASE_MS`, default 1 s). */
  readonly keyProbeBaseMs: number;
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
    keyProbeBaseMs: positiveInt(env.AWS_KEY_PROBE_BASE_MS, 1_000),
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
