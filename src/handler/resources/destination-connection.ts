import { CONNECTION_TYPE } from './connection';
import {
  deleteItem, type FlowItem, type FlowRef, getItem, namesOf, owned, type Ownership, patchItem, removeTwins, retireMarker, updateInPlace,
} from './flow-resource';
import { createTarget, desiredState, fieldOps, TARGET_CONNECTION_TYPE, targetKind } from './target-connection';
import { AepClient } from '../../aep/aep-client';
import { AepError, hasStatus } from '../../aep/errors';
import { decidePatch, decideUpdate } from '../../decisions/decision';
import type { Invocation } from '../../plumbing/config';
import { type CustomResourceEvent, type CustomResourceResponse, requirePhysicalId } from '../../plumbing/events';
import { errorMessage, log } from '../../plumbing/log';
import { optionalString, requireString } from '../../plumbing/props';
import {
  adoptionMarker, Attributes, CommonProps, DestinationConnectionProps, RemovalPolicies, TargetConnectionProps,
} from '../../private/contract';

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
 *
 * AEP may refuse `PATCH /targetConnections` (only Adobe's Flow Service spec documents it, the
 * destinations spec does not). Then an export-settings change replaces the target on the same
 * base: the new target id goes out as TargetConnectionId, which the dataflows take through
 * `Fn::GetAtt` (CloudFormation updates them in the same deployment), and the physical id becomes
 * `<base id>/<target id>`, so the cleanup Delete of the old physical id removes only the old
 * target, once the dataflows have left it. A physical id without a target part (what Create
 * returns) stands for the oldest of the resource's targets on its base.
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
    const { baseId: id, targetId: namedTarget } = parsePhysicalId(requirePhysicalId(event));
    const current = await getItem(client, '/connections', id).catch((err: unknown) => {
      if (hasStatus(err, 404)) return undefined;
      throw err;
    });
    const desired = CONNECTION_TYPE.desiredKind(event);
    if (current && !decideUpdate(desired, current, CONNECTION_TYPE.kindOf(current))) {
      const ops = [...decidePatch(await CONNECTION_TYPE.driftOps(event, current, invocation, client)).ops ?? []];
      const base = await updateInPlace(client, '/connections', id, ops, current.etag);
      await removeTwins(client, '/connections', { ...ownership(event, desired.filters, (item) => CONNECTION_TYPE.kindOf(item).key === desired.key, id), names: namesOf(event, current) }, id);
      const target = await upsertTarget(client, event, id, namedTarget);
      return respond(base, target.ref, target.physicalId);
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
  const physicalId = requirePhysicalId(event);
  const { baseId: id, targetId: namedTarget } = parsePhysicalId(physicalId);
  const props = event.ResourceProperties;
  const client = await AepClient.fromProps(props, invocation);
  // Listed once: which targets go decides the scope and is what a pair's Delete removes or retires.
  const mine = await targetsOf(client, event, id);
  const scope = deleteScope(mine, namedTarget);
  if (scope === 'gone') {
    log('info', 'the target connection this physical id names is already gone and the base holds another of ours: nothing to delete', { physicalId });
    return { PhysicalResourceId: physicalId };
  }
  if (scope !== 'pair') {
    const replacedTarget = scope;
    // The cleanup of a target replacement (or of its rollback): the base and the other target stay.
    if (optionalString(props, DestinationConnectionProps.REMOVAL_POLICY) === RemovalPolicies.RETAIN) {
      log('info', 'removal policy is retain; leaving the replaced target connection in place', { targetConnectionId: replacedTarget.id });
      await retireTargetMarker(client, replacedTarget);
    } else {
      await deleteItem(client, '/targetConnections', replacedTarget.id);
    }
    return { PhysicalResourceId: physicalId };
  }
  const current = await getItem(client, '/connections', id).catch((err: unknown) => {
    if (hasStatus(err, 404)) return undefined;
    throw err;
  });
  if (optionalString(props, DestinationConnectionProps.REMOVAL_POLICY) === RemovalPolicies.RETAIN) {
    log('info', 'removal policy is retain; leaving the AEP connection and target connection in place with their adoption markers retired', { id });
    for (const target of mine) await retireTargetMarker(client, target);
    if (current) await retireMarker(client, '/connections', current);
  } else {
    await removePair(client, event, id, mine);
  }
  if (current) {
    // Same-kind twins as the object being deleted, never as the properties: a Delete during
    // rollback cleanup may carry the properties of the pair the stack returns to.
    const kind = CONNECTION_TYPE.kindOf(current);
    await removeTwins(client, '/connections', { ...ownership(event, kind.filters, (item) => CONNECTION_TYPE.kindOf(item).key === kind.key, id), names: namesOf(event, current) }, id);
  }
  return { PhysicalResourceId: physicalId };
}

/** `<base id>` or `<base id>/<target id>` (after a target replacement). */
function parsePhysicalId(physicalId: string): { baseId: string; targetId?: string } {
  const [baseId, targetId] = physicalId.split('/');
  return targetId ? { baseId, targetId } : { baseId };
}

/**
 * What a Delete removes. The cleanup of a target replacement (or of its rollback) removes only
 * the target the physical id names (without a name: the oldest of ours) while another of ours
 * stays on the base; a named target already gone while another of ours remains means that
 * cleanup already happened ('gone': never the pair, which the stack still uses). Otherwise the
 * whole pair ('pair').
 */
function deleteScope(mine: FlowItem[], namedTarget: string | undefined): FlowItem | 'gone' | 'pair' {
  if (namedTarget !== undefined) {
    const named = mine.find((t) => t.id === namedTarget);
    if (!named) return mine.length > 0 ? 'gone' : 'pair';
    return mine.length > 1 ? named : 'pair';
  }
  return mine.length > 1 ? [...mine].sort(byAge)[0] : 'pair';
}

/** Retires a retained target's marker; an AEP refusing PATCH /targetConnections leaves it live (logged). */
async function retireTargetMarker(client: AepClient, target: FlowItem): Promise<void> {
  await retireMarker(client, '/targetConnections', target).catch((err: unknown) => {
    if (!isTargetPatchRefused(err)) throw err;
    log('warn', 'AEP refuses PATCH /targetConnections, so the retained target connection keeps its live marker', { targetConnectionId: target.id });
  });
}

function byAge(a: FlowItem, b: FlowItem): number {
  const t = (i: FlowItem) => (typeof i.createdAt === 'number' ? i.createdAt : Number.MAX_SAFE_INTEGER);
  return t(a) - t(b) || a.id.localeCompare(b.id);
}

/**
 * The target half of an Update on a base that stays. A target of ours already in the desired
 * state is taken as it is (a rollback returning to the target a replacement left, or an
 * interrupted attempt's replacement); otherwise the current one (the physical id's, or the
 * oldest) is patched, and when AEP refuses that PATCH, a replacement is made on the same base.
 * None at all (deleted outside CloudFormation): made again.
 */
async function upsertTarget(
  client: AepClient, event: CustomResourceEvent, baseId: string, namedTarget: string | undefined,
): Promise<{ ref: FlowRef; physicalId: string }> {
  const mine = [...await targetsOf(client, event, baseId)].sort(byAge);
  const current = mine.find((t) => t.id === namedTarget) ?? (namedTarget === undefined ? mine[0] : undefined);
  const result = await chooseTarget(client, event, baseId, namedTarget, mine, current);
  // Any other target of ours on the base is a late twin (a POST AEP applied after its answer was
  // lost): not the one this Update leaves the stack on, nor the one the incoming physical id names
  // (after a replacement, dataflows still use it until they follow the new id, and CloudFormation's
  // cleanup removes it).
  for (const twin of mine.filter((t) => t.id !== result.ref.id && t.id !== current?.id)) {
    log('warn', 'removing a duplicate created by a POST applied after its response was lost', { collection: '/targetConnections', id: twin.id, kept: result.ref.id });
    await deleteItem(client, '/targetConnections', twin.id);
  }
  return result;
}

async function chooseTarget(
  client: AepClient, event: CustomResourceEvent, baseId: string, namedTarget: string | undefined,
  mine: FlowItem[], current: FlowItem | undefined,
): Promise<{ ref: FlowRef; physicalId: string }> {
  const desired = desiredState(targetEvent(event, baseId));
  const physicalIdOf = (targetId: string) => (current && targetId === current.id
    ? (namedTarget === undefined ? baseId : `${baseId}/${namedTarget}`)
    : targetId === mine[0]?.id ? baseId : `${baseId}/${targetId}`);
  const ready = [current, ...mine].find((t) => t !== undefined && fieldOps(t, desired).length === 0);
  if (ready) return { ref: { id: ready.id, etag: ready.etag ?? '' }, physicalId: physicalIdOf(ready.id) };
  if (current) {
    try {
      const ref = await patchItem(client, '/targetConnections', current.id, fieldOps(current, desired), current.etag);
      return { ref, physicalId: physicalIdOf(ref.id) };
    } catch (err) {
      if (!isTargetPatchRefused(err)) throw err;
      log('warn', 'AEP refuses PATCH /targetConnections: replacing the target connection on the same base connection; dataflows follow '
        + 'its new id (TargetConnectionId), and the old one is removed when CloudFormation cleans up', { replacing: current.id, error: errorMessage(err) });
    }
  }
  const ref = await createTarget(client, desired, mine.map((t) => t.id));
  return { ref, physicalId: mine.length === 0 ? baseId : `${baseId}/${ref.id}` };
}

/**
 * AEP's refusal of `PATCH /targetConnections`: 405 (the method is not offered), or a 400 saying
 * so. A 400 about the patch's content is not a refusal and fails the event as before.
 */
function isTargetPatchRefused(err: unknown): boolean {
  return err instanceof AepError && (err.status === 405 || (err.status === 400 && /not (supported|allowed)|unsupported/i.test(err.detail)));
}

/**
 * Deletes the targets this resource made on `baseId` (`targets` when the caller just listed them),
 * then the base (AEP refuses a base still referenced); 404 = gone.
 */
async function removePair(client: AepClient, event: CustomResourceEvent, baseId: string, targets?: FlowItem[]): Promise<void> {
  for (const target of targets ?? await targetsOf(client, event, baseId)) await deleteItem(client, '/targetConnections', target.id);
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

function respond(base: FlowRef, target: FlowRef, physicalId = base.id): CustomResourceResponse {
  return {
    PhysicalResourceId: physicalId,
    Data: {
      [Attributes.CONNECTION_ID]: base.id,
      [Attributes.ETAG]: base.etag,
      [Attributes.TARGET_CONNECTION_ID]: target.id,
      [Attributes.TARGET_ETAG]: target.etag,
    },
  };
}
