import { aepDisableReason } from './aep-drift';
import { getItem } from './flow-resource';
import { AepClient } from '../../aep/aep-client';
import type { Invocation } from '../../plumbing/config';
import { log, writeLine } from '../../plumbing/log';
import { optionalInt, optionalString, type RawProps, requireString } from '../../plumbing/props';
import { HealthEventKeys, HealthMetric } from '../../private/contract';

/**
 * Pages of runs read per check at most (100 runs each, [spec-dst] list limit): a flow with more
 * runs in its window than that is reported from its newest 300, and the log says so.
 */
export const MAX_RUN_PAGES = 3;
/**
 * Most Flow Service requests one check of one flow makes: the flow, the pages of runs in the
 * window, and the newest success when the window holds none.
 */
export const MAX_REQUESTS_PER_CHECK = 1 + MAX_RUN_PAGES + 1;
const PAGE_SIZE = 100;
const HOUR_MS = 3_600_000;
/** A window that EventBridge never sends (no time): one day back from now. */
const DEFAULT_WINDOW_SECONDS = 86_400;

/** A run as `GET /runs` returns it (the fields the check reads, DATAFLOWS §3.9). */
interface Run {
  readonly id?: string;
  readonly createdAt?: number;
  readonly metrics?: {
    readonly durationSummary?: { readonly startedAtUTC?: number; readonly completedAtUTC?: number };
    readonly recordSummary?: { readonly inputRecordCount?: number; readonly outputRecordCount?: number };
    readonly fileSummary?: { readonly inputFileCount?: number };
    readonly statusSummary?: { readonly status?: string };
  };
}

/** What one check found (also the metric values). */
export interface HealthReport {
  readonly flowId: string;
  readonly state: string;
  readonly failedRuns: number;
  readonly emptyRuns: number;
  readonly runsInWindow: number;
  /** Hours since the newest successful run ended (since the flow was created when none did). */
  readonly hoursSinceLastSuccess: number;
  /** 1 when the flow is disabled while the stack declares it enabled. */
  readonly disabled: 0 | 1;
  /** AEP's reason when AEP disabled the flow itself. */
  readonly aepReason?: string;
  /** Flow Service requests made. */
  readonly requests: number;
  /** True when the window held more runs than {@link MAX_RUN_PAGES} pages (counts are lower bounds). */
  readonly truncated: boolean;
}

// Status spelling differs between Adobe's spec enum (`Success`) and its examples (`success`): DATAFLOWS §3.9.
const statusIs = (run: Run, status: string) => (run.metrics?.statusSummary?.status ?? '').toLowerCase() === status;
const startOf = (run: Run) => run.metrics?.durationSummary?.startedAtUTC ?? run.createdAt ?? 0;

/**
 * A run that finished without failing yet moved nothing: no input file, or no record. Only the
 * counts AEP reports count (destination runs carry records, not always files).
 */
function isEmpty(run: Run): boolean {
  if (!statusIs(run, 'success')) return false;
  const files = run.metrics?.fileSummary?.inputFileCount;
  const records = run.metrics?.recordSummary?.inputRecordCount ?? run.metrics?.recordSummary?.outputRecordCount;
  return files === 0 || records === 0;
}

/**
 * One scheduled health check of one dataflow: reads the flow and its runs in the window
 * (bounded: {@link MAX_REQUESTS_PER_CHECK} Flow Service requests), emits one Embedded Metric
 * Format line with the four metrics (no CloudWatch API call, so no PutMetricData permission),
 * and logs what it found with AEP's reason when AEP disabled the flow.
 */
export async function checkDataflowHealth(event: RawProps, invocation: Invocation): Promise<HealthReport> {
  const flowId = requireString(event, HealthEventKeys.FLOW_ID);
  const declaredEnabled = optionalString(event, HealthEventKeys.DECLARED_ENABLED) !== 'false';
  const windowMs = (optionalInt(event, HealthEventKeys.RUNS_WINDOW_SECONDS) ?? DEFAULT_WINDOW_SECONDS) * 1000;
  const time = optionalString(event, HealthEventKeys.TIME);
  const parsed = time === undefined ? NaN : Date.parse(time);
  const now = Number.isFinite(parsed) ? parsed : Date.now();
  const client = await AepClient.fromProps(event, invocation);

  const flow = await getItem(client, '/flows', flowId);
  let requests = 1;
  const since = now - windowMs;
  const runs: Run[] = [];
  let query: Array<[string, string]> | undefined = [
    ['property', `flowId==${flowId}`],
    ['property', `metrics.durationSummary.startedAtUTC>${since}`],
    ['property', `metrics.durationSummary.startedAtUTC<=${now}`],
    ['orderby', '-createdAt'],
    ['limit', String(PAGE_SIZE)],
  ];
  let truncated = false;
  for (let page = 0; query; page++) {
    if (page === MAX_RUN_PAGES) {
      truncated = true;
      break;
    }
    const res = await client.request('GET', '/runs', { query });
    requests++;
    const body = res.data as { items?: Run[]; _links?: { next?: { href?: string } } } | undefined;
    runs.push(...(body?.items ?? []));
    const next = body?._links?.next?.href;
    const token = next ? new URL(next, 'http://x').searchParams.get('continuationToken') : null;
    query = token ? [...query.filter(([k]) => k !== 'continuationToken'), ['continuationToken', token]] : undefined;
  }

  let lastSuccess = runs.filter((r) => statusIs(r, 'success')).map((r) => r.metrics?.durationSummary?.completedAtUTC ?? startOf(r)).sort((a, b) => b - a)[0];
  if (lastSuccess === undefined) {
    const res = await client.request('GET', '/runs', {
      query: [['property', `flowId==${flowId}`], ['property', 'metrics.statusSummary.status==Success,success'], ['orderby', '-createdAt'], ['limit', '1']],
    });
    requests++;
    const newest = ((res.data as { items?: Run[] } | undefined)?.items ?? [])[0];
    if (newest) lastSuccess = newest.metrics?.durationSummary?.completedAtUTC ?? startOf(newest);
  }
  const createdAt = typeof flow.createdAt === 'number' ? flow.createdAt : now;
  const hoursSinceLastSuccess = Math.max(0, Math.round(((now - (lastSuccess ?? createdAt)) / HOUR_MS) * 100) / 100);
  const disabled = flow.state === 'disabled' && declaredEnabled ? 1 : 0;
  const aepReason = flow.state === 'disabled' ? aepDisableReason(flow) : undefined;
  const report: HealthReport = {
    flowId,
    state: String(flow.state),
    failedRuns: runs.filter((r) => statusIs(r, 'failed')).length,
    emptyRuns: runs.filter(isEmpty).length,
    runsInWindow: runs.length,
    hoursSinceLastSuccess,
    disabled,
    ...(aepReason ? { aepReason } : {}),
    requests,
    truncated,
  };
  emitHealthMetrics(report, now);
  if (truncated) log('warn', `more runs in the window than ${MAX_RUN_PAGES} pages: counts are from the newest ${MAX_RUN_PAGES * PAGE_SIZE}`, { flowId });
  if (disabled) {
    log('warn', aepReason
      ? 'the dataflow was disabled by AEP while the stack declares it enabled; fix the cause, then enable it (or deploy with reEnableWhenDisabledByAep)'
      : 'the dataflow is disabled while the stack declares it enabled (disabled outside the stack); the next deploy enables it again',
    { flowId, aepReason });
  }
  log('info', 'dataflow health checked', { ...report });
  return report;
}

/** One Embedded Metric Format line: CloudWatch turns it into the four metrics at the check's time. */
function emitHealthMetrics(report: HealthReport, time: number): void {
  writeLine({
    _aws: {
      Timestamp: time,
      CloudWatchMetrics: [{
        Namespace: HealthMetric.NAMESPACE,
        Dimensions: [[HealthMetric.DIMENSION]],
        Metrics: [
          { Name: HealthMetric.FAILED_RUNS, Unit: 'Count' },
          { Name: HealthMetric.EMPTY_RUNS, Unit: 'Count' },
          { Name: HealthMetric.HOURS_SINCE_SUCCESS, Unit: 'None' },
          { Name: HealthMetric.DISABLED, Unit: 'Count' },
        ],
      }],
    },
    [HealthMetric.DIMENSION]: report.flowId,
    [HealthMetric.FAILED_RUNS]: report.failedRuns,
    [HealthMetric.EMPTY_RUNS]: report.emptyRuns,
    [HealthMetric.HOURS_SINCE_SUCCESS]: report.hoursSinceLastSuccess,
    [HealthMetric.DISABLED]: report.disabled,
  });
}
