/**
 * An AEP that refuses `PATCH /targetConnections` (only Adobe's Flow Service spec documents it,
 * the destinations spec does not): a change of export settings replaces the target connection
 * on the same base connection within the destination's custom resource. The new target id goes
 * out as TargetConnectionId (the dataflows follow it); the physical id names the new target, so
 * CloudFormation's cleanup Delete of the old physical id removes only the old target.
 */
import { cfnEvent, useHarness } from './harness';
import { handler } from '../../src/handler/aep.lambda';
import { Attributes, DestinationConnectionProps, RemovalPolicies, ResourceTypes } from '../../src/private/contract';

const h = useHarness();
const PAIR = { resourceType: ResourceTypes.DESTINATION_CONNECTION, logicalId: 'ExportsConnectionDestination' };
const PARAMS = { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: 'aep/%SEGMENT_NAME%', fileType: 'CSV', compression: 'NONE' };

let key: ReturnType<typeof h.seedKey>;
beforeEach(() => {
  key = h.seedKey('aep/pair-key');
});

function props(params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return h.destinationAccessKeyProps(key, { [DestinationConnectionProps.TARGET_PARAMS]: { ...PARAMS, ...params }, ...extra });
}

function writes(): string[] {
  return h.aep.requests.filter((r) => r.method !== 'GET' && /\/(connections|targetConnections)(\/|$)/.test(r.path))
    .map((r) => `${r.method} ${r.path.replace(/^.*?(\/(?:connections|targetConnections))(\/.*)?$/, '$1')} ${r.status}`);
}

describe.each(['refused-405', 'refused-400'] as const)('AEP answers PATCH /targetConnections %s', (mode) => {
  test('an export-settings change replaces the target on the same base; the cleanup Delete of the old physical id removes only the old target', async () => {
    const before = props();
    const created = await handler(cfnEvent('Create', before, PAIR));
    const oldTarget = created.Data![Attributes.TARGET_CONNECTION_ID];
    const baseId = created.Data![Attributes.CONNECTION_ID];
    h.aep.setTargetConnectionPatch(mode);
    h.aep.requests.length = 0;

    const after = props({ path: 'aep/v2/%SEGMENT_ID%', fileType: 'JSON' });
    const updated = await handler(cfnEvent('Update', after, { ...PAIR, physicalId: created.PhysicalResourceId, oldProps: before }));
    const newTarget = updated.Data![Attributes.TARGET_CONNECTION_ID];
    expect(newTarget).not.toBe(oldTarget);
    expect(updated.Data![Attributes.CONNECTION_ID]).toBe(baseId);
    expect(updated.PhysicalResourceId).toBe(`${baseId}/${newTarget}`);
    expect(h.aep.getTargetConnection(newTarget)!).toMatchObject({ baseConnectionId: baseId, params: { ...PARAMS, path: 'aep/v2/%SEGMENT_ID%', fileType: 'JSON' } });
    expect(writes()).toEqual([`PATCH /targetConnections ${mode.slice(-3)}`, 'POST /targetConnections 201']);
    // Both exist until CloudFormation cleans up (a dataflow on the old one is replaced in between).
    expect(h.aep.targetConnections().map((t) => t.id).sort()).toEqual([oldTarget, newTarget].sort());

    await handler(cfnEvent('Delete', before, { ...PAIR, physicalId: created.PhysicalResourceId }));
    expect(h.aep.targetConnections().map((t) => t.id)).toEqual([newTarget]);
    expect(h.aep.connections().map((c) => c.id)).toEqual([baseId]);

    // The next change replaces it again; the stack's Delete then removes the pair.
    const again = props({ compression: 'GZIP' });
    const third = await handler(cfnEvent('Update', again, { ...PAIR, physicalId: updated.PhysicalResourceId, oldProps: after }));
    await handler(cfnEvent('Delete', after, { ...PAIR, physicalId: updated.PhysicalResourceId }));
    expect(h.aep.targetConnections().map((t) => t.id)).toEqual([third.Data![Attributes.TARGET_CONNECTION_ID]]);
    await handler(cfnEvent('Delete', again, { ...PAIR, physicalId: third.PhysicalResourceId }));
    expect(h.aep.targetConnections()).toEqual([]);
    expect(h.aep.connections()).toEqual([]);
  });

  test('the rollback returns to the old target (already in the old state, nothing patched) and its cleanup removes only the new one', async () => {
    const before = props();
    const created = await handler(cfnEvent('Create', before, PAIR));
    const oldTarget = created.Data![Attributes.TARGET_CONNECTION_ID];
    h.aep.setTargetConnectionPatch(mode);
    const after = props({ fileType: 'JSON' });
    const updated = await handler(cfnEvent('Update', after, { ...PAIR, physicalId: created.PhysicalResourceId, oldProps: before }));
    h.aep.requests.length = 0;
    const rolledBack = await handler(cfnEvent('Update', before, { ...PAIR, physicalId: updated.PhysicalResourceId, oldProps: after }));
    expect(rolledBack.Data![Attributes.TARGET_CONNECTION_ID]).toBe(oldTarget);
    expect(rolledBack.PhysicalResourceId).toBe(created.PhysicalResourceId);
    expect(writes()).toEqual([]);
    await handler(cfnEvent('Delete', after, { ...PAIR, physicalId: updated.PhysicalResourceId }));
    expect(h.aep.targetConnections().map((t) => t.id)).toEqual([oldTarget]);
    expect(h.aep.connections()).toHaveLength(1);
  });

  test('under RETAIN nothing is deleted: the cleanup keeps the replaced target, the stack\'s Delete keeps the base and both targets', async () => {
    const before = props({}, { [DestinationConnectionProps.REMOVAL_POLICY]: RemovalPolicies.RETAIN });
    const created = await handler(cfnEvent('Create', before, PAIR));
    h.aep.setTargetConnectionPatch(mode);
    // The target's description follows the connection's: that change needs a replacement too.
    const renamed = { ...before, Description: 'Renamed' };
    const updated = await handler(cfnEvent('Update', renamed, { ...PAIR, physicalId: created.PhysicalResourceId, oldProps: before }));
    expect(updated.Data![Attributes.TARGET_CONNECTION_ID]).not.toBe(created.Data![Attributes.TARGET_CONNECTION_ID]);
    await handler(cfnEvent('Delete', before, { ...PAIR, physicalId: created.PhysicalResourceId }));
    await handler(cfnEvent('Delete', renamed, { ...PAIR, physicalId: updated.PhysicalResourceId }));
    expect(h.aep.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(h.aep.connections()).toHaveLength(1);
    expect(h.aep.targetConnections()).toHaveLength(2);
    // What cannot be retired without PATCH is said, not hidden.
    expect(h.logRecords().some((r) => /keeps its live marker/.test(String(r.message)))).toBe(true);
  });
});

test('AEP accepting PATCH /targetConnections: the same change patches in place, physical id unchanged', async () => {
  const before = props();
  const created = await handler(cfnEvent('Create', before, PAIR));
  h.aep.requests.length = 0;
  const updated = await handler(cfnEvent('Update', props({ fileType: 'JSON' }), { ...PAIR, physicalId: created.PhysicalResourceId, oldProps: before }));
  expect(updated.PhysicalResourceId).toBe(created.PhysicalResourceId);
  expect(updated.Data![Attributes.TARGET_CONNECTION_ID]).toBe(created.Data![Attributes.TARGET_CONNECTION_ID]);
  expect(writes()).toEqual(['PATCH /targetConnections 200']);
});
