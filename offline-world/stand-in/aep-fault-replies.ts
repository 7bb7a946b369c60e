/**
 * How the AEP stand-in answers a request an injected fault hit (faults.ts; API-NOTES §7 on
 * retries): a delay, an expired token, an `eventual` create, or a status, reset, malformed body
 * or no answer at all, with the request itself applied never, now or later.
 */
import * as http from 'node:http';
import type { Exchange } from './aep-exchange';
import type { FaultSpec } from './faults';
import { send } from './http';

/** The parts of `AepStandIn` fault answers use. */
export interface FaultHost {
  /** Handles the request as if no fault had hit it. */
  route(ex: Exchange): void;
  defer(ms: number, work: () => void, cancel?: () => void): void;
  reply(ex: Exchange, status: number, body: unknown, headers?: Record<string, string>): void;
  writeLog(line: string): void;
  expireAllTokens(): void;
  /** Keeps a response open until the client or the stand-in closes it (`timeout`). */
  hold(res: http.ServerResponse): void;
}

/** What the `malformed` fault sends: JSON cut off mid-way. */
const MALFORMED_BODY = '{"items": [';

export function applyFault(host: FaultHost, ex: Exchange, fault: FaultSpec): void {
  switch (fault.kind) {
    case 'delay':
      // A client that gave up does not stop the server: the write still happens.
      host.defer(fault.delayMs!, () => host.route(ex), () => ex.res.destroy());
      return;
    case 'expiredToken':
      host.expireAllTokens();
      host.reply(ex, 401, { error_code: '401013', message: 'Oauth token is not valid' });
      return;
    case 'eventual':
      host.route({ ...ex, visibleAfterMs: fault.visibleAfterMs });
      return;
    default:
      break;
  }
  const apply = fault.apply ?? 'never';
  if (apply === 'now') {
    host.route({ ...ex, discard: true });
  } else if (apply === 'later') {
    host.defer(fault.applyAfterMs!, () => host.route({ ...ex, discard: true }));
  }
  const applied = apply === 'never' ? '' : `, request applied ${apply}`;
  switch (fault.kind) {
    case 'status': {
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      const body = fault.body ?? { errorCode: `${fault.status}`, errorMessage: 'Injected fault', title: http.STATUS_CODES[fault.status!] };
      host.reply(ex, fault.status!, body, headers);
      return;
    }
    case 'reset':
      host.writeLog(`[aep] ${ex.record.method} ${ex.record.path} -> socket reset (fault${applied})`);
      ex.req.socket.destroy();
      return;
    case 'malformed':
      ex.record.status = 200;
      ex.record.response = MALFORMED_BODY;
      host.writeLog(`[aep] ${ex.record.method} ${ex.record.path} -> 200 malformed body (fault${applied})`);
      send(ex.res, 200, MALFORMED_BODY, { 'content-type': 'application/json' });
      return;
    case 'timeout':
      // No response at all: the client's own timeout is the only way out of this request.
      host.writeLog(`[aep] ${ex.record.method} ${ex.record.path} -> no response (timeout fault${applied})`);
      host.hold(ex.res);
      return;
  }
}
