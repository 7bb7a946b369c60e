/**
 * The decision for one custom resource between two templates (and, when AEP was read, its live
 * object): what `cdk-aep-s3 plan` prints. The unchangeable fields are judged by the same kind
 * functions the handler uses on Update, the patched fields come from the change-effects table.
 */
import { type Decision, decideDelete, decideUpdate, type FlowItem, type FlowKind, markedDescription, nameAndDescriptionOps } from './decision';
import {
  connectionKindOf, dataflowConnectionKindAs, dataflowConnectionKindOfShape, desiredConnectionKind, desiredDataflowConnection, desiredFlowKind,
  desiredTargetKind, flowKindOf, targetKindOf,
} from './kinds';
import { canonical, optionalObject, optionalString, type RawProps } from '../plumbing/props';
import { CHANGE_EFFECTS, DATASET_EXPORT_SOURCE_EFFECT, type PropertyEffect } from '../private/change-effects';
import { CommonProps, DataflowResourceTypes, FlowProps, ResourceTypes } from '../private/contract';

/** How one custom resource type's kind is read from properties and from AEP. */
interface KindRules {
  desired(props: RawProps): FlowKind;
  of(item: FlowItem, props: RawProps): FlowKind;
}

/** The handler's kind functions, by custom resource type (mapping sets have none: their content is their identity). */
export const KIND_RULES: Readonly<Record<string, KindRules>> = {
  [ResourceTypes.CONNECTION]: { desired: desiredConnectionKind, of: connectionKindOf },
  [ResourceTypes.DESTINATION_CONNECTION]: { desired: desiredConnectionKind, of: connectionKindOf },
  [ResourceTypes.TARGET_CONNECTION]: { desired: desiredTargetKind, of: targetKindOf },
  [DataflowResourceTypes.SOURCE_CONNECTION]: {
    desired: (p) => dataflowConnectionKindOfShape(desiredDataflowConnection(p, true)),
    of: (item, p) => dataflowConnectionKindAs(item, desiredDataflowConnection(p, true)),
  },
  [DataflowResourceTypes.DATASET_TARGET_CONNECTION]: {
    desired: (p) => dataflowConnectionKindOfShape(desiredDataflowConnection(p, false)),
    of: (item, p) => dataflowConnectionKindAs(item, desiredDataflowConnection(p, false)),
  },
  [DataflowResourceTypes.FLOW]: { desired: desiredFlowKind, of: (item) => flowKindOf(item) },
};

/** The custom resource types that stand for AEP objects (plan reports these). */
export const PLANNED_TYPES: readonly string[] = Object.keys(CHANGE_EFFECTS);

/** One custom resource's inputs to {@link decideChange}. */
export interface ChangeInput {
  readonly resourceType: string;
  /** Properties the last deploy set; undefined = new in this change. */
  readonly previous?: RawProps;
  /** Properties this change sets; undefined = removed. */
  readonly desired?: RawProps;
  /**
   * The live object: undefined = AEP not read; null = read, and none carries this resource's
   * marker. Kind fields that reference other resources must then be resolved to live ids.
   */
  readonly current?: FlowItem | null;
}

/** A decision with the contract properties that changed. */
export interface PlannedChange extends Decision {
  /** Contract properties whose values differ between the two templates. */
  readonly changed: readonly string[];
}

/** The decision for one custom resource. Pure: no HTTP, no clock. */
export function decideChange(input: ChangeInput): PlannedChange {
  const { resourceType, previous, desired } = input;
  const current = input.current ?? undefined;
  if (!desired) {
    if (resourceType === DataflowResourceTypes.MAPPING_SET || resourceType === DataflowResourceTypes.PROFILE_MAPPING) {
      return { action: 'retain', fields: [], changed: [], reason: 'AEP cannot delete Data Prep mapping sets: left in AEP, unused' };
    }
    const props = previous ?? {};
    return { ...(input.current === undefined ? decideDelete(props, { id: '?' }) : decideDelete(props, current)), changed: [] };
  }
  if (!previous) {
    const adopt = current ? { reason: `an object carrying this resource's marker exists (${current.id}): it is adopted and patched` } : {};
    return { action: 'create', fields: [], changed: [], ...adopt };
  }
  const effects = CHANGE_EFFECTS[resourceType] ?? {};
  const drift = current ? driftOf(previous, current) : [];
  const withDrift = drift.length ? { drift } : {};
  const changed = [...new Set([...Object.keys(previous), ...Object.keys(desired)])]
    .filter((k) => canonical(previous[k] ?? null) !== canonical(desired[k] ?? null)).sort();
  const effectOf = (key: string): PropertyEffect => {
    const datasetExport = resourceType === DataflowResourceTypes.FLOW && optionalObject(desired, FlowProps.DATASET_SCHEDULE) !== undefined;
    if (datasetExport && key === FlowProps.SOURCE_CONNECTION_ID) {
      return DATASET_EXPORT_SOURCE_EFFECT;
    }
    // A property the table does not know is patched (the handler patches whatever it reads).
    return effects[key] ?? { effect: 'patch', field: key };
  };
  // Same properties: CloudFormation sends no Update, so drift stays until the next change.
  if (!changed.length) {
    const gone = input.current === null ? { reason: 'not found in AEP (deleted outside CloudFormation?): its next Update makes it again' } : {};
    return { action: 'none', fields: [], changed, ...withDrift, ...gone };
  }
  const sandbox = [CommonProps.SANDBOX_NAME, CommonProps.FLOW_SERVICE_URL].filter((k) => changed.includes(k));
  if (sandbox.length) {
    const from = optionalString(previous, CommonProps.SANDBOX_NAME);
    const to = optionalString(desired, CommonProps.SANDBOX_NAME);
    const what = from !== to ? `sandbox ${from} → ${to}` : 'Flow Service endpoint changed';
    const reason = `${what}: the new sandbox cannot see the old object, so a new one is made there and the old one deleted`;
    return { action: 'replace', fields: sandbox, changed, reason };
  }
  const rules = KIND_RULES[resourceType];
  if (rules) {
    const kindNow = rules.desired(desired);
    const replacement = input.current !== undefined
      ? decideUpdate(kindNow, current, current && rules.of(current, desired))
      : decideUpdate(kindNow, { id: 'previous' }, rules.desired(previous));
    if (replacement) return { ...replacement, changed, ...withDrift, reason: replacementReason(replacement, changed, effectOf, desired) };
  }
  const replacing = changed.filter((k) => effectOf(k).effect === 'replace');
  if (replacing.length) {
    return { action: 'replace', fields: replacing, changed, ...withDrift, reason: replacing.map((k) => `${k}: ${effectOf(k).why}${followed(desired[k])}`).join('; ') };
  }
  const fields = [...new Set(changed.map(effectOf).map((e) => (e.effect === 'patch' ? e.field ?? '' : '')).filter(Boolean))].sort();
  const live = current ? nameAndDescriptionOps(current, { name: String(desired.Name ?? current.name), description: describedAs(desired, current) })
    : [];
  const all = [...new Set([...fields, ...live.map((o) => o.path.slice(1))])].sort();
  return all.length ? { action: 'patch', fields: all, changed, ...withDrift } : { action: 'none', fields: [], changed, ...withDrift };
}

/** Names the changed properties behind a kind change (what a reviewer changed), else the kind's fields. */
function replacementReason(d: Decision, changed: readonly string[], effectOf: (k: string) => PropertyEffect, desired: RawProps): string {
  const replacing = changed.filter((k) => effectOf(k).effect === 'replace');
  if (replacing.length) return replacing.map((k) => `${k}: ${effectOf(k).why}${followed(desired[k])}`).join('; ');
  return d.reason ?? 'unchangeable fields differ';
}

/** ` (X is replaced)` when a value is the new id of a resource this change replaces. */
function followed(value: unknown): string {
  const m = typeof value === 'string' ? /^«new ([^.»]+)\./.exec(value) : null;
  return m ? ` (${m[1]} is replaced)` : '';
}

/** The description the handler writes for these properties, with the marker the live object already carries. */
function describedAs(props: RawProps, current: FlowItem): string {
  const marker = /\[cdk-aep-s3:[^\]]+\]/.exec(String(current.description ?? ''))?.[0] ?? '';
  return markedDescription(optionalString(props, 'Description'), marker);
}

/** Fields where AEP differs from what the last deploy set (only those judged without the live specs: name, description). */
function driftOf(previous: RawProps, current: FlowItem): string[] {
  const ops = nameAndDescriptionOps(current, { name: String(previous.Name ?? current.name), description: describedAs(previous, current) });
  return ops.map((o) => o.path.slice(1));
}
