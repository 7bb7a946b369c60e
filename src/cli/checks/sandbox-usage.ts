import { isDestinationFlow } from './live-flows';
import type { DoctorCheck } from './types';

/** AEP's hard limit of destinations per sandbox (Adobe's guardrails for destinations). */
export const DESTINATION_LIMIT = 100;

/**
 * The sandbox at a glance, from the listing (0 requests): destination dataflows used out of
 * AEP's 100, dataflows by state (all and ours), marked objects by owning stack. At 80% of the
 * limit a warning, at the limit a problem (the next destination dataflow is refused).
 */
export const sandboxUsage: DoctorCheck = {
  id: 'sandbox-usage',
  title: "destinations used out of AEP's 100 per sandbox, dataflows by state, objects by owning stack",
  async run(ctx) {
    if (!ctx.sandbox) return;
    const { flows, items, listRequests } = ctx.sandbox;
    const ours = new Set(items.filter((i) => i.collection === '/flows' && !i.retained).map((i) => i.id));
    const all: Record<string, number> = {};
    const mine: Record<string, number> = {};
    let destinations = 0;
    for (const flow of [...flows.values()].sort((a, b) => a.id.localeCompare(b.id))) {
      const state = typeof flow.state === 'string' ? flow.state : 'unknown';
      all[state] = (all[state] ?? 0) + 1;
      if (ours.has(flow.id)) mine[state] = (mine[state] ?? 0) + 1;
      if (isDestinationFlow(flow)) destinations += 1;
    }
    const objectsByStack: Record<string, number> = {};
    for (const i of items) {
      const key = `${i.stackRegion ? `${i.stackRegion}:${i.stackAccount}:` : ''}${i.stackName}/${i.stackUuid}`;
      objectsByStack[key] = (objectsByStack[key] ?? 0) + 1;
    }
    ctx.report.sandboxView = {
      destinations: { used: destinations, limit: DESTINATION_LIMIT },
      dataflows: { all: sorted(all), ours: sorted(mine) },
      objectsByStack: sorted(objectsByStack),
      listRequests,
    };
    const byState = (m: Record<string, number>) => Object.entries(sorted(m)).map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
    const message = `sandbox ${ctx.options.sandbox}: ${destinations} of AEP's ${DESTINATION_LIMIT} destination dataflows used; `
      + `dataflows ${byState(all)} (ours: ${byState(mine)}); ${Object.keys(objectsByStack).length} stack(s) own marked objects (${listRequests} list requests)`;
    if (destinations >= DESTINATION_LIMIT) {
      ctx.add('destination-limit', 'problem', `${message}. At the limit: AEP refuses the next destination dataflow; delete unused ones first`,
        { action: 'delete destination dataflows nobody uses (AEP UI Destinations > Browse) before adding more' });
    } else if (destinations >= DESTINATION_LIMIT * 0.8) {
      ctx.add('destination-limit', 'warning', `${message}. Near the limit: plan which destination dataflows to retire`);
    } else {
      ctx.add('sandbox-usage', 'info', message);
    }
  },
};

function sorted(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));
}
