/**
 * Fault injection for the AEP stand-in: the failure modes a custom-resource handler must survive
 * (throttling, 5xx, slow responses, dropped sockets, garbage bodies, expired tokens).
 */

/** What an injected fault does to a matching request. */
export type FaultKind = 'status' | 'delay' | 'reset' | 'malformed' | 'expiredToken';

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
   *   body (`body`, or a Flow-Service-style default); the request is NOT applied.
   * - `delay`: wait `delayMs`, then handle the request normally. The request IS applied even if
   *   the client gave up meanwhile, exactly like a slow real server; this is the case that makes
   *   "adopt what a timed-out create made" necessary.
   * - `reset`: destroy the socket without any response; the request is NOT applied.
   * - `malformed`: `200` with a truncated JSON body; the request is NOT applied.
   * - `expiredToken`: `401` gateway error and every issued IMS token becomes invalid.
   */
  readonly kind: FaultKind;
  readonly status?: number;
  readonly retryAfterSeconds?: number;
  readonly body?: unknown;
  readonly delayMs?: number;
}

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
    if (spec.kind === 'delay' && spec.delayMs === undefined) {
      throw new Error("FaultSpec of kind 'delay' needs delayMs");
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
