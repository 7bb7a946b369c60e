/**
 * One request as the AEP stand-in handles it: the exchange threaded through routing, faults and
 * replies, the redacted body it records (no secret reaches `requests`), and the request handed to
 * the contract check of Adobe's specs (contract-check.ts, contract-governor.ts).
 */
import type * as http from 'node:http';
import { DATA_PREP_PATH } from './aep-data-prep';
import { FLOW_SERVICE_PATH, type RecordedRequest } from './aep-options';
import type { ContractCheck } from './contract-check';
import { governingSpec } from './contract-governor';
import { mediaType, queryObject } from './http';
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

/** The spec id of a stored object, by collection and id (which spec governs a request for it). */
export type SpecIdLookup = Parameters<typeof governingSpec>[4];

/** Hands the request to the contract check (Flow Service and Data Prep only; IMS has no spec here). */
export function judgeRequest(
  contract: ContractCheck | undefined, specIdOf: SpecIdLookup, req: http.IncomingMessage, url: URL, method: string, rawBody: string,
): Exchange['contract'] {
  const service = [FLOW_SERVICE_PATH, DATA_PREP_PATH].find((p) => url.pathname === p || url.pathname.startsWith(`${p}/`));
  if (!contract || !service) {
    return undefined;
  }
  let body: unknown;
  if (rawBody && mediaType(req) === 'application/json') {
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = rawBody;
    }
  }
  const rel = url.pathname.substring(service.length);
  const spec = governingSpec(service === FLOW_SERVICE_PATH ? 'flowservice' : 'conversion', rel, body, url.searchParams, specIdOf);
  return contract.checkRequest(spec, { method, path: url.pathname, query: queryObject(url.searchParams), headers: req.headers, body });
}
