import { CONNECTION_TYPE } from './connection';
import {
  deleteItem, type FlowItem, type FlowRef, getItem, owned, type Ownership, removeTwins, retireMarker, updateInPlace,
} from './flow-resource';
import { TARGET_CONNECTION_TYPE, targetKind } from './target-connection';
import {
  adoptionMarker, Attributes, CommonProps, DestinationConnectionProps, RemovalPolicies, TargetConnectionProps,
} from '../../private/contract';
import { AepClient } from '../aep/aep-client';
import { hasStatus } from '../aep/errors';
import type { Invocation } from '../plumbing/config';
import { type CustomResourceEvent, type CustomResourceResponse, requirePhysicalId } from '../plumbing/events';
import { errorMessage, log } from '../plumbing/log';
import { optionalString, requireString } from '../plumbing/props';

/**
 * Time kept back, in HTTP timeouts, from the target connection's step so that when it fails the
 * base connection this event made can still be removed (list its targets, delete them, delete it).
 */
const PAIR_CLEANUP_RESERVE_TIMEOUTS = 3;

/**
 * Handles `Custom::AepDestinationConnection`: a destination's base connection and its target
 * connection as one resource. Each half goes through the same create-or-adopt, drift and
 * marker machinery as the resource types that used to carry them one by one; the physical id is
 * the base connection's, and the target is found again through its base connection and marker.
 *
 * - Create: base, then target. If the target fails, the base made by this Create is removed (the
 *   Provider framework never sends a Delete after a failed Create).
 * - Update, base of the desired kind (in place, or a rollback returning to it): patch the base's
 *   drift, then create-or-adopt the target on it (adoption patches the target's drift): same
 *   physical id. Otherwise a new pair (new physical id); CloudFormation's cleanup Delete removes
 *   the old one. If the new target fails, the new base is removed unless it was adopted (it may
 *   be the original that a rollback returns to).
 * - Delete: every target carrying the marker on the base, then the base (404 = gone); under
 *   RETAIN both stay, with their markers retired.
 */
export async function onDestinationConnectionEvent(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  switch (event.RequestType) {
    // Nothing of what follows a source connection's events applies (no explore check, no
    // session tokens for destinations).
    case 'Create':
    case 'Update':
      return upsert(event, invocation);
    case 'Delete':
      return remove(event, invocation);
  }
}

async function upsert(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  const client = await AepClient.fromProps(event.ResourceProperties, invocation);
  let replacing: string | undefined;
  if (event.RequestType === 'Update') {
    const id = requirePhysicalId(event);
    const current = await getItem(client, '/connections', id).catch((err: unknown) => {
      if (hasStatus(err, 404)) return undefined;
      throw err;
    });
    const desired = CONNECTION_TYPE.desiredKind(event);
    if (current && CONNECTION_TYPE.kindOf(current).key === desired.key) {
      const ops = await CONNECTION_TYPE.driftOps(event, current, invocation, client);
      const base = await updateInPlace(client, '/connections', id, ops, current.etag);
      await removeTwins(client, '/connections', ownership(event, desired.filters, (item) => CONNECTION_TYPE.kindOf(item).key === desired.key, id), id);
      return respond(base, await TARGET_CONNECTION_TYPE.create(targetEvent(event, id), invocation));
    }
    log('info', 'the AEP connection cannot become the desired one in place (unchangeable field or sandbox changed): creating a replacement pair',
      { replacing: id, found: current !== undefined });
    // A base the GET did not find is not excluded: if the list still shows it, it is adopted
    // (see onFlowResourceEvent).
    replacing = current ? id : undefined;
  }
  const base = await CONNECTION_TYPE.create(event, invocation, replacing);
  const reserve = PAIR_CLEANUP_RESERVE_TIMEOUTS * invocation.config.httpTimeoutMs;
  try {
    const target = await TARGET_CONNECTION_TYPE.create(targetEvent(event, base.id), { ...invocation, deadline: invocation.deadline - reserve });
    return respond(base, target);
  } catch (err) {
    if (event.RequestType === 'Create' || !base.adopted) {
      await removePair(client, event, base.id).catch((cleanupErr: unknown) => log('error',
        'could not remove the base connection of the failed event; delete the AEP connection carrying this marker by hand',
        { connectionId: base.id, error: errorMessage(cleanupErr) }));
    } else {
      log('warn', 'the target connection failed on an adopted base connection, which is left in place', { connectionId: base.id });
    }
    throw err;
  }
}

async function remove(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  const id = requirePhysicalId(event);
  const props = event.ResourceProperties;
  const client = await AepClient.fromProps(props, invocation);
  const current = await getItem(client, '/connections', id).catch((err: unknown) => {
    if (hasStatus(err, 404)) return undefined;
    throw err;
  });
  if (optionalString(props, DestinationConnectionProps.REMOVAL_POLICY) === RemovalPolicies.RETAIN) {
    log('info', 'removal policy is retain; leaving the AEP connection and target connection in place with their adoption markers retired', { id });
    for (const target of await targetsOf(client, event, id)) await retireMarker(client, '/targetConnections', target);
    if (current) await retireMarker(client, '/connections', current);
  } else {
    await removePair(client, event, id);
  }
  if (current) {
    // Same-kind twins as the object being deleted, never as the properties: a Delete during
    // rollback cleanup may carry the properties of the pair the stack returns to.
    const kind = CONNECTION_TYPE.kindOf(current);
    await removeTwins(client, '/connections', ownership(event, kind.filters, (item) => CONNECTION_TYPE.kindOf(item).key === kind.key, id), id);
  }
  return { PhysicalResourceId: id };
}

/** Deletes the targets this resource made on `baseId`, then the base (AEP refuses a base still referenced); 404 = gone. */
async function removePair(client: AepClient, event: CustomResourceEvent, baseId: string): Promise<void> {
  for (const target of await targetsOf(client, event, baseId)) await deleteItem(client, '/targetConnections', target.id);
  await deleteItem(client, '/connections', baseId);
}

/** Target connections on `baseId` carrying this resource's live marker. */
function targetsOf(client: AepClient, event: CustomResourceEvent, baseId: string): Promise<FlowItem[]> {
  const specId = requireString(event.ResourceProperties, DestinationConnectionProps.CONNECTION_SPEC_ID);
  const kind = targetKind(baseId, specId);
  return owned(client, '/targetConnections', ownership(event, kind.filters, () => true));
}

function ownership(event: CustomResourceEvent, filters: readonly string[], sameKind: (item: FlowItem) => boolean, excludeId?: string): Ownership {
  return { filters, marker: adoptionMarker(event.StackId, event.LogicalResourceId), sameKind, excludeId };
}

/** Properties the target half takes as they are (the same contract names on both types). */
const SHARED_WITH_TARGET: readonly string[] = [
  ...Object.values(CommonProps),
  TargetConnectionProps.NAME,
  TargetConnectionProps.DESCRIPTION,
  TargetConnectionProps.CONNECTION_SPEC_ID,
  TargetConnectionProps.REMOVAL_POLICY,
];

/**
 * The event as the target connection's half sees it: the shared properties (name, description,
 * connection spec, removal policy, sandbox) under the same contract names, its params, and the
 * base connection it hangs on.
 */
function targetEvent(event: CustomResourceEvent, baseId: string): CustomResourceEvent {
  const asTarget = (props: Record<string, unknown>) => {
    const shared: Record<string, unknown> = {};
    for (const key of SHARED_WITH_TARGET) if (key in props) shared[key] = props[key];
    return {
      ...shared,
      [TargetConnectionProps.BASE_CONNECTION_ID]: baseId,
      [TargetConnectionProps.PARAMS]: props[DestinationConnectionProps.TARGET_PARAMS],
    };
  };
  return {
    ...event,
    ResourceProperties: asTarget(event.ResourceProperties),
    ...(event.OldResourceProperties ? { OldResourceProperties: asTarget(event.OldResourceProperties) } : {}),
  };
}

function respond(base: FlowRef, target: FlowRef): CustomResourceResponse {
  return {
    PhysicalResourceId: base.id,
    Data: {
      [Attributes.CONNECTION_ID]: base.id,
      [Attributes.ETAG]: base.etag,
      [Attributes.TARGET_CONNECTION_ID]: target.id,
      [Attributes.TARGET_ETAG]: target.etag,
    },
  };
}
