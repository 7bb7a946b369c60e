import type { FlowItem } from './flow-resource';
import { log } from '../../plumbing/log';
import { DataflowIds } from '../../private/contract';

/** A dataset export within this many days of its endTime is reported as near its end. */
export const END_TIME_NOTICE_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * AEP's reason when AEP itself disabled a flow, or undefined when nothing says AEP did.
 *
 * Where AEP puts it is a guess (README guesses table): no Adobe source shows a flow AEP disabled
 * (API-NOTES §10, June 2026). The flow's `lastOperation` (flow-service.yaml `FlowItemDTO`) is
 * read: a `disable` whose `status.errors[]` (`{code, message}`, as destinations.yaml shows
 * `lastOperation.status`) carry a message. A disable a person made carries no error.
 */
export function aepDisableReason(flow: FlowItem): string | undefined {
  const op = flow.lastOperation as { operation?: unknown; status?: { errors?: unknown } } | undefined;
  if (!op || typeof op !== 'object' || String(op.operation).toLowerCase() !== 'disable') return undefined;
  const errors = Array.isArray(op.status?.errors) ? op.status.errors : [];
  const messages = errors
    .map((e: unknown) => (e && typeof e === 'object' ? (e as { message?: unknown; code?: unknown }) : {}))
    .filter((e) => typeof e.message === 'string' && e.message.trim() !== '')
    .map((e) => (typeof e.code === 'string' && e.code ? `${e.message} (${e.code})` : String(e.message)));
  return messages.length ? messages.join('; ') : undefined;
}

/** What the stack declares about the flow, as the Update's properties say. */
export interface DeclaredFlow {
  readonly enabled: boolean;
  /** Whether an Update may enable again a flow AEP disabled itself. */
  readonly reEnableWhenDisabledByAep: boolean;
}

/** What an Update does about what AEP changed on its own. */
export interface AepDriftDecision {
  /** The state the Update should leave the flow in (`enabled` / `disabled`). */
  readonly enabled: boolean;
  /** One line for the log and the resource's `Data` (no secret: AEP's own text and dates), or undefined. */
  readonly notice?: string;
}

/**
 * Drift AEP causes, judged on every Update of a flow (issue #16 §2):
 *
 * - declared enabled, read disabled with AEP's reason: reported; enabled again only when the
 *   stack opts in (re-enabling a flow whose cause is not fixed only fails again for 30 days);
 * - declared enabled, read disabled without a reason (a person disabled it): enabled again as
 *   every other drift is, and reported;
 * - a dataset export past its `endTime` (exports nothing any more), or within
 *   {@link END_TIME_NOTICE_DAYS} days of it: reported.
 */
export function judgeAepDrift(current: FlowItem, declared: DeclaredFlow, now: number = Date.now()): AepDriftDecision {
  const notices: string[] = [];
  let enabled = declared.enabled;
  if (declared.enabled && current.state === 'disabled') {
    const reason = aepDisableReason(current);
    if (reason && !declared.reEnableWhenDisabledByAep) {
      enabled = false;
      notices.push(`AEP disabled this dataflow (${reason}); it stays disabled: fix the cause, then enable it in AEP or deploy with reEnableWhenDisabledByAep: true`);
    } else if (reason) {
      notices.push(`AEP disabled this dataflow (${reason}); enabled again on deploy (reEnableWhenDisabledByAep)`);
    } else {
      notices.push('this dataflow was disabled outside the stack; enabled again on deploy as the stack declares');
    }
  }
  const end = datasetEndTime(current);
  if (end !== undefined) {
    const iso = new Date(end).toISOString();
    if (end <= now) {
      notices.push(`this dataset export ended at its endTime ${iso} and exports nothing any more: set a later schedule endTime`);
    } else if (end - now <= END_TIME_NOTICE_DAYS * DAY_MS) {
      notices.push(`this dataset export stops at its endTime ${iso} (in ${Math.ceil((end - now) / DAY_MS)} days): set a later schedule endTime to keep it running`);
    }
  }
  const notice = notices.length ? notices.join('. ') : undefined;
  if (notice) log('warn', 'AEP changed this dataflow on its own', { id: current.id, notice });
  return { enabled, notice };
}

/** A dataset export flow's `scheduleParams.endTime` (epoch seconds, [spec-dst]) in ms, or undefined. */
function datasetEndTime(flow: FlowItem): number | undefined {
  const spec = (flow.flowSpec as { id?: unknown } | undefined)?.id;
  if (spec !== DataflowIds.S3_DATASET_FLOW_SPEC) return undefined;
  const raw = (flow.scheduleParams as { endTime?: unknown } | undefined)?.endTime;
  const seconds = Number(raw);
  return raw !== undefined && raw !== null && raw !== '' && Number.isFinite(seconds) ? seconds * 1000 : undefined;
}
