/**
 * Dataset export dataflows at the handler level, over real HTTP against the stand-in: a Data Lake
 * source connection naming the datasets and a flow of the S3 dataset spec; the schedule patched in
 * place (one PATCH), a datasets change re-pointing the flow to a new source connection (same flow
 * id), a target change replacing the flow, deletes, and what the stand-in refuses.
 */
import { cfnEvent, rejectionOf, FAULT_KNOBS, useHarness } from './harness';
import { handler } from '../../src/handler/aep.lambda';
import { LAMBDA_SAFETY_MARGIN_MS } from '../../src/plumbing/config';
import {
  AepIds, DataflowConnectionProps, DataflowIds, DataflowResourceTypes, FlowProps, ResourceTypes, TargetConnectionProps,
} from '../../src/private/contract';

const h = useHarness(FAULT_KNOBS);

const SOURCE = { resourceType: DataflowResourceTypes.SOURCE_CONNECTION, logicalId: 'DataLake1' };
const FLOW = { resourceType: DataflowResourceTypes.FLOW, logicalId: 'DatasetFlow1' };
const DS1 = '5f3c3cedb2805c194ff0b69a';
const DS2 = '6a1b2c3d4e5f60718293a4b5';
const START = 1735689600; // 2025-01-01T00:00:00Z
const SCHEDULE = { interval: '6', timeUnit: 'hour', startTime: String(START), exportMode: 'FIRST_FULL_THEN_INCREMENTAL', folderNameTemplate: '%DATASET_ID%_%EXPORT_TIME%' };

/** A destination base connection and an S3 target connection for dataset (or audience) exports. */
async function target(params: Record<string, unknown>, suffix = ''): Promise<string> {
  const { PhysicalResourceId: base } = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey(`aep/key${suffix}`)), { logicalId: `Base${suffix}` }));
  const { PhysicalResourceId: id } = await handler(cfnEvent('Create', {
    ...h.common(),
    [TargetConnectionProps.NAME]: 'dataset exports',
    [TargetConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
    [TargetConnectionProps.BASE_CONNECTION_ID]: base,
    [TargetConnectionProps.PARAMS]: { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: `aep/datasets${suffix}`, compression: 'GZIP', ...params },
  }, { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: `Target${suffix}` }));
  return id;
}
const datasetTarget = (suffix = '') => target({ datasetFileType: 'JSON' }, suffix);

function dataLakeProps(datasets: string[]) {
  return {
    ...h.common(),
    [DataflowConnectionProps.NAME]: 'datasets',
    [DataflowConnectionProps.DESCRIPTION]: 'Managed by CloudFormation',
    [DataflowConnectionProps.CONNECTION_SPEC_ID]: DataflowIds.DATA_LAKE_SOURCE_SPEC,
    [DataflowConnectionProps.PARAMS]: { datasets: datasets.map((id) => ({ dataSetId: id, name: `dataset ${id}` })) },
  };
}

function flowProps(sourceId: string, targetId: string, schedule: Record<string, string> = SCHEDULE) {
  return {
    ...h.common(),
    [FlowProps.NAME]: 'datasets to S3',
    [FlowProps.DESCRIPTION]: 'Managed by CloudFormation',
    [FlowProps.FLOW_SPEC_ID]: DataflowIds.S3_DATASET_FLOW_SPEC,
    [FlowProps.SOURCE_CONNECTION_ID]: sourceId,
    [FlowProps.TARGET_CONNECTION_ID]: targetId,
    [FlowProps.DATASET_SCHEDULE]: schedule,
    [FlowProps.ENABLED]: 'true',
  };
}

async function deploy(schedule: Record<string, string> = SCHEDULE) {
  const targetId = await datasetTarget();
  h.aep.resetRecording();
  const { PhysicalResourceId: source } = await handler(cfnEvent('Create', dataLakeProps([DS1]), SOURCE));
  const props = flowProps(source, targetId, schedule);
  const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', props, FLOW));
  return { target: targetId, source, flow, props };
}

const flowOf = (id: string) => h.aep.flows().find((f) => f.id === id)!;
const calls = () => h.aep.requests.filter((r) => !r.path.startsWith('/ims') && r.status !== 401)
  .map((r) => `${r.method} ${r.path.replace(/^\/data\/foundation\/flowservice/, '').replace(/[0-9a-f-]{24,}/g, '{id}')}`);
const patchOps = () => h.aep.requests.filter((r) => r.method === 'PATCH').map((r) => (r.body as Array<{ op: string; path: string }>).map((o) => `${o.op} ${o.path}`));

describe('create', () => {
  test('Data Lake source connection and dataset flow: 6 requests, no PATCH, schedule typed as [spec-dst] says', async () => {
    const { flow, source, target: targetId } = await deploy({ ...SCHEDULE, endTime: String(START + 86400 * 90) });
    expect(calls()).toEqual([
      'GET /sourceConnections', 'POST /sourceConnections',
      'GET /flowSpecs/{id}', 'GET /flows', 'POST /flows', 'GET /flows/{id}',
    ]);
    const s = h.aep.sourceConnections().find((c) => c.id === source)!;
    expect(s.params).toEqual({ datasets: [{ dataSetId: DS1, name: `dataset ${DS1}` }] });
    const f = flowOf(flow);
    expect(f.flowSpec.id).toBe(DataflowIds.S3_DATASET_FLOW_SPEC);
    expect(f.sourceConnectionIds).toEqual([source]);
    expect(f.targetConnectionIds).toEqual([targetId]);
    expect(f.transformations).toEqual([]);
    expect(f.scheduleParams).toEqual({
      interval: 6, timeUnit: 'hour', startTime: START, endTime: START + 86400 * 90, exportMode: 'FIRST_FULL_THEN_INCREMENTAL', folderNameTemplate: '%DATASET_ID%_%EXPORT_TIME%',
    });
    expect(f.state).toBe('enabled');
  });

  test('an hourly incremental export (July 2026: every hour next to 3/6/9/12 h and daily) is created as sent', async () => {
    const { flow } = await deploy({ ...SCHEDULE, interval: '1', timeUnit: 'hour' });
    expect(h.aep.validationFailures).toEqual([]);
    expect(flowOf(flow).scheduleParams).toEqual({
      interval: 1,
      timeUnit: 'hour',
      startTime: START,
      exportMode: 'FIRST_FULL_THEN_INCREMENTAL',
      folderNameTemplate: '%DATASET_ID%_%EXPORT_TIME%',
      endTime: expect.any(Number),
    });
  });

  test('without endTime AEP sets one six months out; a redeploy does not count that as drift', async () => {
    const { flow, props } = await deploy();
    expect(flowOf(flow).scheduleParams!.endTime).toEqual(expect.any(Number));
    h.aep.resetRecording();
    const res = await handler(cfnEvent('Update', props, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(flow);
    expect(patchOps()).toEqual([]);
  });

  test('disabled at creation: created, then the disable action', async () => {
    const targetId = await datasetTarget();
    const { PhysicalResourceId: source } = await handler(cfnEvent('Create', dataLakeProps([DS1]), SOURCE));
    const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', { ...flowProps(source, targetId), [FlowProps.ENABLED]: 'false' }, FLOW));
    expect(flowOf(flow).state).toBe('disabled');
  });
});

describe('update', () => {
  test('schedule and folder template change in place: same flow id, one PATCH replace /scheduleParams', async () => {
    const { flow, props } = await deploy();
    h.aep.resetRecording();
    const schedule = { ...SCHEDULE, interval: '1', timeUnit: 'day', endTime: String(START + 86400 * 30), folderNameTemplate: '%DATASET_NAME%' };
    const res = await handler(cfnEvent('Update', { ...props, [FlowProps.DATASET_SCHEDULE]: schedule }, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(flow);
    expect(patchOps()).toEqual([['replace /scheduleParams']]);
    expect(flowOf(flow).scheduleParams).toEqual({
      interval: 1, timeUnit: 'day', startTime: START, endTime: START + 86400 * 30, exportMode: 'FIRST_FULL_THEN_INCREMENTAL', folderNameTemplate: '%DATASET_NAME%',
    });
    expect(h.aep.requests.filter((r) => r.method === 'POST' && !r.path.startsWith('/ims'))).toEqual([]);
  });

  test('a schedule changed in the AEP UI is put back on the next Update', async () => {
    const { flow, props } = await deploy();
    const stored = h.aep.dataflows.flows.all().find((f) => f.id === flow)!;
    h.aep.dataflows.flows.put({ ...stored, scheduleParams: { ...stored.scheduleParams, interval: 12 }, etag: '"ui-edit-0001"', version: '"ui-edit-0001"' });
    h.aep.resetRecording();
    await handler(cfnEvent('Update', props, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(patchOps()).toEqual([['replace /scheduleParams']]);
    expect(flowOf(flow).scheduleParams!.interval).toBe(6);
  });

  test('datasets change: the source connection is replaced, the flow re-pointed in place (same id), the old source then deleted', async () => {
    const { flow, source, props } = await deploy();
    const next = dataLakeProps([DS1, DS2]);
    const replaced = await handler(cfnEvent('Update', next, { ...SOURCE, physicalId: source, oldProps: dataLakeProps([DS1]) }));
    expect(replaced.PhysicalResourceId).not.toBe(source);
    h.aep.resetRecording();
    const flowNext = { ...props, [FlowProps.SOURCE_CONNECTION_ID]: replaced.PhysicalResourceId };
    const res = await handler(cfnEvent('Update', flowNext, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(flow);
    expect(h.aep.requests.filter((r) => r.method === 'PATCH').map((r) => r.body)).toEqual([
      [{ op: 'replace', path: '/sourceConnectionIds', value: [replaced.PhysicalResourceId] }],
    ]);
    // CloudFormation's cleanup: the old source connection is no longer used, so AEP lets it go.
    await handler(cfnEvent('Delete', dataLakeProps([DS1]), { ...SOURCE, physicalId: source }));
    expect(h.aep.sourceConnections().map((s) => s.id)).toEqual([replaced.PhysicalResourceId]);
    expect(flowOf(flow).sourceConnectionIds).toEqual([replaced.PhysicalResourceId]);
  });

  test('a new target connection replaces the flow', async () => {
    const { flow, props } = await deploy();
    const other = await datasetTarget('2');
    const res = await handler(cfnEvent('Update', { ...props, [FlowProps.TARGET_CONNECTION_ID]: other }, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(res.PhysicalResourceId).not.toBe(flow);
    await handler(cfnEvent('Delete', props, { ...FLOW, physicalId: flow }));
    expect(h.aep.flows().map((f) => [f.id, f.targetConnectionIds])).toEqual([[res.PhysicalResourceId, [other]]]);
  });
});

describe('delete', () => {
  test('flow (202) then Data Lake source connection (202); a second Delete makes no DELETE', async () => {
    const { flow, source, props } = await deploy();
    h.aep.resetRecording();
    await handler(cfnEvent('Delete', props, { ...FLOW, physicalId: flow }));
    await handler(cfnEvent('Delete', dataLakeProps([DS1]), { ...SOURCE, physicalId: source }));
    expect(h.aep.requests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([202, 202]);
    expect(h.aep.flows()).toEqual([]);
    expect(h.aep.sourceConnections()).toEqual([]);
    h.aep.resetRecording();
    await handler(cfnEvent('Delete', props, { ...FLOW, physicalId: flow }));
    expect(h.aep.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  test('the source connection cannot go while the flow uses it (AEP 1447-400)', async () => {
    const { source } = await deploy();
    const err = await rejectionOf(() => handler(cfnEvent('Delete', dataLakeProps([DS1]), { ...SOURCE, physicalId: source })));
    expect(err.message).toMatch(/still used by dataflows|1447|active flows/);
    // Retried (a flow deleted just before may still be going), every refusal AEP's 1447.
    expect(h.aep.validationFailures.length).toBeGreaterThan(1);
    expect(h.aep.validationFailures).toEqual(h.aep.validationFailures.map(() => expect.stringMatching(/1447-400|active flows/)));
    h.aep.resetRecording();
  });

  test('a flow deleted elsewhere just before (202, still going): the source connection Delete retries 1447 until it is gone', async () => {
    const { flow, source } = await deploy();
    h.aep.dataflows.deletes.delayMs = 400;
    const res = await fetch(`${h.aep.flowServiceUrl}/flows/${flow}`, { method: 'DELETE', headers: h.aep.flowServiceHeaders(h.aep.issueToken(), 'prod') });
    expect(res.status).toBe(202);
    h.aep.resetRecording();
    await handler(cfnEvent('Delete', dataLakeProps([DS1]), { ...SOURCE, physicalId: source }));
    const statuses = h.aep.requests.filter((r) => r.method === 'DELETE').map((r) => r.status);
    expect(statuses[0]).toBe(400);
    expect(statuses[statuses.length - 1]).toBe(202);
    expect(h.aep.sourceConnections()).toEqual([]);
    h.aep.resetRecording();
  });

  test('waiting for a slow flow deletion leaves the Delete time for its last request (the twin lookup), even a slow one', async () => {
    const { flow, props } = await deploy();
    h.aep.dataflows.deletes.delayMs = 60_000;
    // The list of flows that follows the wait (late twins) takes 200 ms, within the 250 ms HTTP timeout.
    h.aep.inject({ kind: 'delay', delayMs: 200, times: 5, match: { method: 'GET', path: '/flows' } });
    const lambda = { getRemainingTimeInMillis: () => LAMBDA_SAFETY_MARGIN_MS + 2500 };
    const started = Date.now();
    await handler(cfnEvent('Delete', props, { ...FLOW, physicalId: flow }), lambda);
    expect(Date.now() - started).toBeLessThan(2500 + 500);
    const lists = h.aep.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/flows'));
    expect(lists.length).toBeGreaterThan(0);
    expect(lists.every((r) => r.status === 200)).toBe(true);
    expect(h.aep.flows().map((f) => f.id)).toEqual([flow]);
    h.aep.resetRecording();
  });

  test('waiting for a slow flow deletion and retrying 1447 both stop at the Lambda deadline', async () => {
    const { flow, source, props } = await deploy();
    // AEP accepts the flow's DELETE (202) but takes a minute to carry it out.
    h.aep.dataflows.deletes.delayMs = 60_000;
    h.aep.resetRecording();
    const lambda = (ms: number) => ({ getRemainingTimeInMillis: () => LAMBDA_SAFETY_MARGIN_MS + ms });
    let started = Date.now();
    // Budgets of several HTTP timeouts, so one slow answer on a loaded CI box still leaves retries.
    await handler(cfnEvent('Delete', props, { ...FLOW, physicalId: flow }), lambda(2500));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThan(1500);
    expect(waited).toBeLessThan(2500 + 500);
    const flowCalls = h.aep.requests.filter((r) => r.path.endsWith(`/flows/${flow}`));
    expect(flowCalls.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([202]);
    // Polled (more than the one GET the Delete starts with), and the flow is still there.
    expect(flowCalls.filter((r) => r.method === 'GET').length).toBeGreaterThan(2);
    expect(h.aep.flows().map((f) => f.id)).toEqual([flow]);

    h.aep.resetRecording();
    started = Date.now();
    const err = await rejectionOf(() => handler(cfnEvent('Delete', dataLakeProps([DS1]), { ...SOURCE, physicalId: source }), lambda(1000)));
    expect(Date.now() - started).toBeLessThan(1000 + 500);
    expect(err.message).toMatch(/still used by dataflows/);
    const deletes = h.aep.requests.filter((r) => r.method === 'DELETE');
    expect(deletes.length).toBeGreaterThan(1);
    expect(deletes.every((r) => r.status === 400)).toBe(true);
    expect(h.aep.sourceConnections().map((c) => c.id)).toEqual([source]);
    h.aep.resetRecording();
  });
});

describe('what the stand-in refuses', () => {
  test.each([
    ['an 8-hour interval (not in the enum)', { ...SCHEDULE, interval: '8' }, /interval|allowed values/],
    ['a 2-hour interval (not in the enum)', { ...SCHEDULE, interval: '2' }, /interval|allowed values/],
    ['a daily full export', { ...SCHEDULE, interval: '1', timeUnit: 'day', exportMode: 'DAILY_FULL_EXPORT' }, /daily full exports of datasets are not supported/],
    ['milliseconds', { ...SCHEDULE, startTime: String(START * 1000) }, /epoch seconds, not milliseconds/],
    ['an unknown folder macro', { ...SCHEDULE, folderNameTemplate: '%SEGMENT_ID%' }, /unknown macro %SEGMENT_ID%/],
  ])('%s: the Create fails naming the rule, nothing is left', async (_name, schedule, message) => {
    const targetId = await datasetTarget();
    const { PhysicalResourceId: source } = await handler(cfnEvent('Create', dataLakeProps([DS1]), SOURCE));
    const err = await rejectionOf(() => handler(cfnEvent('Create', flowProps(source, targetId, schedule), FLOW)));
    expect(err.message).toMatch(message);
    expect(h.aep.flows()).toEqual([]);
    h.aep.resetRecording();
  });

  test('a dataset flow on an audience target connection (fileType) is refused', async () => {
    const audienceTarget = await target({ fileType: 'CSV' });
    const { PhysicalResourceId: source } = await handler(cfnEvent('Create', dataLakeProps([DS1]), SOURCE));
    const err = await rejectionOf(() => handler(cfnEvent('Create', flowProps(source, audienceTarget), FLOW)));
    expect(err.message).toMatch(/a dataset flow needs one with datasetFileType/);
    h.aep.resetRecording();
  });

  test('a Data Lake source connection without datasets, or with a malformed id, is refused', async () => {
    for (const datasets of [[], ['not-a-dataset']]) {
      const err = await rejectionOf(() => handler(cfnEvent('Create', dataLakeProps(datasets), SOURCE)));
      expect(err.message).toMatch(/params\.datasets/);
    }
    expect(h.aep.sourceConnections()).toEqual([]);
    h.aep.resetRecording();
  });
});
