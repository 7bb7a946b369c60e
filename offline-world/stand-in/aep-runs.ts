/**
 * Flow runs of the AEP stand-in (DATAFLOWS §3.9, §4.10) and AEP's June-2026 rule that a source
 * dataflow whose runs failed continuously for 30 days is disabled (API-NOTES §10).
 *
 * Runs are what AEP's scheduler produces; tests add them ({@link AepRuns.add}) with a status, file
 * and record counts and a start time on the world clock. The world clock is real time plus an
 * offset a test advances ({@link AepRuns.advanceClock}); AEP applies the 30-day rule whenever
 * the clock moves or a run is recorded (AEP's own cadence is unpublished: at the latest, on the
 * day the 30 days are reached).
 *
 * `GET /runs` answers with Flow Service's list semantics (aep-store.ts): `property` filters
 * (repeated = AND, comma = OR) on the run properties the docs name, `orderby`, `limit` ≤ 100
 * with `continuationToken` paging, `count` (refused together with `limit`, `1401-400`).
 */
import { randomUUID } from 'node:crypto';
import { newEtag, ResourceStore, type StampedItem, type StoredResource } from './aep-store';
import { DataflowIds } from '../../src/private/contract';

/** Days of continuous failure after which AEP disables a source dataflow (API-NOTES §10, June 2026). */
export const AUTO_DISABLE_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * Where the stand-in puts AEP's reason on a flow it disabled: the flow's `lastOperation`
 * (flow-service.yaml `FlowItemDTO.lastOperation`; destinations.yaml shows it with `status.value`
 * and `status.errors[]` of `{code, message}`). GUESS: no Adobe source shows a flow AEP disabled;
 * the README's guesses table says so.
 */
export const AUTO_DISABLE_REASON = {
  code: 'FLOW-AUTO-DISABLED',
  message: `Dataflow disabled by Adobe Experience Platform: its runs failed continuously for ${AUTO_DISABLE_DAYS} days. Fix the cause and enable the dataflow again.`,
};
/** Who AEP's own changes are by (the `updatedBy` of runs in DATAFLOWS §4.10). */
export const AEP_SYSTEM_USER = 'acp_foundation_connectors@AdobeID';

/** A run as stored (FlowRunItemDTO + `metrics`, DATAFLOWS §3.9). */
export interface StoredRun extends StampedItem {
  flowId: string;
  flowSpec: { id: string; version: string };
  metrics: {
    durationSummary: { startedAtUTC: number; completedAtUTC?: number };
    recordSummary: { inputRecordCount: number; outputRecordCount: number; failedRecordCount: number };
    fileSummary: { inputFileCount: number; outputFileCount: number };
    statusSummary: { status: string; errors?: Array<{ code: string; message: string }> };
  };
}

/** What a test says about a run. */
export interface RunInput {
  /** `Success`, `Failed`, `Processing` ([spec-dst] enum) or the docs' lower case. */
  readonly status: string;
  /** @default 1 when the run succeeded, else 0 */
  readonly files?: number;
  /** @default 10 per file */
  readonly records?: number;
  /** Start on the world clock (epoch ms). @default now */
  readonly startedAt?: number;
  /** AEP's reasons ([spec-dst] `StatusSummary.errors[]` of `Info` {code, message}). @default one access-denied error on a failed run */
  readonly errors?: Array<{ code: string; message: string }>;
}

/** The flow fields the runs module reads and the one change it makes (disable). */
export interface RunsHost {
  flows(): Array<StoredResource & { flowSpec: { id: string; version: string } }>;
  putFlow(flow: StoredResource): void;
}

/** Filterable run properties (DATAFLOWS §3.9: id, flowId, state, status, start window; createdAt for ordering). */
const RUN_FILTERS = ['id', 'flowId', 'state', 'metrics.statusSummary.status', 'metrics.durationSummary.startedAtUTC', 'createdAt'];

/** Runs of every flow, the world clock and the auto-disable rule. */
export class AepRuns {
  /** Flow Service list semantics; runs are no connections, so the store is typed loosely. */
  private readonly store = new ResourceStore<StoredResource>(RUN_FILTERS);
  private offsetMs = 0;

  /** The start given to the last run recorded without one. */
  private lastDefaultStart = 0;

  constructor(private readonly host: RunsHost) {}

  /** Now on the world clock (epoch ms). */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves the world clock forward; AEP then applies its rules. */
  advanceClock(ms: number): void {
    if (!(ms >= 0)) throw new Error('the world clock only moves forward');
    this.offsetMs += ms;
    this.applyAutoDisable();
  }

  clear(): void {
    this.store.clear();
    this.offsetMs = 0;
    this.lastDefaultStart = 0;
  }

  /** Every run, oldest first (test accessor). */
  all(): StoredRun[] {
    return this.store.all() as unknown as StoredRun[];
  }

  /** Records a run of an existing flow (what AEP's scheduler would do). */
  add(flowId: string, input: RunInput): StoredRun {
    const flow = this.host.flows().find((f) => f.id === flowId);
    if (!flow) throw new Error(`no flow ${flowId} to add a run to`);
    // Runs recorded one after another without a time start one after another (never in the same ms).
    const started = input.startedAt ?? Math.max(this.now(), this.lastDefaultStart + 1);
    if (input.startedAt === undefined) this.lastDefaultStart = started;
    const ok = /^success$/i.test(input.status);
    const files = input.files ?? (ok ? 1 : 0);
    const records = input.records ?? files * 10;
    const failed = /^failed$/i.test(input.status);
    const run: StoredRun = {
      id: randomUUID(),
      flowId,
      flowSpec: { ...flow.flowSpec },
      createdAt: started,
      updatedAt: started + 60_000,
      createdBy: AEP_SYSTEM_USER,
      updatedBy: AEP_SYSTEM_USER,
      createdClient: 'acp_foundation_connectors',
      updatedClient: 'acp_foundation_connectors',
      sandboxId: flow.sandboxId,
      sandboxName: flow.sandboxName,
      imsOrgId: flow.imsOrgId,
      etag: newEtag(),
      metrics: {
        durationSummary: /^processing$/i.test(input.status) ? { startedAtUTC: started } : { startedAtUTC: started, completedAtUTC: started + 60_000 },
        recordSummary: { inputRecordCount: records, outputRecordCount: failed ? 0 : records, failedRecordCount: failed ? records : 0 },
        fileSummary: { inputFileCount: files, outputFileCount: failed ? 0 : files },
        statusSummary: failed
          ? { status: input.status, errors: input.errors ?? [{ code: 'CONNECTOR-2001-500', message: 'Access denied reading the source path' }] }
          : input.errors ? { status: input.status, errors: input.errors } : { status: input.status },
      },
    };
    this.store.put(run as unknown as StoredResource);
    this.applyAutoDisable();
    return run;
  }

  /** `GET /runs` ({@link ResourceStore.list} semantics, every sandbox's runs kept apart). */
  list(sandbox: string, query: URLSearchParams, selfUrl: string): ReturnType<ResourceStore<StoredResource>['list']> {
    return this.store.list(sandbox, query, selfUrl);
  }

  /**
   * AEP's June-2026 rule: an enabled source flow (`CloudStorageToAEP`) whose runs have all failed
   * since a failure at least {@link AUTO_DISABLE_DAYS} days ago is disabled, with its reason.
   * Destination flows are not covered by the release note.
   */
  private applyAutoDisable(): void {
    const now = this.now();
    for (const flow of this.host.flows()) {
      if (flow.state !== 'enabled' || flow.flowSpec.id !== DataflowIds.CLOUD_STORAGE_FLOW_SPEC) continue;
      const runs = this.all().filter((r) => r.flowId === flow.id && r.metrics.durationSummary.startedAtUTC <= now)
        .sort((a, b) => a.metrics.durationSummary.startedAtUTC - b.metrics.durationSummary.startedAtUTC);
      let streakStart: number | undefined;
      for (const run of runs) {
        const failed = /^failed$/i.test(run.metrics.statusSummary.status);
        if (failed && streakStart === undefined) streakStart = run.metrics.durationSummary.startedAtUTC;
        if (!failed && !/^processing$/i.test(run.metrics.statusSummary.status)) streakStart = undefined;
      }
      if (streakStart === undefined || now - streakStart < AUTO_DISABLE_DAYS * DAY_MS) continue;
      const etag = newEtag();
      this.host.putFlow({
        ...flow,
        state: 'disabled',
        etag,
        version: etag,
        updatedAt: now,
        updatedBy: AEP_SYSTEM_USER,
        updatedClient: 'acp_foundation_connectors',
        lastOperation: {
          started: now,
          updated: now,
          operation: 'disable',
          status: { value: 'completed', errors: [{ ...AUTO_DISABLE_REASON }] },
        },
      });
    }
  }
}
