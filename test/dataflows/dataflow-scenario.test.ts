/**
 * Dataflows in the offline world: a source with an ingestion dataflow and a destination exporting
 * audiences, deployed through the bundled handler by the CloudFormation simulator; one audience
 * added (one selector PATCH, same flow id); then destroyed in dependency order with nothing left.
 */
import * as s3 from 'aws-cdk-lib/aws-s3';
import { SCENARIO_ENV, ScenarioScope, ScenarioWorld } from '../../offline-world/scenario';
import {
  AepS3Destination, AepS3Source, AudienceExport, AudienceSchedule, DeduplicationKey, IncrementalFrequency,
  IngestionFormat, IngestionFrequency, IngestionMapping, IngestionSchedule,
} from '../../src';
import { DataflowResourceTypes } from '../../src/private/contract';

jest.setTimeout(90_000);

let w: ScenarioWorld;
let n = 0;
beforeEach(async () => {
  w = await ScenarioWorld.start(`Dataflows${++n}`);
});
afterEach(async () => {
  await w.close();
});

const DATASET = '5f3c3cedb2805c194ff0b69a';
const SCHEMA = 'https://ns.adobe.com/acme/schemas/995dabbea86d58e346ff91bd8aa741a9f36f29b1019138d4';
const A1: AudienceExport = { audienceId: 'seg-1', audienceName: 'Winter', schedule: AudienceSchedule.dailyFullAfterSegmentation({ startDate: '2025-01-05' }), fileNameTemplate: '%SEGMENT_ID%_%DATETIME(YYYYMMdd_HHmmss)%' };
const A2: AudienceExport = { audienceId: 'seg-2', schedule: AudienceSchedule.incremental(IncrementalFrequency.EVERY_6_HOURS, { startDate: '2025-01-05', hourUtc: 6 }) };
const A3: AudienceExport = { audienceId: 'seg-3', schedule: AudienceSchedule.onceFull({ startDate: '2025-02-01' }) };

function app(audiences: AudienceExport[], interval = 30) {
  return ({ stack, sandbox }: ScenarioScope) => {
    const sb = sandbox();
    const source = new AepS3Source(stack, 'Inbound', { sandbox: sb, bucket: s3.Bucket.fromBucketName(stack, 'InBucket', 'acme-aep-inbound'), folderPath: 'crm' });
    source.addDataflow('Crm', {
      path: '/acme-aep-inbound/crm/*.csv',
      format: IngestionFormat.delimited({ columnDelimiter: ';' }),
      datasetId: DATASET,
      schemaId: SCHEMA,
      mapping: IngestionMapping.inline([{ source: 'Id', destination: '_id' }, { source: 'FirstName', destination: 'person.name.firstName' }]),
      schedule: IngestionSchedule.recurring({ frequency: IngestionFrequency.MINUTE, interval, startTime: '2025-01-01T00:00:00Z' }),
    });
    const destination = new AepS3Destination(stack, 'Exports', { sandbox: sb, bucket: s3.Bucket.fromBucketName(stack, 'OutBucket', 'acme-aep-exports') });
    destination.addDataflow('Audiences', {
      audiences,
      attributes: ['person.name.firstName', 'personalEmail.address', 'identityMap.Email'],
      mandatoryAttributes: ['personalEmail.address'],
      deduplicationKeys: [DeduplicationKey.identity('Email')],
    });
  };
}

function flowIds(): string[] {
  return w.sim.resources().filter((r) => r.type === DataflowResourceTypes.FLOW).map((r) => r.physicalId).sort();
}

test('deploy both sides, add an audience with one selector PATCH, change the schedule in place, destroy in order', async () => {
  expect((await w.deploy(app([A1, A2]))).status).toBe('CREATE_COMPLETE');
  expect(await w.violations()).toEqual([]);
  expect(w.aep.validationFailures).toEqual([]);
  const flows = w.aep.flows();
  expect(flows).toHaveLength(2);
  const audienceFlow = flows.find((f) => f.flowSpec.id === '1a0514a6-33d4-4c7f-aff8-594799c47549')!;
  const selectors = (audienceFlow.transformations[0].params.segmentSelectors as { selectors: Array<{ value: { id: string } }> }).selectors;
  expect(selectors.map((s) => s.value.id)).toEqual(['seg-1', 'seg-2']);
  expect(audienceFlow.transformations[0].params.primaryFields).toEqual([{ fieldType: 'IDENTITY', identityNamespace: 'Email' }]);
  expect(audienceFlow.transformations[0].params.mandatoryFields).toEqual(['personalEmail_address']);
  // Profile attributes: a Data Prep set from the union schema to the S3 partner schema, attached to the flow.
  const profileMapping = audienceFlow.transformations[0].params.profileMapping as { mappingId: string; mappingVersion: number };
  const set = w.aep.dataflows.mappingSets.get(profileMapping.mappingId)!;
  expect(profileMapping.mappingVersion).toBe(0);
  expect(set.inputSchema).toBeDefined();
  expect(set.mappings.map((m) => [m.source, m.destination])).toEqual([
    ['person.name.firstName', 'person_name_firstName'], ['personalEmail.address', 'personalEmail_address'], ['identityMap.Email', 'Email'],
  ]);
  const ingestion = flows.find((f) => f.flowSpec.id === '9753525b-82c7-4dce-8a9b-5ccfce2b9876')!;
  expect(ingestion.scheduleParams).toEqual({ startTime: 1735689600, frequency: 'minute', interval: '30' });
  const before = flowIds();

  w.aep.resetRecording();
  expect((await w.deploy(app([A1, A2, A3]))).status).toBe('UPDATE_COMPLETE');
  expect(flowIds()).toEqual(before);
  const patches = w.aep.requests.filter((r) => r.method === 'PATCH');
  expect(patches).toHaveLength(1);
  expect(patches[0].body).toEqual([{ op: 'add', path: '/transformations/0/params/segmentSelectors/selectors/-', value: { type: 'PLATFORM_SEGMENT', value: expect.objectContaining({ id: 'seg-3', exportMode: 'DAILY_FULL_EXPORT' }) } }]);
  expect(w.aep.requests.filter((r) => r.method === 'POST' && !r.path.startsWith('/ims'))).toEqual([]);

  w.aep.resetRecording();
  expect((await w.deploy(app([A1, A3], 60))).status).toBe('UPDATE_COMPLETE');
  expect(flowIds()).toEqual(before);
  const ops = w.aep.requests.filter((r) => r.method === 'PATCH').map((r) => (r.body as Array<{ op: string; path: string }>).map((o) => `${o.op} ${o.path}`));
  expect(ops.sort()).toEqual([['remove /transformations/0/params/segmentSelectors/selectors/1'], ['replace /scheduleParams/interval']]);
  expect(await w.violations()).toEqual([]);

  w.aep.resetRecording();
  expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
  // The stand-in refuses a connection still used by a flow (1418/1447): every DELETE answered 2xx
  // means CloudFormation's dependency order deleted flows → their connections → base connections.
  const deletes = w.aep.requests.filter((r) => r.method === 'DELETE');
  expect(deletes.map((r) => r.status).filter((s) => s < 200 || s > 299)).toEqual([]);
  const kinds = deletes.map((r) => r.path.split('/')[4]);
  expect(kinds.filter((d) => d === 'flows')).toHaveLength(2);
  expect(kinds.lastIndexOf('flows')).toBeLessThan(kinds.lastIndexOf('connections'));
  expect(w.aep.flows()).toEqual([]);
  expect(w.aep.sourceConnections()).toEqual([]);
  expect(w.aep.connections()).toEqual([]);
  expect(w.sim.leftBehind).toEqual([]);
  expect(await w.violations()).toEqual([]);
  expect(w.aep.validationFailures).toEqual([]);
});

test('a base connection still used by a dataflow made in the UI fails the Delete, naming the flow and offering RETAIN', async () => {
  expect((await w.deploy(app([A1]))).status).toBe('CREATE_COMPLETE');
  // Someone adds a second ingestion flow on the stack's source connection's base, in the UI.
  const base = w.aep.connections().find((c) => c.connectionSpec.id === 'ecadc60c-7455-4d87-84dc-2a0e293d997b')!;
  const ui = w.aep.dataflows.sources;
  const foreign = { ...w.aep.sourceConnections()[0], id: 'ui-source-0001', description: 'made in the UI', baseConnectionId: base.id };
  ui.put(foreign);
  const ownFlow = w.aep.flows().find((f) => f.flowSpec.id === '9753525b-82c7-4dce-8a9b-5ccfce2b9876')!;
  w.aep.dataflows.flows.put({ ...ownFlow, id: 'ui-flow-0001', name: 'Made in the UI', description: 'no marker', sourceConnectionIds: ['ui-source-0001'], targetConnectionIds: ['ui-target-0001'] });
  const result = await w.destroy();
  expect(result.status).toBe('DELETE_FAILED');
  const message = JSON.stringify(result.failure ?? result.events);
  expect(message).toMatch(/RETAIN/);
  expect(message).toMatch(/still used by dataflow \\?"Made in the UI\\?" \(ui-flow-0001\)/);
  expect(w.aep.connections().map((c) => c.id)).toContain(base.id);
});

describe('a dataflow its RETAIN kept, on a connection the stack deletes (a stack synthesized before synth refused it)', () => {
  /** The template with every dataflow part's RemovalPolicy set to retain, as the previous version emitted it. */
  const retainDataflows = (template: any) => {
    for (const r of Object.values<any>(template.Resources)) {
      if (Object.values(DataflowResourceTypes).includes(r.Type) && r.Properties?.RemovalPolicy !== undefined) r.Properties.RemovalPolicy = 'retain';
    }
    return template;
  };

  test.each([
    ['source (1418 on its base connection)', 'Inbound', 'Inbound/Crm', 'InboundCrm'],
    ['destination (1447 on its target connection)', 'Exports', 'Exports/Audiences', 'ExportsAudiences'],
  ])('%s: the Delete fails saying the stack\'s own dataflow was kept by its RemovalPolicy.RETAIN, never that the stack does not manage it', async (_n, side, flowPath, flowPrefix) => {
    expect((await w.deploy(app([A1]), undefined, retainDataflows)).status).toBe('CREATE_COMPLETE');
    const flow = w.sim.resources().find((r) => r.type === DataflowResourceTypes.FLOW && r.logicalId.startsWith(flowPrefix))!;
    const result = await w.destroy();
    expect(result.status).toBe('DELETE_FAILED');
    const message = result.events.find((e) => e.status === 'DELETE_FAILED' && e.logicalId.startsWith(`${side}Connection`))?.reason ?? '';
    expect(message).not.toMatch(/does not manage/);
    expect(message).toContain(`still used by dataflow "${w.stackName}/${flowPath}" (${flow.physicalId}), which the RemovalPolicy.RETAIN `
      + `of its custom resource ${flow.logicalId} in stack ${w.stackName} (${SCENARIO_ENV.region}, account ${SCENARIO_ENV.account}) kept in AEP`);
    expect(message).toMatch(/Delete that dataflow in AEP first, or give this connection RemovalPolicy.RETAIN too/);
  });
});

describe('faults', () => {
  test.each([
    ['504, applied now', { kind: 'status', status: 504, apply: 'now' } as const],
    ['504, applied later', { kind: 'status', status: 504, apply: 'later', applyAfterMs: 600 } as const],
    ['connection reset, applied now', { kind: 'reset', apply: 'now' } as const],
  ])('an ambiguous POST /flows (%s): exactly one flow per dataflow, world consistent', async (_name, fault) => {
    w.aep.inject({ ...fault, match: { method: 'POST', path: '/flows' } });
    expect((await w.deploy(app([A1, A2]))).status).toBe('CREATE_COMPLETE');
    expect(await w.violations()).toEqual([]);
    const flows = w.aep.flows();
    expect(flows.map((f) => f.flowSpec.id).sort()).toEqual(['1a0514a6-33d4-4c7f-aff8-594799c47549', '9753525b-82c7-4dce-8a9b-5ccfce2b9876']);
    expect(flows.map((f) => f.id).sort()).toEqual(flowIds());
    expect(w.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/flows')).length).toBeGreaterThanOrEqual(2);
    expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
    expect(w.aep.flows()).toEqual([]);
    expect(await w.violations()).toEqual([]);
  });

  test('a flow Create that fails after its POST removes the flow; the stack rolls back with nothing left in AEP', async () => {
    // Every PATCH of a flow fails (configuring the new flow is impossible): the Create must fail.
    w.aep.inject({ kind: 'status', status: 500, times: 1000, match: { method: 'PATCH', path: /\/flows\/[^/]+$/ } });
    const result = await w.deploy(app([A1]));
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    w.aep.clearFaults();
    expect(w.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/flows')).map((r) => r.status)).toContain(201);
    // The handler itself removed the flow it made (CloudFormation never deletes a failed Create).
    expect(w.aep.requests.filter((r) => r.method === 'DELETE' && /\/flows\/[^/]+$/.test(r.path)).map((r) => r.status)).toContain(202);
    expect(w.aep.flows()).toEqual([]);
    expect(w.aep.sourceConnections()).toEqual([]);
    expect(w.aep.targetConnections()).toEqual([]);
    expect(w.aep.connections()).toEqual([]);
    expect(w.sim.leftBehind).toEqual([]);
    expect(await w.violations()).toEqual([]);
  });

  test('a flow Create refused by AEP (400 on POST) rolls back with nothing left in AEP', async () => {
    w.aep.inject({ kind: 'status', status: 400, times: 1000, match: { method: 'POST', path: '/flows' }, body: { errorCode: '1425-400', errorMessage: 'Error while matching schema in target dataset' } });
    const result = await w.deploy(app([A1]));
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(JSON.stringify(result.failure ?? result.events)).toMatch(/1425-400|matching schema/);
    w.aep.clearFaults();
    expect(w.aep.flows()).toEqual([]);
    expect(w.aep.sourceConnections()).toEqual([]);
    expect(w.aep.targetConnections()).toEqual([]);
    expect(w.aep.connections()).toEqual([]);
    expect(w.sim.leftBehind).toEqual([]);
    expect(await w.violations()).toEqual([]);
  });
});
