/**
 * Behaviours no other test pinned (project issue #20 §4): each test here fails when the guard
 * it names is removed from the handler. Over real HTTP against the stand-ins.
 */
import { cfnEvent, rejectionOf, TEST_KNOBS, useHarness } from './harness';
import { handler } from '../../src/handler/aep.lambda';
import { Attributes, ConnectionProps, DestinationConnectionProps, ResourceTypes } from '../../src/private/contract';

const h = useHarness();
const TIMEOUT_MS = Number(TEST_KNOBS.AEP_HTTP_TIMEOUT_MS);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const byId = (collection: string, id: string) => new RegExp(`/${collection}/${id}$`);
const PAIR = { resourceType: ResourceTypes.DESTINATION_CONNECTION, logicalId: 'Dest1' };
const PAIR_PARAMS = { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: 'aep/%SEGMENT_NAME%', fileType: 'CSV', compression: 'NONE' };

/** Properties of a `Custom::AepDestinationConnection` (base + target as one resource). */
function pairProps(extra: Record<string, unknown> = {}, params: Record<string, unknown> = {}): Record<string, unknown> {
  return h.destinationAccessKeyProps(h.seedKey('aep/pair-key'), { [DestinationConnectionProps.TARGET_PARAMS]: { ...PAIR_PARAMS, ...params }, ...extra });
}

describe('1. a replacement never adopts the object it replaces', () => {
  // Same connection spec, so the lookup's server-side filter lists the old object too: only the
  // kind check and the excluded id keep the replacement from adopting it.
  test('an auth type change makes a new connection although the old one (same spec) carries the same marker; the cleanup Delete leaves the new one', async () => {
    const props = h.destinationAccessKeyProps(h.seedKey());
    const { PhysicalResourceId: a } = await handler(cfnEvent('Create', props));
    const before = h.aep.getConnection(a)!;
    const next = {
      ...props,
      [ConnectionProps.AUTH_SPEC_NAME]: 'Assumed Role',
      [ConnectionProps.AUTH_PARAMS]: { s3Role: 'arn:aws:iam::111122223333:role/aep-export' },
      [ConnectionProps.AUTH_SECRET_ARN]: '',
      [ConnectionProps.AUTH_SECRET_FIELDS]: {},
      [ConnectionProps.VERIFY_AWS_KEY]: 'false',
    };
    const { PhysicalResourceId: b } = await handler(cfnEvent('Update', next, { physicalId: a, oldProps: props }));
    expect(b).not.toBe(a);
    expect(h.aep.getConnection(b)!.description).toBe(before.description);
    expect(h.aep.getConnection(a)!.etag).toBe(before.etag);
    await handler(cfnEvent('Delete', props, { physicalId: a }));
    expect(h.aep.connections().map((c) => c.id)).toEqual([b]);
  });

  // A GET by id that wrongly answers 404 (a replica behind, a gateway hiccup) while the list still
  // shows the object: the Update cannot tell it from "deleted outside CloudFormation". Excluding
  // the listed object and POSTing a twin made CloudFormation's cleanup Delete of the old id remove
  // both (the new one is a same-kind twin carrying the marker), leaving the stack on nothing.
  test('an Update whose GET wrongly says 404 adopts the listed object (no replacement), so no cleanup Delete removes the result', async () => {
    const props = h.destinationAccessKeyProps(h.seedKey());
    const { PhysicalResourceId: a } = await handler(cfnEvent('Create', props));
    h.aep.inject({ match: { method: 'GET', path: byId('connections', a) }, kind: 'status', status: 404 });
    const res = await handler(cfnEvent('Update', { ...props, [ConnectionProps.NAME]: 'renamed' }, { physicalId: a, oldProps: props }));
    expect(h.aep.pendingFaults).toBe(0);
    expect(res.PhysicalResourceId).toBe(a);
    expect(h.aep.connections().map((c) => [c.id, c.name])).toEqual([[a, 'renamed']]);
  });

  test('the same for a target connection', async () => {
    const { PhysicalResourceId: base } = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())));
    const tProps = h.targetConnectionProps(base);
    const tOpts = { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: 'Target1' };
    const { PhysicalResourceId: t } = await handler(cfnEvent('Create', tProps, tOpts));
    h.aep.inject({ match: { method: 'GET', path: byId('targetConnections', t) }, kind: 'status', status: 404 });
    const res = await handler(cfnEvent('Update', { ...tProps, [ConnectionProps.NAME]: 'renamed' }, { ...tOpts, physicalId: t, oldProps: tProps }));
    expect(res.PhysicalResourceId).toBe(t);
    expect(h.aep.targetConnections().map((c) => [c.id, c.name])).toEqual([[t, 'renamed']]);
  });

  test('the same for a destination connection pair (base GET wrongly 404)', async () => {
    const props = pairProps();
    const opts = PAIR;
    const created = await handler(cfnEvent('Create', props, opts));
    const a = created.PhysicalResourceId;
    h.aep.inject({ match: { method: 'GET', path: byId('connections', a) }, kind: 'status', status: 404 });
    const res = await handler(cfnEvent('Update', { ...props, [ConnectionProps.NAME]: 'renamed' }, { ...opts, physicalId: a, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(a);
    expect(res.Data![Attributes.TARGET_CONNECTION_ID]).toBe(created.Data![Attributes.TARGET_CONNECTION_ID]);
    expect(h.aep.connections().map((c) => [c.id, c.name])).toEqual([[a, 'renamed']]);
    expect(h.aep.targetConnections()).toHaveLength(1);
  });
});
