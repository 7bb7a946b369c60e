import { type Collection, createOrAdopt, type FlowItem, type FlowKind, type FlowRef, markedDescription, nameAndDescriptionOps, onFlowResourceEvent } from './flow-resource';
import { AepClient } from '../../aep/aep-client';
import type { Invocation } from '../../plumbing/config';
import type { CustomResourceEvent, CustomResourceResponse } from '../../plumbing/events';
import { canonical, optionalObject, optionalString, projectLike, requireString } from '../../plumbing/props';
import { adoptionMarker, AepIds, DataflowAttributes, DataflowConnectionProps } from '../../private/contract';

/**
 * The connections a dataflow joins (DATAFLOWS §3.2, §3.3, §4.2): `Custom::AepSourceConnection`
 * (S3 files on a base connection, or the Profile Store / Data Lake of an export) and
 * `Custom::AepDatasetTargetConnection` (a dataset in the Data Lake). AEP documents no change to
 * their `data` or `params` ("the dataset IDs of a source connection cannot be modified after
 * creation"), so those, the spec and the base connection are their kind: a change replaces
 * them. Name and description are patched in place.
 */
export function onSourceConnectionEvent(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  return onDataflowConnectionEvent('/sourceConnections', DataflowAttributes.SOURCE_CONNECTION_ID, event, invocation);
}

/** See {@link onSourceConnectionEvent}. */
export function onDatasetTargetConnectionEvent(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  return onDataflowConnectionEvent('/targetConnections', DataflowAttributes.TARGET_CONNECTION_ID, event, invocation);
}

function onDataflowConnectionEvent(
  collection: Collection, idAttribute: string, event: CustomResourceEvent, invocation: Invocation,
): Promise<CustomResourceResponse> {
  return onFlowResourceEvent({
    collection,
    idAttribute,
    kindOf,
    kindOfAsDesired: (item, e) => kindOfAs(item, desiredState(collection, e)),
    desiredKind: (e) => kindOfDesired(desiredState(collection, e)),
    create: (e, inv, replacing) => create(collection, e, inv, replacing),
    driftOps: async (e, current) => nameAndDescriptionOps(current, desiredState(collection, e)),
  }, event, invocation);
}

interface DesiredConnection {
  readonly name: string;
  readonly description: string;
  readonly marker: string;
  readonly specId: string;
  readonly baseConnectionId?: string;
  readonly data?: Record<string, unknown>;
  readonly params?: Record<string, unknown>;
}

function desiredState(collection: Collection, event: CustomResourceEvent): DesiredConnection {
  const props = event.ResourceProperties;
  const marker = adoptionMarker(event.StackId, event.LogicalResourceId);
  return {
    name: requireString(props, DataflowConnectionProps.NAME),
    description: markedDescription(optionalString(props, DataflowConnectionProps.DESCRIPTION), marker),
    marker,
    specId: requireString(props, DataflowConnectionProps.CONNECTION_SPEC_ID),
    // A Data Lake target has no base connection (contract; DATAFLOWS §3.3).
    baseConnectionId: collection === '/sourceConnections' ? optionalString(props, DataflowConnectionProps.BASE_CONNECTION_ID) : undefined,
    data: decode(optionalObject(props, DataflowConnectionProps.DATA)),
    params: decode(optionalObject(props, DataflowConnectionProps.PARAMS)),
  };
}

/** CloudFormation turned booleans into strings (contract serialization rule); AEP wants JSON booleans. */
function decode(value: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!value) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = v === 'true' ? true : v === 'false' ? false : v && typeof v === 'object' && !Array.isArray(v) ? decode(v as Record<string, unknown>) : v;
  }
  return out;
}

function kind(specId: string, baseConnectionId: string | undefined, data: unknown, params: unknown): FlowKind {
  return {
    key: canonical({ specId, baseConnectionId: baseConnectionId ?? null, data: data ?? null, params: params ?? null }),
    filters: [`connectionSpec.id==${specId}`, ...(baseConnectionId ? [`baseConnectionId==${baseConnectionId}`] : [])],
  };
}

function kindOfDesired(d: DesiredConnection): FlowKind {
  return kind(d.specId, d.baseConnectionId, d.data, d.params);
}

function kindOf(item: FlowItem): FlowKind {
  const base = typeof item.baseConnectionId === 'string' ? item.baseConnectionId : undefined;
  return kind(String((item.connectionSpec as { id?: unknown } | undefined)?.id), base, item.data, item.params);
}

/**
 * The kind of an AEP object seen through the desired state: only the `data`/`params` keys the
 * stack sets are compared (AEP may add defaults or fields of its own, or echo `5` for `"5"`), so
 * a rename is never mistaken for a change of what the connection reads.
 */
function kindOfAs(item: FlowItem, d: DesiredConnection): FlowKind {
  const base = typeof item.baseConnectionId === 'string' ? item.baseConnectionId : undefined;
  const specId = String((item.connectionSpec as { id?: unknown } | undefined)?.id);
  return kind(specId, base, projectLike(item.data, d.data), projectLike(item.params, d.params));
}

async function create(collection: Collection, event: CustomResourceEvent, invocation: Invocation, replacing?: string): Promise<FlowRef> {
  const client = await AepClient.fromProps(event.ResourceProperties, invocation);
  const d = desiredState(collection, event);
  const desired = kindOfDesired(d);
  return createOrAdopt(client, collection, {
    filters: desired.filters,
    marker: d.marker,
    excludeId: replacing,
    sameKind: (item) => kindOfAs(item, d).key === desired.key,
    body: {
      name: d.name,
      description: d.description,
      ...(d.baseConnectionId ? { baseConnectionId: d.baseConnectionId } : {}),
      ...(d.data ? { data: d.data } : {}),
      ...(d.params ? { params: d.params } : {}),
      connectionSpec: { id: d.specId, version: AepIds.CONNECTION_SPEC_VERSION },
    },
    reconcile: (item) => nameAndDescriptionOps(item, d),
  });
}
