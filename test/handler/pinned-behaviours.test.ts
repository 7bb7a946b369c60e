/**
 * Behaviours no other test pinned (project issue #20 §4): each test here fails when the guard
 * it names is removed from the handler. Over real HTTP against the stand-ins.
 */
import { cfnEvent, rejectionOf, TEST_KNOBS, useHarness } from './harness';
import { handler } from '../../src/handler/aep.lambda';
import { AepIds, Attributes, ConnectionProps, DestinationConnectionProps, ResourceTypes } from '../../src/private/contract';

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

describe('2. what AEP applies after the settle window', () => {
  const TARGET = { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: 'Target1' };
  // The POST's 504 comes at once; AEP applies it 6 HTTP timeouts later, after the settle window
  // (3 timeouts) ran out and the retry POSTed again: a twin appears after the Create returned.
  const LATE_MS = 6 * TIMEOUT_MS;
  const latePost = (collection: string) => h.aep.inject({ match: { method: 'POST', path: `/${collection}` }, kind: 'status', status: 504, apply: 'later', applyAfterMs: LATE_MS });

  async function connectionWithLateTwin() {
    const props = h.destinationAccessKeyProps(h.seedKey());
    latePost('connections');
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props));
    await h.aep.settle();
    expect(h.aep.connections()).toHaveLength(2);
    return { props, id };
  }

  test('connection: the late twin is removed by the next Update, the object CloudFormation holds stays', async () => {
    const { props, id } = await connectionWithLateTwin();
    const res = await handler(cfnEvent('Update', props, { physicalId: id, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(id);
    expect(h.aep.connections().map((c) => c.id)).toEqual([id]);
  });

  test('connection: the late twin is removed by the Delete too', async () => {
    const { props, id } = await connectionWithLateTwin();
    await handler(cfnEvent('Delete', props, { physicalId: id }));
    expect(h.aep.connections()).toEqual([]);
  });

  test('target connection: the late twin is removed by the next Update', async () => {
    const { PhysicalResourceId: base } = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())));
    const tProps = h.targetConnectionProps(base);
    latePost('targetConnections');
    const { PhysicalResourceId: t } = await handler(cfnEvent('Create', tProps, TARGET));
    await h.aep.settle();
    expect(h.aep.targetConnections()).toHaveLength(2);
    await handler(cfnEvent('Update', tProps, { ...TARGET, physicalId: t, oldProps: tProps }));
    expect(h.aep.targetConnections().map((c) => c.id)).toEqual([t]);
  });

  test('a failed Create waits out the settle window before it cleans up, so a POST AEP applies late inside it is removed too', async () => {
    // AEP applies the POST 2 timeouts after its 504: inside the settle window (3 timeouts), but
    // after the Create has already failed (the next lookup is refused at once).
    h.aep.inject({ match: { method: 'POST', path: '/connections' }, kind: 'status', status: 504, apply: 'later', applyAfterMs: 2 * TIMEOUT_MS });
    const create = rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey()))));
    while (!h.aep.requests.some((r) => r.method === 'POST' && r.path.endsWith('/connections'))) await sleep(2);
    h.aep.inject({ match: { method: 'GET', path: '/connections' }, kind: 'status', status: 403, body: { error_code: '403027', message: 'User region is missing' } });
    const err = await create;
    expect(err.message).toMatch(/HTTP 403/);
    await h.aep.settle();
    expect(h.aep.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(h.aep.connections()).toEqual([]);
  });

  test('destination pair: late twins of the base and of the target are removed by the next Update; the pair CloudFormation holds stays', async () => {
    const props = pairProps();
    latePost('connections');
    latePost('targetConnections');
    const created = await handler(cfnEvent('Create', props, PAIR));
    await h.aep.settle();
    expect([h.aep.connections().length, h.aep.targetConnections().length]).toEqual([2, 2]);
    const res = await handler(cfnEvent('Update', props, { ...PAIR, physicalId: created.PhysicalResourceId, oldProps: props }));
    expect(res).toEqual(created);
    expect(h.aep.connections().map((c) => c.id)).toEqual([created.PhysicalResourceId]);
    expect(h.aep.targetConnections().map((c) => c.id)).toEqual([created.Data![Attributes.TARGET_CONNECTION_ID]]);
  });
});

/** The object as AEP answers `GET {collection}/{id}` over HTTP (secrets masked), as a person or script would read it. */
async function aepGet(collection: string, id: string): Promise<Record<string, any>> {
  const res = await fetch(`${h.aep.flowServiceUrl}/${collection}/${encodeURIComponent(id)}`, { headers: h.aep.flowServiceHeaders(h.aep.issueToken()) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Array<Record<string, any>> }).items[0];
}

describe('3. unsetting an inline auth param reaches AEP', () => {
  const sourceProps = (params: Record<string, string>) => ({
    ...h.common(),
    [ConnectionProps.NAME]: 'acme-aep-s3-src-aws',
    [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
    [ConnectionProps.AUTH_SPEC_NAME]: 'IAMRole Based',
    [ConnectionProps.AUTH_PARAMS]: params,
  });

  test('folderPath removed from the stack: the PATCH sends params without it and a GET afterwards lacks it', async () => {
    const withFolder = sourceProps({ bucketName: 'acme-aep-inbound', folderPath: 'crm' });
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', withFolder));
    expect((await aepGet('connections', id)).auth.params.folderPath).toBe('crm');
    h.aep.resetRecording();
    const without = sourceProps({ bucketName: 'acme-aep-inbound' });
    const res = await handler(cfnEvent('Update', without, { physicalId: id, oldProps: withFolder }));
    expect(res.PhysicalResourceId).toBe(id);
    const patches = h.aep.requests.filter((r) => r.method === 'PATCH').map((r) => r.body);
    expect(patches).toEqual([[{ op: 'replace', path: '/auth/params', value: { bucketName: 'acme-aep-inbound' } }]]);
    expect((await aepGet('connections', id)).auth.params).toEqual({ bucketName: 'acme-aep-inbound' });
  });

  test('a folderPath added in the AEP UI, which the stack never set, is removed by the next Update', async () => {
    const props = sourceProps({ bucketName: 'acme-aep-inbound' });
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props));
    await h.aep.uiPatch('/connections', id, [{ op: 'replace', path: '/auth/params', value: { bucketName: 'acme-aep-inbound', folderPath: 'ui-folder' } }]);
    expect((await aepGet('connections', id)).auth.params.folderPath).toBe('ui-folder');
    await handler(cfnEvent('Update', { ...props, [ConnectionProps.DESCRIPTION]: 'redeploy' }, { physicalId: id, oldProps: props }));
    expect((await aepGet('connections', id)).auth.params).toEqual({ bucketName: 'acme-aep-inbound' });
  });
});
