import { flowServiceFailure } from './failures';
import { liveFlows } from './live-flows';
import type { DoctorCheck } from './types';

/** At most this many disabled flows get their runs read (one request each): the cost stays bounded. */
export const MAX_RUN_READS = 20;

/** A run's status, case-insensitive ([spec-dst] `Failed`, examples `failed`). */
const status = (run: Record<string, unknown>) => String((run.metrics as { statusSummary?: { status?: unknown } } | undefined)?.statusSummary?.status ?? '').toLowerCase();

/**
 * Flows a live stack declares that AEP shows `disabled`. AEP disables a source dataflow that
 * failed continuously for 30 days (Adobe release notes, June 2026); its runs say why. A disabled flow whose last run failed is
 * a problem with AEP's reason; one with no failed last run is a warning (the stack may set
 * `enabled: false`; the doctor does not read templates). Cost: 0 requests when every flow is
 * enabled, else 1 `GET /runs` per disabled flow (at most {@link MAX_RUN_READS}).
 */
export const disabledDataflows: DoctorCheck = {
  id: 'disabled-dataflows',
  title: 'dataflows a live stack declares that AEP shows disabled, with the reason from their runs',
  async run(ctx) {
    if (!ctx.sandbox) return;
    const flows = liveFlows(ctx);
    const disabled = flows.filter((f) => f.flow.state === 'disabled');
    if (flows.length > 0 && disabled.length === 0) {
      ctx.add('dataflows-enabled', 'ok', `the ${flows.length} dataflow(s) of live stacks are enabled in AEP`);
    }
    for (const [index, { item, flow, kind }] of disabled.entries()) {
      const label = `${kind} dataflow ${flow.id} (${item.logicalId} of stack ${item.stackName})`;
      const enable = `fix the cause, then re-enable it: AEP UI Dataflows > ${flow.id} > Enable, or POST /flows/${flow.id}/action?op=enable`;
      if (index >= MAX_RUN_READS) {
        ctx.add(`disabled-${flow.id}`, 'warning', `${label} is disabled in AEP (runs not read: more than ${MAX_RUN_READS} disabled flows)`, { action: enable });
        continue;
      }
      let runs: Array<Record<string, unknown>>;
      try {
        const res = await ctx.aep('GET', '/runs', { query: [['property', `flowId==${flow.id}`]] });
        runs = ((res.data as { items?: unknown[] } | undefined)?.items ?? []).filter((r): r is Record<string, unknown> => !!r && typeof r === 'object');
      } catch (err) {
        flowServiceFailure(err, ctx.add, `disabled-${flow.id}`, `read the runs of disabled ${label} (GET /runs)`, ctx.options.sandbox, ctx.options.flowServiceUrl);
        continue;
      }
      runs.sort((a, b) => Number(b.createdAt ?? 0) - Number(a.createdAt ?? 0));
      const last = runs[0];
      const failed = runs.filter((r) => status(r) === 'failed');
      const evidence = [
        `flow ${flow.id} state disabled${flow.updatedAt ? ` (updated ${new Date(Number(flow.updatedAt)).toISOString()})` : ''}`,
        `${runs.length} run(s) read, ${failed.length} failed${last ? `; last run ${String(last.id)} ${status(last) || 'without status'} at ${new Date(Number(last.createdAt)).toISOString()}` : ''}`,
      ];
      if (last && status(last) === 'failed') {
        const reason = reasonOf(last);
        ctx.add(`disabled-${flow.id}`, 'problem', `${label} is declared by a live stack but AEP disabled it after failed runs `
          + `(${failed.length} of the last ${runs.length} failed${reason ? `; AEP says: ${reason}` : ''}). Nothing moves until it is re-enabled: ${enable}`,
        { evidence, action: enable });
      } else {
        ctx.add(`disabled-${flow.id}`, 'warning', `${label} is disabled in AEP${last ? '' : ' and has no runs'}: if its stack sets enabled: false this is expected; `
          + `otherwise it was disabled outside the stack: ${enable}`, { evidence, action: enable });
      }
    }
  },
};

/** AEP's own words for a failed run: `statusSummary.errors[]` ([spec-dst] `Info`: code, message). */
function reasonOf(run: Record<string, unknown>): string | undefined {
  const errors = (run.metrics as { statusSummary?: { errors?: unknown } } | undefined)?.statusSummary?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  return errors.slice(0, 3).map((e) => {
    const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
    return [code, message].filter((v) => typeof v === 'string' && v).join(' ').slice(0, 300);
  }).filter(Boolean).join('; ') || undefined;
}
