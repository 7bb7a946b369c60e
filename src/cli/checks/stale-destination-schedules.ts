import { liveFlows } from './live-flows';
import type { DoctorCheck } from './types';
import { DataflowIds } from '../../private/contract';

const DAY_MS = 86_400_000;

/**
 * Dataset export flows of live stacks past or near the end of their schedule: AEP stops an export
 * at `scheduleParams.endTime`, and one created without it six months after its creation
 * (Adobe's dataset export tutorial). Past the end: problem; within `--warn-days` (default 30): warning. Cost: 0
 * requests (the listing holds the schedules).
 */
export const staleDestinationSchedules: DoctorCheck = {
  id: 'stale-destination-schedules',
  title: 'dataset exports of live stacks past or near their schedule endTime (six months after creation without one)',
  async run(ctx) {
    if (!ctx.sandbox) return;
    const exports = liveFlows(ctx).filter((f) => f.flowSpecId === DataflowIds.S3_DATASET_FLOW_SPEC);
    const warnDays = ctx.options.warnDays;
    let fine = 0;
    for (const { item, flow } of exports) {
      const schedule = (flow.scheduleParams ?? {}) as { endTime?: unknown };
      const declared = typeof schedule.endTime === 'number' && Number.isFinite(schedule.endTime);
      const created = Number(flow.createdAt);
      let endMs: number;
      if (declared) {
        endMs = (schedule.endTime as number) * 1000;
      } else if (Number.isFinite(created)) {
        const end = new Date(created);
        end.setUTCMonth(end.getUTCMonth() + 6);
        endMs = end.getTime();
      } else {
        ctx.add(`schedule-${flow.id}`, 'cannot-decide', `dataset export ${flow.id} (${item.logicalId} of stack ${item.stackName}) has neither an endTime nor a createdAt to count six months from`);
        continue;
      }
      const end = new Date(endMs).toISOString();
      const source = declared ? `scheduleParams.endTime ${schedule.endTime}` : `no endTime: createdAt ${new Date(created).toISOString()} + 6 months`;
      const label = `dataset export ${flow.id} (${item.logicalId} of stack ${item.stackName})`;
      const action = 'set a later schedule endTime on the DatasetExport (schedule.endTime) and redeploy: the handler patches scheduleParams in place';
      const daysLeft = Math.floor((endMs - ctx.now) / DAY_MS);
      if (endMs <= ctx.now) {
        ctx.add(`schedule-${flow.id}`, 'problem', `${label} stopped exporting at ${end} (${source}): ${action}`, { evidence: [source, `end ${end}`], action });
      } else if (daysLeft < warnDays) {
        ctx.add(`schedule-${flow.id}`, 'warning', `${label} stops exporting at ${end}, in ${daysLeft} day(s) (${source}): ${action}`, { evidence: [source, `end ${end}`], action });
      } else {
        fine += 1;
      }
    }
    if (fine > 0) ctx.add('schedules-ok', 'ok', `${fine} dataset export(s) of live stacks run for more than ${warnDays} days`);
  },
};
