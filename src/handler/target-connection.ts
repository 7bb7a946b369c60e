import { AepClient } from './aep-client';
import type { Invocation } from './config';
import { type CustomResourceEvent, type CustomResourceResponse, requirePhysicalId } from './events';
import { createOrAdopt, type FlowRef, markedDescription, nameAndDescriptionOps, onFlowResourceEvent, type PatchOp, updateInPlace } from './flow-resource';
import { log } from './log';
import { canonical, anyChanged, optionalObject, optionalString, requireString } from './props';
import { adoptionMarker, AepIds, Attributes, CommonProps, decodeBoolean, TargetConnectionProps } from '../private/contract';

const COLLECTION = '/targetConnections';

/** A target connection hangs off one base connection and one spec; neither can be patched. */
const REPLACING_PROPS = [
  TargetConnectionProps.BASE_CONNECTION_ID,
  TargetConnectionProps.CONNECTION_SPEC_ID,
  CommonProps.SANDBOX_NAME,
];

/** Target params AEP wants as JSON booleans (CloudFormation turned them into strings). */
const BOOLEAN_PARAMS = ['includeFileManifest'];

/** Handles `Custom::AepTargetConnection`: destination export settings (API-NOTES §5.5). */
export function onTargetConnectionEvent(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  return onFlowResourceEvent({ collection: COLLECTION, idAttribute: Attributes.TARGET_CONNECTION_ID, create, update }, event, invocation);
}

async function create(event: CustomResourceEvent, invocation: Invocation, replacing?: string): Promise<FlowRef> {
  const client = await AepClient.fromProps(event.ResourceProperties, invocation);
  const desired = desiredState(event);
  return createOrAdopt(client, COLLECTION, {
    filters: [`baseConnectionId==${desired.baseConnectionId}`, `connectionSpec.id==${desired.specId}`],
    marker: desired.marker,
    excludeId: replacing,
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

async function update(event: CustomResourceEvent, invocation: Invocation): Promise<FlowRef> {
  const id = requirePhysicalId(event);
  const old = event.OldResourceProperties ?? {};
  if (anyChanged(old, event.ResourceProperties, REPLACING_PROPS)) {
    log('info', 'base connection, spec or sandbox changed: creating a replacement', { replacing: id });
    return create(event, invocation, id);
  }
  const client = await AepClient.fromProps(event.ResourceProperties, invocation);
  const ops = fieldOps(desiredState({ ...event, ResourceProperties: old }), desiredState(event));
  return updateInPlace(client, COLLECTION, id, ops);
}

interface DesiredTarget {
  readonly name: string;
  readonly description: string;
  readonly marker: string;
  readonly specId: string;
  readonly baseConnectionId: string;
  readonly params: Record<string, unknown>;
}

function desiredState(event: CustomResourceEvent): DesiredTarget {
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

function fieldOps(current: { name?: unknown; description?: unknown; params?: unknown }, desired: DesiredTarget): PatchOp[] {
  const ops = nameAndDescriptionOps(current, desired);
  if (canonical(current.params ?? {}) !== canonical(desired.params)) ops.push({ op: 'replace', path: '/params', value: desired.params });
  return ops;
}

