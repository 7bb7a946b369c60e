/**
 * One request as the AEP stand-in handles it: the exchange threaded through routing, faults and
 * replies, and the redacted body it records (no secret reaches `requests`, API-NOTES §1).
 */
import type * as http from 'node:http';
import type { RecordedRequest } from './aep-options';
import type { ContractCheck } from './contract-check';
import { mediaType } from './http';
import { redactDeep } from './redact';

/** Per-request state threaded through the handlers. */
export interface Exchange {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly url: URL;
  readonly rawBody: string;
  readonly record: RecordedRequest;
  /** Handle the request but send nothing: the response goes to `record.applied` (applied faults). */
  readonly discard?: boolean;
  /** Hide what a create makes from reads for this long (`eventual` fault). */
  readonly visibleAfterMs?: number;
  /** The spec operation the request matched, for judging the response (contract-check.ts). */
  readonly contract?: ReturnType<ContractCheck['checkRequest']>;
}

/** The body as it may be recorded: parsed (JSON or form) and redacted; never raw text. */
export function recordableBody(req: http.IncomingMessage, raw: string): unknown {
  if (!raw) {
    return undefined;
  }
  if (mediaType(req) === 'application/x-www-form-urlencoded') {
    return redactDeep(Object.fromEntries(new URLSearchParams(raw)));
  }
  try {
    return redactDeep(JSON.parse(raw));
  } catch {
    return `<unparseable body, ${Buffer.byteLength(raw)} bytes>`;
  }
}
