import { createOrAdopt, type FlowRef, type FlowResourceType, markedDescription, nameAndDescriptionOps, onFlowResourceEvent, type PatchOp } from './flow-resource';
import { AepClient } from '../../aep/aep-client';
import { desiredTargetKind, targetKind, targetKindOf } from '../../decisions/kinds';
import type { Invocation } from '../../plumbing/config';
import type { CustomResourceEvent, CustomResourceResponse } from '../../plumbing/events';
import { canonical, optionalObject, optionalString, projectLike, requireString } from '../../plumbing/props';
import { adoptionMarker, AepIds, Attributes, decodeBoolean, TargetConnectionProps } from '../../private/contract';

const COLLECTION = '/targetConnections';

/** Target params AEP wants as JSON booleans (CloudFormation turned them into strings). */
const BOOLEAN_PARAMS = ['includeFileManifest'];

/**
 * Handles `Custom::AepTargetConnection`: destination export settings (API-NOTES §5.5). Its kind
 * (what AEP cannot patch) is the base connection and the connection spec.
 */
export function onTargetConnectionEvent(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  return onFlowResourceEvent(TARGET_CONNECTION_TYPE, event, invocation);
}

/** The target connection as a Flow Service resource type (also driven by the destination connection). */
export const TARGET_CONNECTION_TYPE: FlowResourceType = {
  collection: COLLECTION,
  idAttribute: Attributes.TARGET_CONNECTION_ID,
  kindOf: targetKindOf,
  desiredKind: (e) => desiredTargetKind(e.ResourceProperties),
  create,
  driftOps: async (e, current) => fieldOps(current, desiredState(e)),
};

export { targetKind } from '../../decisions/kinds';

async function create(event: CustomResourceEvent, invocation: Invocation, replacing?: string): Promise<FlowRef> {
  const client = await AepClient.fromProps(event.ResourceProperties, invocation);
  return createTarget(client, desiredState(event), replacing === undefined ? [] : [replacing]);
}

/**
 * Creates the desired target connection, or adopts one of ours that an earlier attempt made;
 * `existing` are never adopted (the targets it replaces: AEP would not let them be patched).
 */
export function createTarget(client: AepClient, desired: DesiredTarget, existing: readonly string[]): Promise<FlowRef> {
  const desiredKind = targetKind(desired.baseConnectionId, desired.specId);
  return createOrAdopt(client, COLLECTION, {
    filters: desiredKind.filters,
    marker: desired.marker,
    sameKind: (item) => targetKindOf(item).key === desiredKind.key && !existing.includes(item.id),
    body: {
      name: desired.name,
      description: desired.description,
      baseConnectionId: desired.baseConnectionId,
      params: desired.params,
      connectionSpec: { id: desired.specId, version: AepIds.CONNECTION_SPEC_VERSION },
    },
    reconcile: (item) => fieldOps(item, desired),
  });
}

/** A target connection as the event wants it. */
export interface DesiredTarget {
  readonly name: string;
  readonly description: string;
  readonly marker: string;
  readonly specId: string;
  readonly baseConnectionId: string;
  readonly params: Record<string, unknown>;
}

/** The target connection the event's properties describe. */
export function desiredState(event: CustomResourceEvent): DesiredTarget {
  const props = event.ResourceProperties;
  const marker = adoptionMarker(event.StackId, event.LogicalResourceId);
  const description = optionalString(props, TargetConnectionProps.DESCRIPTION);
  const params: Record<string, unknown> = { ...optionalObject(props, TargetConnectionProps.PARAMS) };
  for (const key of BOOLEAN_PARAMS) {
    if (params[key] !== undefined) params[key] = decodeBoolean(params[key]);
  }
  return {
    name: requireString(props, TargetConnectionProps.NAME),
    description: markedDescription(description, marker),
    marker,
    specId: requireString(props, TargetConnectionProps.CONNECTION_SPEC_ID),
    baseConnectionId: requireString(props, TargetConnectionProps.BASE_CONNECTION_ID),
    params,
  };
}

/** Ops that move a target connection's patchable fields (name, description, params) to `desired`. */
export function fieldOps(current: { name?: unknown; description?: unknown; params?: unknown }, desired: DesiredTarget): PatchOp[] {
  const ops = nameAndDescriptionOps(current, desired);
  if (paramsDiffer(current.params, desired.params)) ops.push({ op: 'replace', path: '/params', value: desired.params });
  return ops;
}

/** The export-settings params the library sets; any other key in what AEP reads back is AEP's own. */
const TARGET_PARAM_KEYS = ['mode', 'bucketName', 'path', 'fileType', 'datasetFileType', 'compression', 'csvOptions', 'includeFileManifest'];

/**
 * Whether AEP's params differ from the stack's, judged as AEP reads them back: keys of its own
 * added, keys reordered, numbers and booleans echoed as strings (or the reverse) are no
 * difference, so an unchanged deploy patches nothing; a value changed, or a param the stack no
 * longer sets still held, is one.
 */
function paramsDiffer(held: unknown, desired: Record<string, unknown>): boolean {
  const current = held && typeof held === 'object' && !Array.isArray(held) ? held as Record<string, unknown> : {};
  if (TARGET_PARAM_KEYS.some((key) => current[key] !== undefined && desired[key] === undefined)) return true;
  return canonical(projectLike(current, desired)) !== canonical(desired);
}

