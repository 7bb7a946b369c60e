/**
 * The dataflow resource types (source connections, profile mappings, flows) at the handler level,
 * over real HTTP against the stand-in: create, adoption after an ambiguous POST, updates in place,
 * a one-audience PATCH racing a change made in the UI (412), replacement, deletes.
 */
import { cfnEvent, rejectionOf, FAULT_KNOBS, useHarness } from './harness';
import type { StoredFlow } from '../../offline-world/stand-in/aep-flows';
import { handler } from '../../src/handler/aep.lambda';
import { canonical, projectLike } from '../../src/plumbing/props';
import {
  AepIds, ConnectionProps, DataflowConnectionProps, DataflowIds, DataflowResourceTypes, FlowProps, ProfileMappingProps,
  ResourceTypes, TargetConnectionProps,
} from '../../src/private/contract';

const h = useHarness(FAULT_KNOBS);
const TIMEOUT_MS = Number(FAULT_KNOBS.AEP_HTTP_TIMEOUT_MS);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const SOURCE = { resourceType: DataflowResourceTypes.SOURCE_CONNECTION, logicalId: 'ProfileStore1' };
const FLOW = { resourceType: DataflowResourceTypes.FLOW, logicalId: 'Flow1' };
const PROFILE = { resourceType: DataflowResourceTypes.PROFILE_MAPPING, logicalId: 'ProfileMapping1' };
const ATTRIBUTES = ['person.name.firstName', 'personalEmail.address', 'identityMap.Email'];

const audience = (id: string, frequency = 'DAILY') => ({
  id, exportMode: 'FIRST_FULL_THEN_INCREMENTAL', schedule: { frequency, startDate: '2025-01-05' }, fileNameTemplate: '%SEGMENT_ID%_%TIMESTAMP%',
});

/** A destination base connection and its S3 target connection (the exports' target). */
async function destinationTarget(suffix = ''): Promise<string> {
  const { PhysicalResourceId: base } = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey(`aep/key${suffix}`)), { logicalId: `Base${suffix}` }));
  const { PhysicalResourceId: target } = await handler(cfnEvent('Create', {
    ...h.common(),
    [TargetConnectionProps.NAME]: 'exports',
    [TargetConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
    [TargetConnectionProps.BASE_CONNECTION_ID]: base,
    [TargetConnectionProps.PARAMS]: { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: `aep/audiences${suffix}`, fileType: 'CSV', compression: 'GZIP' },
  }, { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: `Target${suffix}` }));
  return target;
}

function profileStoreProps(name = 'profiles') {
  return {
    ...h.common(),
    [DataflowConnectionProps.NAME]: name,
    [DataflowConnectionProps.DESCRIPTION]: 'Managed by CloudFormation',
    [DataflowConnectionProps.CONNECTION_SPEC_ID]: DataflowIds.PROFILE_STORE_SOURCE_SPEC,
  };
}

function flowProps(sourceId: string, targetId: string, extra: Record<string, unknown> = {}) {
  return {
    ...h.common(),
    [FlowProps.NAME]: 'audiences to S3',
    [FlowProps.DESCRIPTION]: 'Managed by CloudFormation',
    [FlowProps.FLOW_SPEC_ID]: DataflowIds.S3_AUDIENCE_FLOW_SPEC,
    [FlowProps.SOURCE_CONNECTION_ID]: sourceId,
    [FlowProps.TARGET_CONNECTION_ID]: targetId,
    [FlowProps.AUDIENCES]: [audience('seg-1'), audience('seg-2')],
    [FlowProps.MANDATORY_FIELDS]: [],
    [FlowProps.PRIMARY_FIELDS]: [],
    [FlowProps.ENABLED]: 'true',
    ...extra,
  };
}

/** Source connection, profile mapping and flow, as CloudFormation creates them; returns the ids and the flow's props. */
async function deployExport() {
  const target = await destinationTarget();
  const { PhysicalResourceId: source } = await handler(cfnEvent('Create', profileStoreProps(), SOURCE));
  const profile = await handler(cfnEvent('Create', { ...h.common(), [ProfileMappingProps.ATTRIBUTES]: ATTRIBUTES }, PROFILE));
  const mapping = { mappingId: profile.Data!.MappingSetId, mappingVersion: profile.Data!.MappingSetVersion };
  const props = flowProps(source, target, { [FlowProps.PROFILE_MAPPING]: mapping });
  h.aep.resetRecording();
  const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', props, FLOW));
  return { target, source, flow, props };
}

const flowOf = (id: string) => h.aep.flows().find((f) => f.id === id)!;
type Selectors = { selectors: Array<{ value: { id: string } }> };
const selectorIds = (f: StoredFlow) => (f.transformations[0].params.segmentSelectors as Selectors).selectors.map((s) => s.value.id);
// A token cached by an earlier test meets a reset stand-in: its 401 and the IMS call are not this test's traffic.
const calls = () => h.aep.requests.filter((r) => !r.path.startsWith('/ims') && r.status !== 401).map((r) => `${r.method} ${r.path.replace(/^\/data\/foundation(\/flowservice)?/, '').replace(/[0-9a-f-]{24,}/g, '{id}')}`);

describe('create', () => {
  test('profile store source, profile mapping and audience flow: POST skeleton, one PATCH with everything', async () => {
    const { flow, source, target } = await deployExport();
    const f = flowOf(flow);
    expect(f.sourceConnectionIds).toEqual([source]);
    expect(f.targetConnectionIds).toEqual([target]);
    expect(selectorIds(f)).toEqual(['seg-1', 'seg-2']);
    expect(f.state).toBe('enabled');
    const mapping = f.transformations[0].params.profileMapping as { mappingId: string; mappingVersion: number };
    expect(h.aep.dataflows.mappingSets.get(mapping.mappingId)!.inputSchema).toBeDefined();
    expect(calls()).toEqual([
      'GET /flowSpecs/{id}', 'GET /flows', 'POST /flows', 'GET /flows/{id}', 'PATCH /flows/{id}',
    ]);
  });

  test('the profile mapping reads the union schema and the partner schema, posts both, then the set', async () => {
    await handler(cfnEvent('Create', { ...h.common(), [ProfileMappingProps.ATTRIBUTES]: ATTRIBUTES }, PROFILE));
    expect(calls()).toEqual([
      'GET /conversion/mappingSets', 'GET /data/core/ups/config/entityTypes/_xdm.context.profile', 'GET /connectionSpecs/{id}',
      'POST /conversion/schemas', 'POST /conversion/schemas', 'POST /conversion/mappingSets',
    ]);
  });

  test('an attribute missing from the union schema fails before anything is created, naming it', async () => {
    const err = await rejectionOf(() => handler(cfnEvent('Create', { ...h.common(), [ProfileMappingProps.ATTRIBUTES]: ['person.name.nickName', 'identityMap.Email'] }, PROFILE)));
    expect(err.message).toMatch(/person\.name\.nickName not found in the profile union schema/);
    expect(h.aep.requests.filter((r) => r.method === 'POST' && !r.path.startsWith('/ims'))).toEqual([]);
  });
});

describe('adoption after an ambiguous POST', () => {
  test.each([
    ['504, applied now', { kind: 'status', status: 504, apply: 'now' } as const],
    ['504, applied two timeouts later', { kind: 'status', status: 504, apply: 'later', applyAfterMs: 2 * TIMEOUT_MS } as const],
  ])('flow POST %s: exactly one flow, configured', async (_name, fault) => {
    const target = await destinationTarget();
    const { PhysicalResourceId: source } = await handler(cfnEvent('Create', profileStoreProps(), SOURCE));
    h.aep.inject({ ...fault, match: { method: 'POST', path: '/flows' } });
    const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', flowProps(source, target), FLOW));
    h.aep.flushPending();
    await sleep(TIMEOUT_MS);
    expect(h.aep.flows().map((f) => f.id)).toEqual([flow]);
    expect(selectorIds(flowOf(flow))).toEqual(['seg-1', 'seg-2']);
  });

  describe('a flow POST applied after the whole settle window (late twin)', () => {
    async function createWithLateTwin(extra: Record<string, unknown> = {}) {
      const target = await destinationTarget();
      const { PhysicalResourceId: source } = await handler(cfnEvent('Create', profileStoreProps(), SOURCE));
      h.aep.inject({ kind: 'status', status: 504, apply: 'later', applyAfterMs: 60_000, match: { method: 'POST', path: '/flows' } });
      const props = flowProps(source, target, extra);
      const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', props, FLOW));
      // Applied after the Create stopped watching for it.
      expect(h.aep.pendingApplications).toBe(1);
      h.aep.flushPending();
      return { flow, props };
    }

    test('applied while the Create still watches: removed before the Create returns (no second enabled flow)', async () => {
      const target = await destinationTarget();
      const { PhysicalResourceId: source } = await handler(cfnEvent('Create', profileStoreProps(), SOURCE));
      // After the settle window (3 timeouts) and the second POST.
      h.aep.inject({ kind: 'status', status: 504, apply: 'later', applyAfterMs: 6 * TIMEOUT_MS, match: { method: 'POST', path: '/flows' } });
      const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', flowProps(source, target, { [FlowProps.ENABLED]: 'false' }), FLOW));
      const posts = h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/flows'));
      expect(posts.map((r) => r.status)).toEqual([504, 201]);
      expect(posts[0].applied?.status).toBe(201);
      expect(h.aep.pendingApplications).toBe(0);
      expect(h.aep.flows().map((f) => [f.id, f.state])).toEqual([[flow, 'disabled']]);
    });

    test('the Update removes the twin', async () => {
      const { flow, props } = await createWithLateTwin();
      expect(h.aep.flows()).toHaveLength(2);
      await handler(cfnEvent('Update', props, { ...FLOW, physicalId: flow, oldProps: props }));
      expect(h.aep.flows().map((f) => f.id)).toEqual([flow]);
    });

    test('the Delete removes the twin, and the connections can go after it', async () => {
      const { flow, props } = await createWithLateTwin();
      const twin = h.aep.flows().find((f) => f.id !== flow)!;
      expect(twin.state).toBe('enabled');
      await handler(cfnEvent('Delete', props, { ...FLOW, physicalId: flow }));
      expect(h.aep.flows()).toEqual([]);
      await handler(cfnEvent('Delete', profileStoreProps(), { ...SOURCE, physicalId: String(props[FlowProps.SOURCE_CONNECTION_ID]) }));
      expect(h.aep.sourceConnections()).toEqual([]);
    });
  });

  test('flow POST 504 applied now with 100 newer flows of the same kind: the lookup follows the continuation to page 2 and adopts', async () => {
    const target = await destinationTarget();
    const { PhysicalResourceId: source } = await handler(cfnEvent('Create', profileStoreProps(), SOURCE));
    const { PhysicalResourceId: template } = await handler(cfnEvent('Create', flowProps(source, target), { ...FLOW, logicalId: 'UiTemplate' }));
    // 100 flows on the same connections, made in the UI after ours will be: ours lands on page 2.
    const later = Date.now() + 3_600_000;
    // One read of the stored flow (flows() copies them all), a deep copy of it per UI flow.
    const templateFlow = flowOf(template);
    for (let i = 0; i < 100; i++) {
      h.aep.dataflows.flows.put({ ...structuredClone(templateFlow), id: `ui-flow-${String(i).padStart(4, '0')}`, description: 'made in the UI', createdAt: later + i });
    }
    h.aep.inject({ kind: 'status', status: 504, apply: 'now', match: { method: 'POST', path: '/flows' } });
    h.aep.resetRecording();
    const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', flowProps(source, target), FLOW));
    expect(h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/flows')).map((r) => r.status)).toEqual([504]);
    const lists = h.aep.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/flows'));
    // AEP answers at most 100 items; the rest is behind _links.next.
    const first = lists.find((r) => r.query.continuationToken === undefined && (r.response as { items: unknown[] }).items.length === 100)!;
    expect((first.response as { _links?: { next?: { href?: string } } })._links?.next?.href).toMatch(/continuationToken=/);
    expect(lists.some((r) => r.query.continuationToken !== undefined)).toBe(true);
    const marker = flowOf(flow).description;
    expect(h.aep.flows().filter((f) => f.description === marker).map((f) => f.id)).toEqual([flow]);
    expect(h.aep.flows()).toHaveLength(102);
  });

  test('source connection POST 504 applied now: one source connection', async () => {
    h.aep.inject({ kind: 'status', status: 504, apply: 'now', match: { method: 'POST', path: '/sourceConnections' } });
    const { PhysicalResourceId: source } = await handler(cfnEvent('Create', profileStoreProps(), SOURCE));
    expect(h.aep.sourceConnections().map((s) => s.id)).toEqual([source]);
  });

  test('mapping set POST 504 applied now: the set is adopted by its marked name, none made twice', async () => {
    h.aep.inject({ kind: 'status', status: 504, apply: 'now', match: { method: 'POST', path: '/data/foundation/conversion/mappingSets' } });
    const res = await handler(cfnEvent('Create', { ...h.common(), [ProfileMappingProps.ATTRIBUTES]: ATTRIBUTES }, PROFILE));
    expect([...h.aep.dataflows.mappingSets.keys()]).toEqual([res.PhysicalResourceId]);
  });

  test('mapping set POST 504 applied now, Data Prep ignoring ?name= and 250 older sets: the lookup pages to the set, none made twice', async () => {
    h.aep.dataflows.mappingSetNameFilter = 'ignored';
    for (let i = 0; i < 250; i++) {
      h.aep.dataflows.mappingSets.set(`foreign-${i}`, {
        id: `foreign-${i}`,
        sandboxName: 'prod',
        name: `made in the UI ${i}`,
        version: 0,
        createdDate: i,
        modifiedDate: i,
        outputSchema: { id: 'x' },
        mappings: [],
      });
    }
    h.aep.inject({ kind: 'status', status: 504, apply: 'now', match: { method: 'POST', path: '/data/foundation/conversion/mappingSets' } });
    const res = await handler(cfnEvent('Create', { ...h.common(), [ProfileMappingProps.ATTRIBUTES]: ATTRIBUTES }, PROFILE));
    const ours = [...h.aep.dataflows.mappingSets.keys()].filter((id) => !id.startsWith('foreign-'));
    expect(ours).toEqual([res.PhysicalResourceId]);
    const lookups = h.aep.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/mappingSets'));
    expect(lookups.length).toBeGreaterThanOrEqual(3);
  });

  test('mapping set POST 504 applied two timeouts later: looked up through the settle window, never POSTed twice', async () => {
    h.aep.inject({ kind: 'status', status: 504, apply: 'later', applyAfterMs: 2 * TIMEOUT_MS, match: { method: 'POST', path: '/data/foundation/conversion/mappingSets' } });
    const res = await handler(cfnEvent('Create', { ...h.common(), [ProfileMappingProps.ATTRIBUTES]: ATTRIBUTES }, PROFILE));
    await h.aep.settle();
    expect([...h.aep.dataflows.mappingSets.keys()]).toEqual([res.PhysicalResourceId]);
    expect(h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/mappingSets')).map((r) => r.status)).toEqual([504]);
  });
});

describe('update', () => {
  test('name, one audience and enabled change in place: same id, one PATCH, one action', async () => {
    const { flow, props } = await deployExport();
    h.aep.resetRecording();
    const next = { ...props, [FlowProps.NAME]: 'renamed', [FlowProps.AUDIENCES]: [audience('seg-1'), audience('seg-2', 'EVERY_6_HOURS')], [FlowProps.ENABLED]: 'false' };
    const res = await handler(cfnEvent('Update', next, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(flow);
    const patches = h.aep.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((p) => (p.body as Array<{ op: string; path: string }>).map((o) => `${o.op} ${o.path}`))).toEqual([
      ['replace /name', 'replace /transformations/0/params/segmentSelectors/selectors/1'],
    ]);
    expect(h.aep.requests.filter((r) => r.path.endsWith('/action')).map((r) => r.query.op)).toEqual(['disable']);
    const f = flowOf(flow);
    expect(f.name).toBe('renamed');
    expect(f.state).toBe('disabled');
  });

  test('changed attributes: a new mapping set, the flow\'s profileMapping patched in place', async () => {
    const { flow, props } = await deployExport();
    const before = flowOf(flow).transformations[0].params.profileMapping as { mappingId: string };
    const old = { ...h.common(), [ProfileMappingProps.ATTRIBUTES]: ATTRIBUTES };
    const changed = { ...h.common(), [ProfileMappingProps.ATTRIBUTES]: ['person.name.lastName', 'identityMap.Email'] };
    const profile = await handler(cfnEvent('Update', changed, { ...PROFILE, physicalId: before.mappingId, oldProps: old }));
    expect(profile.PhysicalResourceId).not.toBe(before.mappingId);
    const next = { ...props, [FlowProps.PROFILE_MAPPING]: { mappingId: profile.Data!.MappingSetId, mappingVersion: '0' } };
    h.aep.resetRecording();
    await handler(cfnEvent('Update', next, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(h.aep.requests.filter((r) => r.method === 'PATCH').map((r) => r.body)).toEqual([
      [{ op: 'add', path: '/transformations/0/params/profileMapping', value: { mappingId: profile.PhysicalResourceId, mappingVersion: 0 } }],
    ]);
    // Unchanged attributes on an Update keep the set (no POST).
    h.aep.resetRecording();
    const same = await handler(cfnEvent('Update', changed, { ...PROFILE, physicalId: profile.PhysicalResourceId, oldProps: changed }));
    expect(same.PhysicalResourceId).toBe(profile.PhysicalResourceId);
    expect(h.aep.requests.filter((r) => r.method === 'POST' && !r.path.startsWith('/ims'))).toEqual([]);
  });

  test('a one-audience PATCH racing a UI change (412): the flow is re-read and the ops rebuilt', async () => {
    const { flow, props } = await deployExport();
    h.aep.resetRecording();
    // Hold our PATCH back; meanwhile someone removes seg-1 in the UI (selector indexes shift, etag changes).
    h.aep.inject({ kind: 'delay', delayMs: TIMEOUT_MS / 2, match: { method: 'PATCH' } });
    const next = { ...props, [FlowProps.AUDIENCES]: [audience('seg-1'), audience('seg-2', 'EVERY_12_HOURS')] };
    const update = handler(cfnEvent('Update', next, { ...FLOW, physicalId: flow, oldProps: props }));
    while (!h.aep.requests.some((r) => r.method === 'PATCH')) await sleep(5);
    const stored = h.aep.dataflows.flows.all().find((f) => f.id === flow)!;
    const ui = structuredClone(stored);
    (ui.transformations[0].params.segmentSelectors as { selectors: unknown[] }).selectors.shift();
    h.aep.dataflows.flows.put({ ...ui, etag: '"ui-edit-0001"', version: '"ui-edit-0001"' });
    await update;
    const statuses = h.aep.requests.filter((r) => r.method === 'PATCH').map((r) => r.status);
    expect(statuses).toEqual([412, 200]);
    const f = flowOf(flow);
    expect(selectorIds(f).sort()).toEqual(['seg-1', 'seg-2']);
    const seg2 = (f.transformations[0].params.segmentSelectors as { selectors: Array<{ value: { id: string; schedule: { frequency: string } } }> }).selectors.find((s) => s.value.id === 'seg-2')!;
    expect(seg2.value.schedule.frequency).toBe('EVERY_12_HOURS');
  });

  test('a new target connection replaces the flow; CloudFormation\'s cleanup Delete removes the old one', async () => {
    const { flow, props } = await deployExport();
    const otherTarget = await destinationTarget('2');
    const next = { ...props, [FlowProps.TARGET_CONNECTION_ID]: otherTarget };
    const res = await handler(cfnEvent('Update', next, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(res.PhysicalResourceId).not.toBe(flow);
    expect(flowOf(res.PhysicalResourceId).targetConnectionIds).toEqual([otherTarget]);
    await handler(cfnEvent('Delete', props, { ...FLOW, physicalId: flow }));
    expect(h.aep.flows().map((f) => f.id)).toEqual([res.PhysicalResourceId]);
  });

  test('a rollback that adopts the original flow and then fails to patch it leaves the original in place', async () => {
    const { flow, props } = await deployExport();
    const otherTarget = await destinationTarget('2');
    const next = { ...props, [FlowProps.TARGET_CONNECTION_ID]: otherTarget };
    const { PhysicalResourceId: replacement } = await handler(cfnEvent('Update', next, { ...FLOW, physicalId: flow, oldProps: props }));
    // A later resource failed: the rollback sends the old properties to the replacement's id; it
    // adopts the original flow by marker, and its reconfiguring PATCH is refused.
    await h.aep.uiPatch('/flows', flow, [{ op: 'replace', path: '/name', value: 'renamed in the UI' }]);
    h.aep.inject({ match: { method: 'PATCH', path: `/flows/${flow}` }, kind: 'status', status: 400, body: { errorCode: '1400-400', errorMessage: 'refused' } });
    await rejectionOf(() => handler(cfnEvent('Update', props, { ...FLOW, physicalId: replacement, oldProps: next })));
    expect(h.aep.flows().map((f) => f.id).sort()).toEqual([flow, replacement].sort());
  });

  test('a new source connection (spec change of the source) replaces the flow too', async () => {
    const { flow, props, target } = await deployExport();
    const { PhysicalResourceId: source2 } = await handler(cfnEvent('Create', profileStoreProps('profiles 2'), { ...SOURCE, logicalId: 'ProfileStore2' }));
    const next = { ...props, [FlowProps.SOURCE_CONNECTION_ID]: source2 };
    const res = await handler(cfnEvent('Update', next, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(res.PhysicalResourceId).not.toBe(flow);
    expect(flowOf(res.PhysicalResourceId).sourceConnectionIds).toEqual([source2]);
    expect(flowOf(res.PhysicalResourceId).targetConnectionIds).toEqual([target]);
  });
});

test('a new flow whose configuring PATCH never gets an answer is removed before the Create fails', async () => {
  const target = await destinationTarget();
  const { PhysicalResourceId: source } = await handler(cfnEvent('Create', profileStoreProps(), SOURCE));
  // Every PATCH of the new flow goes unanswered (client timeouts, retried) until the deadline;
  // the invocation has 3 s left after its safety margin.
  h.aep.inject({ match: { method: 'PATCH', path: /\/flows\/[^/]+$/ }, kind: 'timeout', times: 1000 });
  const context = { getRemainingTimeInMillis: () => 5_000 + 3_000 };
  const err = await rejectionOf(() => handler(cfnEvent('Create', flowProps(source, target), FLOW), context));
  h.aep.clearFaults();
  expect(err.message).toMatch(/PATCH \/flows/);
  expect(h.aep.flows()).toEqual([]);
  expect(h.aep.requests.filter((r) => r.method === 'DELETE' && /\/flows\//.test(r.path)).map((r) => r.status)).toEqual([202]);
});

describe('enable/disable whose answer is lost (applied, then 1422 on a blind retry)', () => {
  const lostAction = () => h.aep.inject({ kind: 'status', status: 504, apply: 'now', match: { method: 'POST', path: /\/flows\/[^/]+\/action$/ } });

  test('Create of a disabled flow: the lost disable is found applied; the new flow stays', async () => {
    const { source, target } = await deployExport();
    lostAction();
    h.aep.resetRecording();
    const res = await handler(cfnEvent('Create', flowProps(source, target, { [FlowProps.ENABLED]: 'false' }), { ...FLOW, logicalId: 'Disabled1' }));
    expect(h.aep.pendingFaults).toBe(0);
    expect(flowOf(res.PhysicalResourceId).state).toBe('disabled');
    expect(res.Data!.Etag).toBe(flowOf(res.PhysicalResourceId).etag);
    expect(h.aep.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    // No blind second action: the state was read instead.
    expect(h.aep.requests.filter((r) => r.path.endsWith('/action')).map((r) => r.status)).toEqual([504]);
    expect(h.aep.validationFailures).toEqual([]);
  });

  test('Update to disabled: the lost disable is found applied; the Update succeeds', async () => {
    const { flow, props } = await deployExport();
    lostAction();
    h.aep.resetRecording();
    const res = await handler(cfnEvent('Update', { ...props, [FlowProps.ENABLED]: 'false' }, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(flow);
    expect(flowOf(flow).state).toBe('disabled');
    expect(h.aep.requests.filter((r) => r.path.endsWith('/action')).map((r) => r.status)).toEqual([504]);
    expect(h.aep.validationFailures).toEqual([]);
  });

  test('a 1422 answer (the flow already is in the asked state) counts as done', async () => {
    const { flow, props } = await deployExport();
    // The action's answer comes back as AEP's 1422 once its state already is the asked one.
    h.aep.inject({ kind: 'status', status: 400, apply: 'now', match: { method: 'POST', path: /\/action$/ }, body: { errorCode: '1422-400', errorMessage: 'The action disable cannot be applied on the current state disabled' } });
    const res = await handler(cfnEvent('Update', { ...props, [FlowProps.ENABLED]: 'false' }, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(flow);
    expect(flowOf(flow).state).toBe('disabled');
  });

  test('an action refused for another reason still fails', async () => {
    const { flow, props } = await deployExport();
    h.aep.inject({ kind: 'status', status: 400, match: { method: 'POST', path: /\/action$/ }, body: { errorCode: '1420-400', errorMessage: 'state disabling cannot be updated' } });
    const err = await rejectionOf(() => handler(cfnEvent('Update', { ...props, [FlowProps.ENABLED]: 'false' }, { ...FLOW, physicalId: flow, oldProps: props })));
    expect(err.message).toMatch(/1420-400/);
    expect(flowOf(flow).state).toBe('enabled');
  });
});

describe('delete', () => {
  test('flow then source connection; a second Delete of either tolerates the 404', async () => {
    const { flow, source, props } = await deployExport();
    await handler(cfnEvent('Delete', props, { ...FLOW, physicalId: flow }));
    await handler(cfnEvent('Delete', profileStoreProps(), { ...SOURCE, physicalId: source }));
    expect(h.aep.flows()).toEqual([]);
    expect(h.aep.sourceConnections()).toEqual([]);
    h.aep.resetRecording();
    await handler(cfnEvent('Delete', props, { ...FLOW, physicalId: flow }));
    await handler(cfnEvent('Delete', profileStoreProps(), { ...SOURCE, physicalId: source }));
    expect(h.aep.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  test('a DELETE whose answer is lost (504 applied now) then 404 on the retry: done', async () => {
    const { flow, props } = await deployExport();
    // AEP carries the deletion out at once here: the retry finds the flow gone.
    h.aep.dataflows.deletes.delayMs = 0;
    h.aep.inject({ kind: 'status', status: 504, apply: 'now', match: { method: 'DELETE' } });
    await handler(cfnEvent('Delete', props, { ...FLOW, physicalId: flow }));
    expect(h.aep.flows()).toEqual([]);
    expect(h.aep.requests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([504, 404]);
  });

  test('a DELETE whose answer is lost while AEP is still deleting (202 again): done once the flow is gone', async () => {
    const { flow, props } = await deployExport();
    h.aep.inject({ kind: 'status', status: 504, apply: 'now', match: { method: 'DELETE' } });
    await handler(cfnEvent('Delete', props, { ...FLOW, physicalId: flow }));
    expect(h.aep.flows()).toEqual([]);
    expect(h.aep.requests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([504, 202]);
  });

  test('AEP accepted the flow DELETE (202) but polling it fails past the retries: the Delete is done, with a warning', async () => {
    const { flow, props } = await deployExport();
    const deletes = h.aep.dataflows.deletes;
    deletes.delayMs = 60_000;
    // From the moment AEP accepts the DELETE, every GET of the flow answers 503 (more often than the handler tries).
    const accept = deletes.accept.bind(deletes);
    jest.spyOn(deletes, 'accept').mockImplementation((id, remove, defer) => {
      h.aep.inject({ kind: 'status', status: 503, times: 50, match: { method: 'GET', path: `/flows/${flow}` } });
      accept(id, remove, defer);
    });
    await handler(cfnEvent('Delete', props, { ...FLOW, physicalId: flow }));
    expect(h.aep.requests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([202]);
    expect(h.aep.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/flows/${flow}`) && r.status === 503).length).toBeGreaterThan(1);
    // Accepted, so AEP carries it out; the connections' own in-use retry waits for it.
    expect(h.aep.dataflows.deletes.isDeleting(flow)).toBe(true);
    expect(h.output.join('\n')).toMatch(/accepted the deletion of the dataflow but could not confirm it/);
  });

  test('a base connection used by a flow the stack does not own fails the Delete naming the flow and RETAIN', async () => {
    const key = h.seedKey();
    const baseProps = h.sourceSessionTokenProps(key, 3600);
    const { PhysicalResourceId: base } = await handler(cfnEvent('Create', baseProps, { logicalId: 'SourceBase' }));
    // Made in the UI: a source connection on that base, a Data Lake target and a flow between them.
    const s3Source = await handler(cfnEvent('Create', {
      ...h.common(),
      [DataflowConnectionProps.NAME]: 'ui files',
      [DataflowConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
      [DataflowConnectionProps.BASE_CONNECTION_ID]: base,
      [DataflowConnectionProps.DATA]: { format: 'parquet' },
      [DataflowConnectionProps.PARAMS]: { path: '/acme-aep-inbound/x', type: 'folder' },
    }, { ...SOURCE, logicalId: 'UiSource' }));
    h.aep.dataflows.flows.put({
      ...flowOf((await deployExport()).flow),
      id: 'ui-flow-0001',
      name: 'Nightly import (UI)',
      description: 'made in the UI',
      sourceConnectionIds: [s3Source.PhysicalResourceId],
      targetConnectionIds: ['ui-target-0001'],
    });
    const err = await rejectionOf(() => handler(cfnEvent('Delete', baseProps, { logicalId: 'SourceBase', physicalId: base })));
    expect(err.message).toMatch(/still used by dataflow "Nightly import \(UI\)" \(ui-flow-0001\)/);
    expect(err.message).toMatch(/RETAIN/);
    expect(h.aep.connections().map((c) => c.id)).toContain(base);
    // AEP's refusal (1418-400) is the point of this test, not a malformed request of ours.
    expect(h.aep.validationFailures.length).toBeGreaterThan(0);
    expect(h.aep.validationFailures).toEqual(h.aep.validationFailures.map(() => expect.stringMatching(/1418|being used in one or more flows/)));
    h.aep.resetRecording();
  });
});

test('no Data Prep object is deleted (none can be): a profile mapping Delete makes no request', async () => {
  const res = await handler(cfnEvent('Create', { ...h.common(), [ProfileMappingProps.ATTRIBUTES]: ATTRIBUTES }, PROFILE));
  h.aep.resetRecording();
  await handler(cfnEvent('Delete', { ...h.common(), [ProfileMappingProps.ATTRIBUTES]: ATTRIBUTES }, { ...PROFILE, physicalId: res.PhysicalResourceId }));
  expect(calls()).toEqual([]);
  expect([...h.aep.dataflows.mappingSets.keys()]).toEqual([res.PhysicalResourceId]);
});

test('ConnectionProps and FlowProps share the removal policy name the shared Delete reads', () => {
  expect(FlowProps.REMOVAL_POLICY).toBe(ConnectionProps.REMOVAL_POLICY);
  expect(DataflowConnectionProps.REMOVAL_POLICY).toBe(ConnectionProps.REMOVAL_POLICY);
});

describe('a source/target connection kind compares only what the stack sets', () => {
  test('fields AEP adds, numbers echoed for numeric strings, and key order do not count', () => {
    const desired = { format: 'delimited', properties: { columnDelimiter: ',' }, datasets: [{ dataSetId: 'a', name: 'a' }] };
    const fromAep = { format: 'delimited', properties: { columnDelimiter: ',', encoding: 'UTF-8' }, datasets: [{ name: 'a', dataSetId: 'a', added: 1 }], extra: true };
    expect(canonical(projectLike(fromAep, desired))).toBe(canonical(desired));
    expect(projectLike({ interval: 15 }, { interval: '15' })).toEqual({ interval: '15' });
  });

  test('a value the stack sets that differs, a missing key, or another number of array items still count', () => {
    const desired = { format: 'delimited', datasets: [{ dataSetId: 'a' }] };
    expect(canonical(projectLike({ format: 'json', datasets: [{ dataSetId: 'a' }] }, desired))).not.toBe(canonical(desired));
    expect(canonical(projectLike({ datasets: [{ dataSetId: 'a' }] }, desired))).not.toBe(canonical(desired));
    expect(canonical(projectLike({ format: 'delimited', datasets: [{ dataSetId: 'a' }, { dataSetId: 'b' }] }, desired))).not.toBe(canonical(desired));
  });
});
