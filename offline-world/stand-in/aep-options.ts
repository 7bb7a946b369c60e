/**
 * What `AepStandIn.start` takes and what it records (API-NOTES §2: IMS credentials, org, the
 * Flow Service path), kept apart from the server so each AEP behaviour's file can name them.
 */
import type { ConnectionSpecVariant } from './aep-connection-specs';
import type { TargetConnectionPatch } from './aep-connections';
import type { FaultKind } from './faults';

/** Path prefix of Flow Service (API-NOTES §2.4). */
export const FLOW_SERVICE_PATH = '/data/foundation/flowservice';

/** Fixed test credentials the stand-in accepts unless told otherwise. */
export const DEFAULT_AEP_CREDENTIALS = {
  clientId: 'test-client-id',
  clientSecret: 'IMS-SECRET-do-not-leak-0001',
  orgId: 'TESTORG0123456789@AdobeOrg',
} as const;

/** Default answer of `GET /connectionSpecs/{source}/configs?authType=IamBasedAuthentication`. */
export const DEFAULT_AEP_IAM_ROLE_ARN = 'arn:aws:iam::123456789012:role/aep-ingest-va6';

/** Options of {@link AepStandIn.start}. */
export interface AepStandInOptions {
  /**
   * Folder with Adobe's `flow-service.yaml`, `destinations.yaml` and `data-prep.yaml`. Default:
   * `AEP_CONTRACTS_DIR`, else `../shared/contracts` beside the repository, else the cache
   * `npm run fetch-specs` fills (offline-world/specs.ts). When missing, `start` throws and names
   * that command, unless {@link allowMissingSpecs}.
   */
  readonly specDir?: string;
  /**
   * Start without Adobe's specs (warn once; connection-spec rules only). Only for tests of that
   * degraded mode: everything else must fail rather than validate nothing. Default false.
   */
  readonly allowMissingSpecs?: boolean;
  /** `expires_in` of issued tokens, seconds (default 86399, as IMS). */
  readonly tokenTtlSeconds?: number;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly orgId?: string;
  /** IAM role ARN returned by the configs endpoint (default {@link DEFAULT_AEP_IAM_ROLE_ARN}). */
  readonly iamRoleArn?: string;
  /** Receives one line per request and per rejection, secrets redacted (default: discard). */
  readonly log?: (line: string) => void;
  /** Port to bind on 127.0.0.1 (default 0 = ephemeral). */
  readonly port?: number;
  /** Documented variant of the S3 connection specs served and enforced (default: current docs). */
  readonly connectionSpecVariant?: ConnectionSpecVariant;
  /**
   * How long a destination flow outlives its `DELETE` (202 Accepted), still blocking its
   * connections with `1447-400`/`1418-400` (default `DEFAULT_FLOW_DELETE_DELAY_MS` of async-delete.ts; 0 = at once).
   * Changeable later through `dataflows.deletes.delayMs`.
   */
  readonly flowDeleteDelayMs?: number;
  /** Whether AEP takes `PATCH /targetConnections/{id}` (default `accepted`; see {@link TargetConnectionPatch}). */
  readonly targetConnectionPatch?: TargetConnectionPatch;
  /**
   * Time every request (IMS and Flow Service alike) waits before it is handled, ms: AEP's latency
   * over the internet, for measuring wall time (bench/bench.ts; default 0). Changeable later
   * through `AepStandIn.latencyMs`.
   */
  readonly latencyMs?: number;
}

/** One request as the stand-in saw it, with every secret redacted. */
export interface RecordedRequest {
  readonly method: string;
  /** URL path without the query string. */
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  /** Lower-case header names; `authorization` is reduced to its scheme. */
  readonly headers: Record<string, string>;
  /** Parsed JSON or form body with secret values redacted; undefined when empty. */
  readonly body: unknown;
  /** Status sent; 0 when no response was sent (socket reset, timeout fault, or the stand-in closed first). */
  status: number;
  /** Body sent to the client (parsed JSON, secret values redacted; raw text if not JSON); undefined when none. */
  response?: unknown;
  /** The injected fault that hit this request, if any. */
  fault?: FaultKind;
  /**
   * For a fault with `apply: 'now'` or `'later'`: the outcome of actually handling the request
   * (status and redacted body the client never saw). Unset until it was applied.
   */
  applied?: { status: number; body: unknown };
}

/** What the stand-in accepts as IMS credentials and org. */
export interface AepCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly orgId: string;
}
