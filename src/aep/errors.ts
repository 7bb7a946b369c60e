// Inlined into the Lambda bundle by esbuild; the lint allow-list for bundled dev dependencies names only the entry file.
// eslint-disable-next-line import/no-extraneous-dependencies
import { isNetworkError } from 'axios-retry';
import { redact } from '../plumbing/log';
import type { RetryVerdict } from '../plumbing/retry';

/** Longest AEP message kept in an error (bodies can be whole HTML pages). */
const MAX_DETAIL_LENGTH = 500;

/**
 * A failed AEP (Flow Service or IMS) call: HTTP status, AEP's error code and message, and the
 * operation. Deliberately never carries the request body, headers or token; the message is
 * redacted at construction so it is safe to log and to hand to CloudFormation.
 */
export class AepError extends Error {
  /**
   * @param operation e.g. `POST /connections`
   * @param status HTTP status, undefined when no response arrived (network error, timeout)
   * @param code AEP's error code when the body has one (e.g. `401013`, `1404-412`)
   * @param detail AEP's message, or the network error
   * @param retryable whether another attempt may succeed (429, 5xx, network, malformed body)
   * @param retryAfterMs server-requested wait before the next attempt
   */
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    readonly detail: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(redact(`AEP ${operation} failed: ${status === undefined ? 'no response' : `HTTP ${status}`}${code ? ` [${code}]` : ''}: ${detail}`));
    this.name = 'AepError';
  }
}

/** Retry verdict for AEP calls: only errors the server or network marked as transient. */
export function classifyAepError(err: unknown): RetryVerdict {
  return err instanceof AepError
    ? { retryable: err.retryable, retryAfterMs: err.retryAfterMs }
    : { retryable: false };
}

/** True when `err` is an {@link AepError} with the given HTTP status. */
export function hasStatus(err: unknown, ...statuses: number[]): err is AepError {
  return err instanceof AepError && err.status !== undefined && statuses.includes(err.status);
}

/** Whether a response status is worth retrying (API-NOTES §3.6: 429 and 5xx, never other 4xx). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Builds an {@link AepError} from a non-2xx response. */
export function errorFromResponse(
  operation: string,
  status: number,
  body: unknown,
  headers: Record<string, unknown>,
): AepError {
  const { code, message } = parseErrorBody(body);
  return new AepError(
    operation,
    status,
    code,
    message ?? `HTTP ${status}`,
    isRetryableStatus(status),
    parseRetryAfter(headers['retry-after']),
  );
}

/**
 * Builds an {@link AepError} from a request that got no response. Uses axios-retry's network
 * error test (which knows the codes not worth retrying, like DNS failures and TLS errors) and
 * adds timeouts, which axios-retry deliberately leaves out but a slow AEP gateway needs.
 */
export function errorFromNetwork(operation: string, err: unknown): AepError {
  const e = err as { code?: string; message?: string; response?: unknown; config?: unknown };
  const timedOut = e.code === 'ETIMEDOUT' || e.code === 'ECONNABORTED';
  const retryable = timedOut || isNetworkError(e as Parameters<typeof isNetworkError>[0]);
  const what = timedOut ? 'request timed out' : `network error ${e.code ?? ''}`.trim();
  return new AepError(operation, undefined, e.code, what, retryable);
}

/**
 * Pulls a code and message out of any of the error shapes AEP uses (API-NOTES §3.6):
 * gateway `{error_code, message}`, Flow Service `{errorCode?, errorMessage, errorDetails}`,
 * problem style `{title, detail}`, IMS `{error, error_description}`.
 */
export function parseErrorBody(body: unknown): { code?: string; message?: string } {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return { message: truncate(body.trim()) || undefined };
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const b = value as Record<string, unknown>;
  const code = firstString(b.error_code, b.errorCode, b.code, b.error);
  const details = b.errorDetails === undefined ? undefined
    : typeof b.errorDetails === 'string' ? b.errorDetails : JSON.stringify(b.errorDetails);
  const message = firstString(
    join(b.errorMessage, details),
    b.message,
    join(b.title, b.detail),
    b.error_description,
  );
  return { code, message: message === undefined ? undefined : truncate(message) };
}

/** `Retry-After` as ms: delta seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(raw: unknown): number | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function firstString(...values: unknown[]): string | undefined {
  for (const v of values) {
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

function join(a: unknown, b: unknown): string | undefined {
  const parts = [a, b].filter((p): p is string => typeof p === 'string' && p !== '');
  return parts.length ? parts.join(': ') : undefined;
}

/**
 * Redacts, THEN truncates: a cut made first could split a secret, and the half before the cut
 * would no longer match the redactor and would leak.
 */
function truncate(text: string): string {
  const safe = redact(text);
  return safe.length > MAX_DETAIL_LENGTH ? `${safe.slice(0, MAX_DETAIL_LENGTH)}…` : safe;
}
