/**
 * A dataset export in the offline world, deployed through the bundled handler by the
 * CloudFormation simulator: created; its schedule changed (one PATCH, same flow id); a dataset
 * added (a new Data Lake source connection, the flow re-pointed in place, the old one deleted in
 * cleanup); then destroyed in dependency order with nothing left.
 */
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ScenarioScope, ScenarioWorld } from '../../offline-world/scenario';
import { AepS3Destination, DatasetExportSchedule, ExportType } from '../../src';
import { DataflowIds, DataflowResourceTypes } from '../../src/private/contract';

jest.setTimeout(90_000);

let w: ScenarioWorld;
let n = 0;
beforeEach(async () => {
  w = await ScenarioWorld.start(`DatasetExport${++n}`);
});
afterEach(async () => {
  await w.close();
});

const DS1 = '5f3c3cedb2805c194ff0b69a';
const DS2 = '6a1b2c3d4e5f60718293a4b5';
const START = '2025-01-01T00:00:00Z';
const END = '2025-06-30T00:00:00Z';

function app(datasets: string[], schedule: DatasetExportSchedule) {
  return ({ stack, sandbox }: ScenarioScope) => {
    const destination = new AepS3Destination(stack, 'Datasets', {
      sandbox: sandbox(), bucket: s3.Bucket.fromBucketName(stack, 'OutBucket', 'acme-aep-exports'), exportType: ExportType.DATASETS,
    });
    destination.addDatasetDataflow('Lake', {
      datasets: datasets.map((datasetId) => ({ datasetId })),
      schedule,
      folderNameTemplate: '%DATASET_ID%_%EXPORT_TIME%',
    });
  };
}

const flowIds = () => w.sim.resources().filter((r) => r.type === DataflowResourceTypes.FLOW).map((r) => r.physicalId);
const sourceIds = () => w.sim.resources().filter((r) => r.type === DataflowResourceTypes.SOURCE_CONNECTION).map((r) => r.physicalId);

test('an hourly dataset export (July 2026) deploys: AEP stores interval 1, timeUnit hour', async () => {
  expect((await w.deploy(app([DS1], DatasetExportSchedule.everyHours(1, { startTime: START, endTime: END })))).status).toBe('CREATE_COMPLETE');
  expect(w.aep.validationFailures).toEqual([]);
  expect(w.aep.flows().map((f) => f.scheduleParams)).toEqual([{
    interval: 1, timeUnit: 'hour', startTime: 1735689600, endTime: 1751241600, exportMode: 'FIRST_FULL_THEN_INCREMENTAL', folderNameTemplate: '%DATASET_ID%_%EXPORT_TIME%',
  }]);
  expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
  expect(w.aep.flows()).toEqual([]);
});

test('deploy a dataset export, change its schedule and datasets in place, destroy in order', async () => {
  expect((await w.deploy(app([DS1], DatasetExportSchedule.everyHours(3, { startTime: START, endTime: END })))).status).toBe('CREATE_COMPLETE');
  expect(await w.violations()).toEqual([]);
  expect(w.aep.validationFailures).toEqual([]);
  const [flow] = w.aep.flows();
  expect(w.aep.flows()).toHaveLength(1);
  expect(flow.flowSpec.id).toBe(DataflowIds.S3_DATASET_FLOW_SPEC);
  expect(flow.transformations).toEqual([]);
  expect(flow.scheduleParams).toEqual({
    interval: 3, timeUnit: 'hour', startTime: 1735689600, endTime: 1751241600, exportMode: 'FIRST_FULL_THEN_INCREMENTAL', folderNameTemplate: '%DATASET_ID%_%EXPORT_TIME%',
  });
  const target = w.aep.targetConnections().find((t) => t.id === flow.targetConnectionIds[0])!;
  expect(target.params).toEqual(expect.objectContaining({ datasetFileType: 'JSON' }));
  const [source] = w.aep.sourceConnections();
  expect(source.params).toEqual({ datasets: [{ dataSetId: DS1, name: DS1 }] });
  expect(flowIds()).toEqual([flow.id]);

  // Schedule: one PATCH replacing /scheduleParams, same flow.
  w.aep.resetRecording();
  expect((await w.deploy(app([DS1], DatasetExportSchedule.daily({ startTime: START, endTime: END })))).status).toBe('UPDATE_COMPLETE');
  expect(flowIds()).toEqual([flow.id]);
  expect(w.aep.requests.filter((r) => r.method === 'PATCH').map((r) => r.body)).toEqual([[{
    op: 'replace',
    path: '/scheduleParams',
    value: { interval: 1, timeUnit: 'day', startTime: 1735689600, endTime: 1751241600, exportMode: 'FIRST_FULL_THEN_INCREMENTAL', folderNameTemplate: '%DATASET_ID%_%EXPORT_TIME%' },
  }]]);
  expect(w.aep.requests.filter((r) => (r.method === 'POST' || r.method === 'DELETE') && !r.path.startsWith('/ims'))).toEqual([]);

  // Datasets are fixed on a source connection: a new one, the flow re-pointed (same id), the old one deleted.
  w.aep.resetRecording();
  expect((await w.deploy(app([DS1, DS2], DatasetExportSchedule.daily({ startTime: START, endTime: END })))).status).toBe('UPDATE_COMPLETE');
  expect(flowIds()).toEqual([flow.id]);
  const [newSource] = sourceIds();
  expect(newSource).not.toBe(source.id);
  const datasets = [{ dataSetId: DS1, name: DS1 }, { dataSetId: DS2, name: DS2 }];
  expect(w.aep.sourceConnections().map((s) => [s.id, s.params])).toEqual([[newSource, { datasets }]]);
  expect(w.aep.flows()[0].sourceConnectionIds).toEqual([newSource]);
  expect(w.aep.requests.filter((r) => r.method === 'PATCH').map((r) => r.body)).toEqual([[{ op: 'replace', path: '/sourceConnectionIds', value: [newSource] }]]);
  expect(await w.violations()).toEqual([]);

  w.aep.resetRecording();
  expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
  // The stand-in refuses a connection still used by a flow: all 2xx means flow → connections → base.
  const deletes = w.aep.requests.filter((r) => r.method === 'DELETE');
  expect(deletes.map((r) => r.status).filter((s) => s < 200 || s > 299)).toEqual([]);
  const kinds = deletes.map((r) => r.path.split('/')[4]);
  expect(kinds.indexOf('flows')).toBeLessThan(kinds.indexOf('sourceConnections'));
  expect(kinds.indexOf('flows')).toBeLessThan(kinds.indexOf('targetConnections'));
  expect(kinds.lastIndexOf('flows')).toBeLessThan(kinds.lastIndexOf('connections'));
  expect(w.aep.flows()).toEqual([]);
  expect(w.aep.sourceConnections()).toEqual([]);
  expect(w.aep.targetConnections()).toEqual([]);
  expect(w.aep.connections()).toEqual([]);
  expect(w.sim.leftBehind).toEqual([]);
  expect(await w.violations()).toEqual([]);
  expect(w.aep.validationFailures).toEqual([]);
});

test('AEP refusing the dataset flow POST rolls back the stack with nothing left in AEP', async () => {
  // A refusal synth cannot foresee (a permission, a dataset not eligible for export): injected.
  w.aep.inject({ kind: 'status', status: 400, times: 1000, match: { method: 'POST', path: '/flows' }, body: { errorCode: '1412-400', errorMessage: 'Invalid schedule' } });
  const result = await w.deploy(app([DS1], DatasetExportSchedule.everyHours(12, { startTime: START })));
  expect(result.status).toBe('ROLLBACK_COMPLETE');
  expect(JSON.stringify(result.failure ?? result.events)).toMatch(/1412-400|Invalid schedule/);
  w.aep.clearFaults();
  expect(w.aep.flows()).toEqual([]);
  expect(w.aep.sourceConnections()).toEqual([]);
  expect(w.aep.targetConnections()).toEqual([]);
  expect(w.aep.connections()).toEqual([]);
  expect(w.sim.leftBehind).toEqual([]);
  expect(await w.violations()).toEqual([]);
});

test('destroy waits out AEP deleting the flow asynchronously (202, then 1447 until it is gone)', async () => {
  // [spec-dst] answers DELETE /flows with 202: the flow outlives the answer and blocks its connections.
  w.aep.dataflows.deletes.delayMs = 1500;
  expect((await w.deploy(app([DS1], DatasetExportSchedule.everyHours(3, { startTime: START })))).status).toBe('CREATE_COMPLETE');
  const [flow] = w.aep.flows();
  w.aep.resetRecording();
  const result = await w.destroy();
  expect(result.failure).toBeUndefined();
  expect(result.status).toBe('DELETE_COMPLETE');
  // The flow's DELETE was accepted (202); the Delete reported done only once GET answered 404.
  const flowRequests = w.aep.requests.filter((r) => r.path.endsWith(`/flows/${flow.id}`));
  expect(flowRequests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([202]);
  expect(flowRequests.filter((r) => r.method === 'GET').map((r) => r.status).pop()).toBe(404);
  expect(w.aep.flows()).toEqual([]);
  expect(w.aep.sourceConnections()).toEqual([]);
  expect(w.aep.targetConnections()).toEqual([]);
  expect(w.aep.connections()).toEqual([]);
  expect(w.sim.leftBehind).toEqual([]);
  // Waiting, not hammering: no connection DELETE was refused.
  expect(w.aep.validationFailures).toEqual([]);
});
