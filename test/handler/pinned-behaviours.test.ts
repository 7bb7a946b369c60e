/**
 * Behaviours no other test pinned (project issue #20 §4): each test here fails when the guard
 * it names is removed from the handler. Over real HTTP against the stand-ins.
 */
import { cfnEvent, rejectionOf, FAULT_KNOBS, useHarness } from './harness';
import { DECORATION_FIELD } from '../../offline-world/stand-in/get-decoration';
import { handler } from '../../src/handler/aep.lambda';
import {
  AepIds, Attributes, CommonProps, ConnectionProps, DataflowConnectionProps, DataflowIds, DataflowResourceTypes, DestinationConnectionProps,
  FlowProps, ResourceTypes, TargetConnectionProps,
} from '../../src/private/contract';

const h = useHarness(FAULT_KNOBS);
const TIMEOUT_MS = Number(FAULT_KNOBS.AEP_HTTP_TIMEOUT_MS);
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
  // The POST's 504 comes at once; AEP applies it only after the Create returned (long after the
  // settle window of 3 timeouts ran out and the retry POSTed again): the test flushes it then, as
  // AEP applying it late would, instead of waiting for a timer.
  const LATE_MS = 60_000;
  const latePost = (collection: string) => h.aep.inject({ match: { method: 'POST', path: `/${collection}` }, kind: 'status', status: 504, apply: 'later', applyAfterMs: LATE_MS });

  async function connectionWithLateTwin() {
    const props = h.destinationAccessKeyProps(h.seedKey());
    latePost('connections');
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props));
    expect(h.aep.pendingApplications).toBe(1);
    h.aep.flushPending();
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
    expect(h.aep.pendingApplications).toBe(1);
    h.aep.flushPending();
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
    expect(h.aep.pendingApplications).toBe(2);
    h.aep.flushPending();
    expect([h.aep.connections().length, h.aep.targetConnections().length]).toEqual([2, 2]);
    const res = await handler(cfnEvent('Update', props, { ...PAIR, physicalId: created.PhysicalResourceId, oldProps: props }));
    expect(res).toEqual(created);
    expect(h.aep.connections().map((c) => c.id)).toEqual([created.PhysicalResourceId]);
    expect(h.aep.targetConnections().map((c) => c.id)).toEqual([created.Data![Attributes.TARGET_CONNECTION_ID]]);
  });
});

const SOURCE = { resourceType: DataflowResourceTypes.SOURCE_CONNECTION, logicalId: 'ProfileStore1' };
const FLOW = { resourceType: DataflowResourceTypes.FLOW, logicalId: 'Flow1' };

const audience = (id: string) => ({
  id, exportMode: 'FIRST_FULL_THEN_INCREMENTAL', schedule: { frequency: 'DAILY', startDate: '2025-01-05' }, fileNameTemplate: '%SEGMENT_ID%_%TIMESTAMP%',
});

/** A destination base connection and its S3 target connection (an export's target). */
async function destinationTarget(): Promise<string> {
  const { PhysicalResourceId: base } = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey('aep/export-key')), { logicalId: 'Base' }));
  const { PhysicalResourceId: target } = await handler(cfnEvent('Create', h.targetConnectionProps(base), { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: 'Target' }));
  return target;
}

function profileStoreProps() {
  return {
    ...h.common(),
    [DataflowConnectionProps.NAME]: 'profiles',
    [DataflowConnectionProps.CONNECTION_SPEC_ID]: DataflowIds.PROFILE_STORE_SOURCE_SPEC,
  };
}

function flowProps(sourceId: string, targetId: string, audiences = [audience('seg-1'), audience('seg-2')]) {
  return {
    ...h.common(),
    [FlowProps.NAME]: 'audiences to S3',
    [FlowProps.FLOW_SPEC_ID]: DataflowIds.S3_AUDIENCE_FLOW_SPEC,
    [FlowProps.SOURCE_CONNECTION_ID]: sourceId,
    [FlowProps.TARGET_CONNECTION_ID]: targetId,
    [FlowProps.AUDIENCES]: audiences,
    [FlowProps.MANDATORY_FIELDS]: [],
    [FlowProps.PRIMARY_FIELDS]: [],
    [FlowProps.ENABLED]: 'true',
  };
}

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

describe("4. the Lambda's deadline bounds every wait", () => {
  /** The handler's own margin (config.ts LAMBDA_SAFETY_MARGIN_MS): the invocation deadline is this much before the Lambda's end. */
  const MARGIN_MS = 5_000;
  /** What one step past the last wait may take (parsing, logging) on a busy CI box. */
  const SLACK_MS = 500;

  /** Runs the handler with `budgetMs` left after the margin and knobs overridden; returns its error and how long it took. */
  type Run = (context: { getRemainingTimeInMillis(): number }) => Promise<unknown>;
  async function withBudget(budgetMs: number, knobs: Record<string, string>, run: Run) {
    const saved = Object.fromEntries(Object.keys(knobs).map((k) => [k, process.env[k]]));
    Object.assign(process.env, knobs);
    const started = Date.now();
    try {
      const err = await rejectionOf(() => run({ getRemainingTimeInMillis: () => MARGIN_MS + budgetMs - (Date.now() - started) }));
      return { err, elapsed: Date.now() - started };
    } finally {
      Object.assign(process.env, saved);
      h.aep.clearFaults();
    }
  }

  test('an HTTP wait: a request never answered gives up at the deadline, not after the (longer) HTTP timeout', async () => {
    h.aep.inject({ match: { method: 'GET', path: /\/connectionSpecs\// }, kind: 'timeout', times: 100 });
    const { err, elapsed } = await withBudget(600, { AEP_HTTP_TIMEOUT_MS: '5000' },
      (context) => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())), context));
    expect(err.message).toMatch(/GET \/connectionSpecs/);
    expect(elapsed).toBeLessThan(600 + SLACK_MS);
  });

  test('an AEP retry: a Retry-After that ends past the deadline is not waited for (GET)', async () => {
    h.aep.inject({ match: { method: 'GET', path: /\/connectionSpecs\// }, kind: 'status', status: 503, retryAfterSeconds: 3, times: 100 });
    const { err, elapsed } = await withBudget(600, {}, (context) => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())), context));
    expect(err.message).toMatch(/HTTP 503.*gave up after 1 attempt/);
    expect(elapsed).toBeLessThan(600 + SLACK_MS);
  });

  test('the IMS token retry: a Retry-After that ends past the deadline is not waited for', async () => {
    // Revoked tokens: the first call is refused and a new token must be asked for.
    h.aep.expireAllTokens();
    h.aep.inject({ match: { method: 'POST', path: '/ims/token/v3' }, kind: 'status', status: 503, retryAfterSeconds: 3, times: 100 });
    const { err, elapsed } = await withBudget(600, {}, (context) => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())), context));
    expect(err.message).toMatch(/POST \/ims\/token\/v3 failed: HTTP 503/);
    expect(elapsed).toBeLessThan(600 + SLACK_MS);
  });

  test('the key probe: a sleep that ends past the deadline is not started, though the probe deadline knob is far away', async () => {
    const key = h.seedKey('aep/never-valid', 1_000_000);
    const { err, elapsed } = await withBudget(600, { AWS_KEY_PROBE_INTERVAL_MS: '2000', AWS_KEY_PROBE_DEADLINE_MS: '60000' },
      (context) => handler(cfnEvent('Create', h.destinationAccessKeyProps(key)), context));
    expect(err.message).toMatch(/still rejected by STS/);
    expect(elapsed).toBeLessThan(600 + SLACK_MS);
    expect(h.aep.connections()).toEqual([]);
  });

  test('a new flow keeps time back: when configuring it retries until the deadline, it is still removed before the Create fails', async () => {
    const target = await destinationTarget();
    const { PhysicalResourceId: source } = await handler(cfnEvent('Create', profileStoreProps(), SOURCE));
    // Unanswered PATCHes, retried without an attempt limit: only the deadline stops them.
    h.aep.inject({ match: { method: 'PATCH', path: /\/flows\/[^/]+$/ }, kind: 'timeout', times: 1000 });
    const { err, elapsed } = await withBudget(2_000, { AEP_RETRY_MAX_ATTEMPTS: '1000' }, (context) => handler(cfnEvent('Create', flowProps(source, target), FLOW), context));
    expect(err.message).toMatch(/PATCH \/flows/);
    expect(elapsed).toBeLessThan(2_000 + SLACK_MS);
    expect(h.aep.flows()).toEqual([]);
  });
});

describe('5. audience selectors', () => {
  type Selectors = { selectors: Array<{ value: { id: string } }> };
  const selectorIds = (flowId: string) => (h.aep.flows().find((f) => f.id === flowId)!.transformations[0].params.segmentSelectors as Selectors)
    .selectors.map((s) => s.value.id);

  /**
   * Stores the flow with `id`'s selector a second time. The stand-in's API refuses that (as a
   * guard for our own PATCHes), so it is written to the store directly: a state made outside the
   * API this handler uses (the UI, an older AEP) that the handler must still repair.
   */
  function duplicate(flowId: string, id: string): void {
    const stored = structuredClone(h.aep.dataflows.flows.all().find((f) => f.id === flowId)!);
    const selectors = (stored.transformations[0].params.segmentSelectors as Selectors).selectors;
    selectors.push(structuredClone(selectors.find((sel) => sel.value.id === id)!));
    h.aep.dataflows.flows.put({ ...stored, etag: '"ui-edit-0001"', version: '"ui-edit-0001"' });
  }

  async function flowWith(ids: string[]) {
    const target = await destinationTarget();
    const { PhysicalResourceId: source } = await handler(cfnEvent('Create', profileStoreProps(), SOURCE));
    const props = flowProps(source, target, ids.map(audience));
    const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', props, FLOW));
    expect(selectorIds(flow)).toEqual(ids);
    h.aep.resetRecording();
    return { flow, props };
  }

  test('several audiences removed in one deploy: the right ones go although each removal shifts the indexes after it', async () => {
    const { flow, props } = await flowWith(['seg-1', 'seg-2', 'seg-3', 'seg-4', 'seg-5']);
    const next = { ...props, [FlowProps.AUDIENCES]: ['seg-2', 'seg-4'].map(audience) };
    const res = await handler(cfnEvent('Update', next, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(flow);
    expect(selectorIds(flow)).toEqual(['seg-2', 'seg-4']);
    expect(h.aep.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  test('an audience stored twice (added again outside the stack) is left once after the next Update', async () => {
    const { flow, props } = await flowWith(['seg-1', 'seg-2']);
    duplicate(flow, 'seg-1');
    expect(selectorIds(flow)).toEqual(['seg-1', 'seg-2', 'seg-1']);
    await handler(cfnEvent('Update', props, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(selectorIds(flow)).toEqual(['seg-1', 'seg-2']);
  });

  test('a duplicate and a removal in one deploy', async () => {
    const { flow, props } = await flowWith(['seg-1', 'seg-2', 'seg-3']);
    duplicate(flow, 'seg-3');
    const next = { ...props, [FlowProps.AUDIENCES]: ['seg-1', 'seg-3'].map(audience) };
    await handler(cfnEvent('Update', next, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(selectorIds(flow)).toEqual(['seg-1', 'seg-3']);
  });
});

describe('6. a rename of a connection AEP reads back decorated is a patch, not a replacement', () => {
  /** Updates `props` with a new name under decorated GETs; expects the same id, a PATCH with the new name and no POST. */
  async function renameDecorated(props: Record<string, unknown>, opts: { resourceType?: string; logicalId?: string }, collection: string) {
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props, opts));
    h.aep.decorateGets(true);
    h.aep.resetRecording();
    const res = await handler(cfnEvent('Update', { ...props, [ConnectionProps.NAME]: 'renamed' }, { ...opts, physicalId: id, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(id);
    expect(h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith(collection))).toEqual([]);
    const patches = h.aep.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`${collection}/${id}`));
    expect(patches.flatMap((r) => r.body as Array<{ path: string; value?: unknown }>)).toContainEqual({ op: 'replace', path: '/name', value: 'renamed' });
    // The read really was decorated (the guard against a stand-in that silently stopped doing it).
    const read = h.aep.requests.find((r) => r.method === 'GET' && r.path.endsWith(`${collection}/${id}`))!;
    expect(JSON.stringify(read.response)).toContain(DECORATION_FIELD);
    return id;
  }

  test('base connection', async () => {
    await renameDecorated(h.destinationAccessKeyProps(h.seedKey()), {}, '/connections');
  });

  test('target connection', async () => {
    const { PhysicalResourceId: base } = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())));
    await renameDecorated(h.targetConnectionProps(base), { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: 'Target1' }, '/targetConnections');
  });

  test('target connection: an unchanged Update under decorated reads patches nothing (no churn on every deploy)', async () => {
    const { PhysicalResourceId: base } = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())));
    const props = h.targetConnectionProps(base);
    const opts = { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: 'Target1' };
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props, opts));
    h.aep.decorateGets(true);
    h.aep.resetRecording();
    await handler(cfnEvent('Update', props, { ...opts, physicalId: id, oldProps: props }));
    expect(h.aep.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
    expect(JSON.stringify(h.aep.requests.find((r) => r.method === 'GET' && r.path.endsWith(`/targetConnections/${id}`))!.response)).toContain(DECORATION_FIELD);
  });

  test('target connection: a param the stack no longer sets is still removed under decorated reads', async () => {
    const { PhysicalResourceId: base } = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())));
    const props = h.targetConnectionProps(base);
    const opts = { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: 'Target1' };
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props, opts));
    const params = { ...(props[TargetConnectionProps.PARAMS] as Record<string, unknown>) };
    expect(params.csvOptions).toBeDefined();
    delete params.csvOptions;
    const next = { ...props, [TargetConnectionProps.PARAMS]: params };
    h.aep.decorateGets(true);
    await handler(cfnEvent('Update', next, { ...opts, physicalId: id, oldProps: props }));
    expect(h.aep.targetConnections()[0].params?.csvOptions).toBeUndefined();
  });

  test('base connection with file encryption: an unchanged Update under decorated reads patches nothing', async () => {
    const encryption = { specName: 'File Encryption', params: { encryptionAlgo: 'PGP/GPG', publicKey: 'QUJDREVGR0g=' } };
    const props = h.destinationAccessKeyProps(h.seedKey(), { [ConnectionProps.ENCRYPTION]: encryption });
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props));
    h.aep.decorateGets(true);
    h.aep.resetRecording();
    await handler(cfnEvent('Update', props, { physicalId: id, oldProps: props }));
    expect(h.aep.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
    const read = h.aep.requests.find((r) => r.method === 'GET' && r.path.endsWith(`/connections/${id}`))!;
    expect(JSON.stringify((read.response as { items: Array<{ encryption?: unknown }> }).items[0].encryption)).toContain(DECORATION_FIELD);
  });

  test('destination pair (base and target as one resource)', async () => {
    const props = pairProps();
    const created = await handler(cfnEvent('Create', props, PAIR));
    h.aep.decorateGets(true);
    const res = await handler(cfnEvent('Update', { ...props, [ConnectionProps.NAME]: 'renamed' }, { ...PAIR, physicalId: created.PhysicalResourceId, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(created.PhysicalResourceId);
    expect(res.Data![Attributes.TARGET_CONNECTION_ID]).toBe(created.Data![Attributes.TARGET_CONNECTION_ID]);
    expect([...h.aep.connections(), ...h.aep.targetConnections()].map((c) => c.name)).toEqual(['renamed', 'renamed']);
  });

  test('S3 source connection (data and params as the stack sets them)', async () => {
    const { PhysicalResourceId: base } = await handler(cfnEvent('Create', {
      ...h.common(),
      [ConnectionProps.NAME]: 'acme-aep-s3-src-aws',
      [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
      [ConnectionProps.AUTH_SPEC_NAME]: 'IAMRole Based',
      [ConnectionProps.AUTH_PARAMS]: { bucketName: 'acme-aep-inbound' },
    }, { logicalId: 'SourceBase' }));
    await renameDecorated({
      ...h.common(),
      [DataflowConnectionProps.NAME]: 'crm files',
      [DataflowConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
      [DataflowConnectionProps.BASE_CONNECTION_ID]: base,
      [DataflowConnectionProps.DATA]: { format: 'delimited', properties: { columnDelimiter: ',' } },
      [DataflowConnectionProps.PARAMS]: { path: 'acme-aep-inbound/crm/', type: 'folder', recursive: 'true' },
    }, { resourceType: DataflowResourceTypes.SOURCE_CONNECTION, logicalId: 'SourceConnection1' }, '/sourceConnections');
  });

  test('Data Lake target connection', async () => {
    await renameDecorated({
      ...h.common(),
      [DataflowConnectionProps.NAME]: 'crm dataset',
      [DataflowConnectionProps.CONNECTION_SPEC_ID]: DataflowIds.DATA_LAKE_TARGET_CONNECTION_SPEC,
      [DataflowConnectionProps.DATA]: { schema: { id: 'https://ns.adobe.com/acme/schemas/0123456789abcdef', version: DataflowIds.XDM_FULL_CONTENT_TYPE } },
      [DataflowConnectionProps.PARAMS]: { dataSetId: '0123456789abcdef01234567' },
    }, { resourceType: DataflowResourceTypes.DATASET_TARGET_CONNECTION, logicalId: 'DatasetTarget1' }, '/targetConnections');
  });
});

describe("7. the live auth spec's required params and enums are enforced before any POST", () => {
  const connectionPosts = () => h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/connections'));

  test('a param the live auth spec requires but the stack does not set fails the Create before POST, naming it and the fix', async () => {
    const key = h.seedKey();
    const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(key, {
      [ConnectionProps.AUTH_SECRET_FIELDS]: { s3AccessKey: 'accessKeyId' },
      [ConnectionProps.VERIFY_AWS_KEY]: 'false',
    }))));
    expect(err.message).toMatch(/param 's3SecretKey' is required by 'Access Key' but not set/);
    expect(err.message).toMatch(/nothing was created/);
    expect(err.message).toMatch(/authentication settings|secret/);
    expect(connectionPosts()).toEqual([]);
    expect(h.aep.connections()).toEqual([]);
  });

  test('a value outside an enum the live auth spec declares fails the Create before POST, naming the allowed values', async () => {
    // AEP serves a revision whose IAMRole Based bucketName is an enum (the handler reads the live spec).
    type SpecDoc = { authSpec: Array<{ name: string; spec: { properties: Record<string, Record<string, unknown>> } }> };
    const doc = structuredClone(h.aep.connectionSpecs()[AepIds.S3_SOURCE_CONNECTION_SPEC]) as SpecDoc;
    doc.authSpec.find((a) => a.name === 'IAMRole Based')!.spec.properties.bucketName.enum = ['acme-approved-bucket'];
    h.aep.inject({ match: { method: 'GET', path: `/connectionSpecs/${AepIds.S3_SOURCE_CONNECTION_SPEC}` }, kind: 'status', status: 200, body: { items: [doc] } });
    const err = await rejectionOf(() => handler(cfnEvent('Create', {
      ...h.common(),
      [ConnectionProps.NAME]: 'acme-aep-s3-src-aws',
      [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
      [ConnectionProps.AUTH_SPEC_NAME]: 'IAMRole Based',
      [ConnectionProps.AUTH_PARAMS]: { bucketName: 'acme-aep-inbound' },
    })));
    expect(err.message).toMatch(/param 'bucketName' must be one of \["acme-approved-bucket"\] as AEP declares/);
    expect(err.message).toMatch(/nothing was created/);
    expect(connectionPosts()).toEqual([]);
  });
});

describe('8. the container caches: IMS token keyed by the credential, cached values redacted in every invocation', () => {
  test('another client id never reuses the cached token: it asks IMS itself (and is refused there)', async () => {
    await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())));
    const other = { ...h.aep.credentials, clientId: 'another-client-id-0042', clientSecret: 'p8e-another-client-secret-0042' };
    h.secretValues.add(other.clientSecret);
    const otherArn = h.aws.putSecret('aep/oauth-other-client', JSON.stringify(other));
    h.aep.resetRecording();
    const err = await rejectionOf(() => handler(cfnEvent('Create', {
      ...h.destinationAccessKeyProps(h.seedKey('aep/k2')), [CommonProps.CREDENTIALS_SECRET_ARN]: otherArn,
    }, { logicalId: 'Other' })));
    expect(err.message).toMatch(/POST \/ims\/token\/v3 failed: HTTP 401 \[invalid_client\]/);
    const ims = h.aep.requests.filter((r) => r.path === '/ims/token/v3');
    expect(ims.length).toBeGreaterThanOrEqual(1);
    expect(ims.every((r) => (r.body as { client_id?: string }).client_id === other.clientId)).toBe(true);
    // Nothing reached Flow Service with the first client's token on the other client's behalf.
    expect(h.aep.requests.filter((r) => !r.path.startsWith('/ims/'))).toEqual([]);
  });

  test('a cached token and client secret are hidden in a later invocation that fails with an AEP message echoing them', async () => {
    // The token IMS hands out is one this test knows, so AEP's error can echo it.
    h.aep.expireAllTokens();
    const known = h.aep.issueToken();
    h.secretValues.add(known);
    h.aep.inject({ match: { method: 'POST', path: '/ims/token/v3' }, kind: 'status', status: 200, body: { access_token: known, token_type: 'bearer', expires_in: 86399 } });
    await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())));
    expect(h.aep.pendingFaults).toBe(0);

    // A new invocation in the same container: the token and the secret come from the caches.
    h.aep.resetRecording();
    const secret = h.aep.credentials.clientSecret;
    h.aep.inject({
      match: { method: 'POST', path: '/connections' },
      kind: 'status',
      status: 400,
      body: { errorCode: '400', errorMessage: `request with Bearer ${known} for client secret ${secret} refused` },
    });
    const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey('aep/k3')), { logicalId: 'Second' })));
    expect(h.aep.requests.filter((r) => r.path === '/ims/token/v3')).toEqual([]);
    expect(err.message).toMatch(/HTTP 400/);
    expect(err.message).not.toContain(known);
    expect(err.message).not.toContain(secret);
    h.expectNoSecretsIn(err.message, err.stack);
  });
});
