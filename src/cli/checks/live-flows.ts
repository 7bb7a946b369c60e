import type { DoctorContext, ListedObject, MarkedItem } from './types';
import { DataflowIds } from '../../private/contract';

/** A flow of ours whose stack exists: the stack declares it, so AEP's view of it is drift when it differs. */
export interface LiveFlow {
  readonly item: MarkedItem;
  readonly flow: ListedObject;
  /** `source` (ingestion into AEP) or `destination` (export out of it). */
  readonly kind: 'source' | 'destination';
  readonly flowSpecId?: string;
}

/**
 * The flows of the listing that carry a live marker of a stack the orphan check found existing.
 * Reads nothing: it joins the listing with the stack verdicts.
 */
export function liveFlows(ctx: DoctorContext): LiveFlow[] {
  if (!ctx.sandbox) return [];
  const live = new Set(ctx.report.stacks.filter((s) => s.state === 'exists')
    .map((s) => `${s.region ?? ''}:${s.account ?? ''}:${s.stackName}/${s.stackUuid}`));
  const out: LiveFlow[] = [];
  for (const item of ctx.sandbox.items) {
    if (item.collection !== '/flows' || item.retained) continue;
    if (!live.has(`${item.stackRegion ?? ''}:${item.stackAccount ?? ''}:${item.stackName}/${item.stackUuid}`)) continue;
    const flow = ctx.sandbox.flows.get(item.id);
    if (!flow) continue;
    const flowSpecId = (flow.flowSpec as { id?: string } | undefined)?.id;
    out.push({ item, flow, flowSpecId, kind: isDestinationFlow(flow) ? 'destination' : 'source' });
  }
  return out.sort((a, b) => a.item.id.localeCompare(b.item.id));
}

/** AEP marks destination flows (`inheritedAttributes.properties.isDestinationFlow`); the S3 export specs say it too. */
export function isDestinationFlow(flow: ListedObject): boolean {
  const marked = (flow.inheritedAttributes as { properties?: { isDestinationFlow?: unknown } } | undefined)?.properties?.isDestinationFlow;
  const spec = (flow.flowSpec as { id?: string } | undefined)?.id;
  return marked === true || spec === DataflowIds.S3_AUDIENCE_FLOW_SPEC || spec === DataflowIds.S3_DATASET_FLOW_SPEC;
}
