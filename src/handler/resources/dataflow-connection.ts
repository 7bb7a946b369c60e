import {
  type Collection, createOrAdopt, type FlowRef, markedDescription, nameAndDescriptionOps, namesOf, onFlowResourceEvent,
} from './flow-resource';
import { AepClient } from '../../aep/aep-client';
import {
  dataflowConnectionKindAs, dataflowConnectionKindOf, dataflowConnectionKindOfShape, type DataflowConnectionShape, desiredDataflowConnection,
} from '../../decisions/kinds';
import type { Invocation } from '../../plumbing/config';
import type { CustomResourceEvent, CustomResourceResponse } from '../../plumbing/events';
import { optionalString, requireString } from '../../plumbing/props';
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
    kindOf: dataflowConnectionKindOf,
    kindOfAsDesired: (item, e) => dataflowConnectionKindAs(item, desiredState(collection, e)),
    desiredKind: (e) => dataflowConnectionKindOfShape(desiredState(collection, e)),
    create: (e, inv, replacing) => create(collection, e, inv, replacing),
    driftOps: async (e, current) => nameAndDescriptionOps(current, desiredState(collection, e)),
  }, event, invocation);
}

interface DesiredConnection extends DataflowConnectionShape {
  readonly name: string;
  readonly description: string;
  readonly marker: string;
}

function desiredState(collection: Collection, event: CustomResourceEvent): DesiredConnection {
  const props = event.ResourceProperties;
  const marker = adoptionMarker(event.StackId, event.LogicalResourceId);
  return {
    name: requireString(props, DataflowConnectionProps.NAME),
    description: markedDescription(optionalString(props, DataflowConnectionProps.DESCRIPTION), marker),
    marker,
    // A Data Lake target has no base connection (contract; DATAFLOWS §3.3).
    ...desiredDataflowConnection(props, collection === '/sourceConnections'),
  };
}

async function create(collection: Collection, event: CustomResourceEvent, invocation: Invocation, replacing?: string): Promise<FlowRef> {
  const client = await AepClient.fromProps(event.ResourceProperties, invocation);
  const d = desiredState(collection, event);
  const desired = dataflowConnectionKindOfShape(d);
  return createOrAdopt(client, collection, {
    filters: desired.filters,
    marker: d.marker,
    // Narrows the lookup on the server: a sandbox holds a Profile Store source per audience export.
    names: namesOf(event),
    excludeId: replacing,
    sameKind: (item) => dataflowConnectionKindAs(item, d).key === desired.key,
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
