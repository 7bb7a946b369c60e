/**
 * Fault injection for the AEP stand-in: the failure modes a custom-resource handler must survive
 * (throttling, 5xx, slow responses, dropped sockets, garbage bodies, expired tokens).
 */

/** What an injected fault does to a matching request. */
export type FaultKind = 'status' | 'delay' | 'reset' | 'malformed' | 'expiredToken' | 'timeout' | 'eventual';

/**
 * Whether and when a faulted request changes the stand-in's state (see {@link FaultSpec.apply}).
 * - `never`: the request is dropped; nothing changes.
 * - `now`: the request is handled in full first (gateway checks, validation, a fresh id for a
 *   create, the write), its real response is discarded, and then the fault answers. This is a
 *   gateway or network failure *after* the backend committed: the client sees an error but the
 *   object exists.
 * - `later`: the fault answers now and the request is handled {@link FaultSpec.applyAfterMs}
 *   later, as if it arrived then (same headers and body; gateway checks, validation and id
 *   assignment happen at that moment; a rejection lands in `validationFailures`). This is a
 *   backend that queued the write: the object appears after the client already saw the error.
 */
export type FaultApplication = 'never' | 'now' | 'later';

/** Which requests a fault applies to. Omitted fields match anything. */
export interface FaultMatch {
  /** HTTP method, case-insensitive. */
  readonly method?: string;
  /**
   * A string matches the request path exactly, either in full (`/ims/token/v3`) or relative to the
   * Flow Service base (`/connections`); a trailing slash is ignored. A RegExp is tested against
   * the full path (e.g. `/\/connections\/[^/]+$/`). The query string is never part of the path.
   */
  readonly path?: string | RegExp;
}

/** A fault to inject; see {@link FaultKind} for what each kind does. */
export interface FaultSpec {
  readonly match?: FaultMatch;
  /** How many matching requests it applies to (default 1). */
  readonly times?: number;
  /**
   * - `status`: respond with `status` (+ `Retry-After` if `retryAfterSeconds`) and a JSON error
   *   body (`body`, or a Flow-Service-style default). Applied per {@link apply} (default `never`).
   * - `delay`: wait `delayMs`, then handle the request normally. The request IS applied even if
   *   the client gave up meanwhile, exactly like a slow real server; this is the case that makes
   *   "adopt what a timed-out create made" necessary. Takes no `apply`.
   * - `reset`: destroy the socket without any response. Applied per {@link apply} (default `never`).
   * - `malformed`: `200` with a truncated JSON body. Applied per {@link apply} (default `never`).
   * - `expiredToken`: `401` gateway error and every issued IMS token becomes invalid; never
   *   applied (the gateway rejects before the backend sees it). Takes no `apply`.
   * - `timeout`: never answer; the socket stays open until the client gives up (or the stand-in
   *   closes or resets). Applied per {@link apply} (default `never`).
   * - `eventual`: handled normally now (a create gets its id and `201`), but a created resource
   *   stays invisible to `GET` by id, lists, `PATCH`, `DELETE` and as a `baseConnectionId` for
   *   `visibleAfterMs` (Flow Service reads are eventually consistent). Only creates lag; any other
   *   matching request is handled normally (the fault is still consumed). Takes no `apply`.
   */
  readonly kind: FaultKind;
  /** HTTP status for kind `status` (required there), e.g. 429, 502, 504. */
  readonly status?: number;
  readonly retryAfterSeconds?: number;
  /** Error body for kind `status`. */
  readonly body?: unknown;
  /** For kind `delay` (required there): how long the response (and the write) is held back. */
  readonly delayMs?: number;
  /**
   * For kinds `status`, `reset`, `malformed`, `timeout`: whether and when the request takes
   * effect despite the fault (default `never`); see {@link FaultApplication}.
   */
  readonly apply?: FaultApplication;
  /** With `apply: 'later'` (required there): milliseconds after the fault answered. */
  readonly applyAfterMs?: number;
  /** For kind `eventual` (required there): how long a created resource stays invisible to reads. */
  readonly visibleAfterMs?: number;
}

/** Kinds whose request may be applied despite the fault (see {@link FaultSpec.apply}). */
const APPLICABLE_KINDS: ReadonlySet<FaultKind> = new Set(['status', 'reset', 'malformed', 'timeout']);

interface ActiveFault {
  readonly spec: FaultSpec;
  remaining: number;
}

/** A queue of pending faults; the first pending fault that matches a request is consumed. */
export class FaultInjector {
  private readonly active: ActiveFault[] = [];

  constructor(private readonly servicePrefix: string) {}

  /** Adds a fault for the next `spec.times` (default 1) matching requests. */
  public inject(spec: FaultSpec): void {
    if (spec.kind === 'status' && spec.status === undefined) {
      throw new Error("FaultSpec of kind 'status' needs a status");
    }
    if (spec.kind === 'delay' && !isDuration(spec.delayMs)) {
      throw new Error("FaultSpec of kind 'delay' needs delayMs >= 0");
    }
    if (spec.kind === 'eventual' && !isDuration(spec.visibleAfterMs)) {
      throw new Error("FaultSpec of kind 'eventual' needs visibleAfterMs >= 0");
    }
    if (spec.visibleAfterMs !== undefined && spec.kind !== 'eventual') {
      throw new Error("visibleAfterMs only applies to FaultSpec kind 'eventual'");
    }
    if (spec.apply !== undefined && spec.apply !== 'never' && !APPLICABLE_KINDS.has(spec.kind)) {
      throw new Error(`FaultSpec kind '${spec.kind}' takes no apply (only ${[...APPLICABLE_KINDS].join(', ')} do)`);
    }
    if (spec.apply === 'later' && !isDuration(spec.applyAfterMs)) {
      throw new Error("FaultSpec with apply 'later' needs applyAfterMs >= 0");
    }
    if (spec.applyAfterMs !== undefined && spec.apply !== 'later') {
      throw new Error("applyAfterMs only applies with apply 'later'");
    }
    this.active.push({ spec, remaining: spec.times ?? 1 });
  }

  /** Drops every pending fault. */
  public clear(): void {
    this.active.length = 0;
  }

  /** Number of fault applications still pending (lets tests assert a fault was consumed). */
  public get pending(): number {
    return this.active.reduce((sum, fault) => sum + fault.remaining, 0);
  }

  /** Consumes and returns the fault for this request, if any. */
  public take(method: string, path: string): FaultSpec | undefined {
    const index = this.active.findIndex((fault) => this.matches(fault.spec.match, method, path));
    if (index < 0) {
      return undefined;
    }
    const fault = this.active[index];
    fault.remaining -= 1;
    if (fault.remaining <= 0) {
      this.active.splice(index, 1);
    }
    return fault.spec;
  }

  private matches(match: FaultMatch | undefined, method: string, path: string): boolean {
    if (match?.method && match.method.toUpperCase() !== method.toUpperCase()) {
      return false;
    }
    const wanted = match?.path;
    if (wanted === undefined) {
      return true;
    }
    if (wanted instanceof RegExp) {
      return wanted.test(path);
    }
    const strip = (p: string) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);
    const full = strip(path);
    const relative = full.startsWith(this.servicePrefix) ? full.slice(this.servicePrefix.length) : undefined;
    return strip(wanted) === full || strip(wanted) === relative;
  }
}

function isDuration(value: number | undefined): boolean {
  return value !== undefined && Number.isFinite(value) && value >= 0;
}
