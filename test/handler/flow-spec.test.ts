/**
 * The handler builds flow requests from the flow spec AEP serves (GET /flowSpecs), under each
 * documented variant the stand-in can serve (offline-world/stand-in/flow-specs.ts): the audience
 * flow's transformation name, the source schedule's `interval` type, and the file name key a
 * stored audience selector is read back under. Each test fails if the handler hard-codes one
 * documented form.
 */
import { cfnEvent, FAULT_KNOBS, useHarness } from './harness';
import { contractFailures } from '../../offline-world/stand-in/contract-check';
import { parseFlowSpec } from '../../src/aep/flow-specs';
import { handler } from '../../src/handler/aep.lambda';
import {
  AepIds, ConnectionProps, DataflowConnectionProps, DataflowIds, DataflowResourceTypes, FlowProps, MappingSetProps, ProfileMappingProps,
  ResourceTypes, TargetConnectionProps,
} from '../../src/private/contract';

const h = useHarness(FAULT_KNOBS);

const FLOW = { resourceType: DataflowResourceTypes.FLOW, logicalId: 'Flow1' };
const audience = (id: string) => ({
  id, exportMode: 'FIRST_FULL_THEN_INCREMENTAL', schedule: { frequency: 'DAILY', startDate: '2025-01-05' }, fileNameTemplate: '%SEGMENT_ID%_%TIMESTAMP%',
});
const flowOf = (id: string) => h.aep.flows().find((f) => f.id === id)!;
const patches = () => h.aep.requests.filter((r) => r.method === 'PATCH');
/**
 * A variant serves a documented form that Adobe's OpenAPI file does not have (that is what makes
 * it a variant), so the contract check reports what follows from it: exactly those violations,
 * and no other, are expected here.
 */
function expectOnlyVariantViolations(...explained: RegExp[]): void {
  expect(contractFailures(h.aep).filter((v) => !explained.some((rule) => rule.test(v)))).toEqual([]);
  h.aep.resetRecording();
}
const specReads = () => h.aep.requests.filter((r) => r.method === 'GET' && r.path.includes('/flowSpecs'));

/** Destination base + target, profile store source, profile mapping: the props of an audience flow. */
async function audienceFlowProps(): Promise<Record<string, unknown>> {
  const { PhysicalResourceId: base } = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey()), { logicalId: 'Base' }));
  const { PhysicalResourceId: target } = await handler(cfnEvent('Create', {
    ...h.common(),
    [TargetConnectionProps.NAME]: 'exports',
    [TargetConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
    [TargetConnectionProps.BASE_CONNECTION_ID]: base,
    [TargetConnectionProps.PARAMS]: { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: 'aep/audiences', fileType: 'CSV', compression: 'GZIP' },
  }, { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: 'Target' }));
  const { PhysicalResourceId: source } = await handler(cfnEvent('Create', {
    ...h.common(),
    [DataflowConnectionProps.NAME]: 'profiles',
    [DataflowConnectionProps.CONNECTION_SPEC_ID]: DataflowIds.PROFILE_STORE_SOURCE_SPEC,
  }, { resourceType: DataflowResourceTypes.SOURCE_CONNECTION, logicalId: 'ProfileStore' }));
  const profile = await handler(cfnEvent('Create', { ...h.common(), [ProfileMappingProps.ATTRIBUTES]: ['personalEmail.address'] },
    { resourceType: DataflowResourceTypes.PROFILE_MAPPING, logicalId: 'ProfileMapping' }));
  return {
    ...h.common(),
    [FlowProps.NAME]: 'audiences to S3',
    [FlowProps.FLOW_SPEC_ID]: DataflowIds.S3_AUDIENCE_FLOW_SPEC,
    [FlowProps.SOURCE_CONNECTION_ID]: source,
    [FlowProps.TARGET_CONNECTION_ID]: target,
    [FlowProps.AUDIENCES]: [audience('seg-1'), audience('seg-2')],
    [FlowProps.PROFILE_MAPPING]: { mappingId: profile.Data!.MappingSetId, mappingVersion: profile.Data!.MappingSetVersion },
    [FlowProps.ENABLED]: 'true',
  };
}

const SCHEMA = 'https://ns.adobe.com/acme/schemas/0123456789abcdef';

/** S3 source base + Parquet (or CSV with a mapping set) source connection + Data Lake target: the props of an ingestion flow every 30 minutes. */
async function ingestionFlowProps(format: 'parquet' | 'delimited' = 'parquet'): Promise<Record<string, unknown>> {
  const { PhysicalResourceId: base } = await handler(cfnEvent('Create', {
    ...h.common(),
    [ConnectionProps.NAME]: 'acme-aep-s3-src-aws',
    [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
    [ConnectionProps.AUTH_SPEC_NAME]: 'IAMRole Based',
    [ConnectionProps.AUTH_PARAMS]: { bucketName: 'acme-aep-inbound' },
  }, { logicalId: 'SourceBase' }));
  const { PhysicalResourceId: source } = await handler(cfnEvent('Create', {
    ...h.common(),
    [DataflowConnectionProps.NAME]: 'crm files',
    [DataflowConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
    [DataflowConnectionProps.BASE_CONNECTION_ID]: base,
    [DataflowConnectionProps.DATA]: { format },
    [DataflowConnectionProps.PARAMS]: { path: 'acme-aep-inbound/crm/', type: 'folder' },
  }, { resourceType: DataflowResourceTypes.SOURCE_CONNECTION, logicalId: 'SourceConnection' }));
  const { PhysicalResourceId: target } = await handler(cfnEvent('Create', {
    ...h.common(),
    [DataflowConnectionProps.NAME]: 'crm dataset',
    [DataflowConnectionProps.CONNECTION_SPEC_ID]: DataflowIds.DATA_LAKE_TARGET_CONNECTION_SPEC,
    [DataflowConnectionProps.DATA]: { schema: { id: SCHEMA, version: DataflowIds.XDM_FULL_CONTENT_TYPE } },
    [DataflowConnectionProps.PARAMS]: { dataSetId: '0123456789abcdef01234567' },
  }, { resourceType: DataflowResourceTypes.DATASET_TARGET_CONNECTION, logicalId: 'DatasetTarget' }));
  const mapping = format === 'parquet' ? {} : await handler(cfnEvent('Create', {
    ...h.common(),
    [MappingSetProps.SCHEMA_ID]: SCHEMA,
    [MappingSetProps.MAPPINGS]: [{ source: 'Id', destination: '_id' }],
  }, { resourceType: DataflowResourceTypes.MAPPING_SET, logicalId: 'Mapping' })).then((m) => ({
    [FlowProps.MAPPING]: { mappingId: m.Data!.MappingSetId, mappingVersion: m.Data!.MappingSetVersion },
  }));
  return {
    ...mapping,
    ...h.common(),
    [FlowProps.NAME]: 'crm ingestion',
    [FlowProps.FLOW_SPEC_ID]: DataflowIds.CLOUD_STORAGE_FLOW_SPEC,
    [FlowProps.FLOW_SPEC_NAME]: DataflowIds.CLOUD_STORAGE_FLOW_SPEC_NAME,
    [FlowProps.SOURCE_CONNECTION_ID]: source,
    [FlowProps.TARGET_CONNECTION_ID]: target,
    [FlowProps.SCHEDULE]: { startTime: '1735689600', frequency: 'minute', interval: '30' },
    [FlowProps.ENABLED]: 'true',
  };
}

describe('audience flow transformation name (DATAFLOWS §6.4)', () => {
  test.each([
    ['GeneralTransform', 'the examples and GET responses'],
    ['General Transform', 'the [spec-dst] enum'],
  ] as const)('the live spec declares "%s" (%s): the flow is created with it and configured', async (name, _source) => {
    h.aep.dataflows.flowSpecVariant = { transformationName: name };
    const props = await audienceFlowProps();
    const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', props, FLOW));
    const f = flowOf(flow);
    expect(f.transformations.map((t) => t.name)).toEqual([name]);
    expect((f.transformations[0].params.segmentSelectors as { selectors: unknown[] }).selectors).toHaveLength(2);
    expect(h.aep.validationFailures).toEqual([]);
    // destinations.yaml's postFlow oneOf cannot tell its branches apart for the enum's spelling.
    expectOnlyVariantViolations(/destinations\.yaml postFlow request: \/requestBody oneOf/);
  });
});

describe('source schedule interval type (DATAFLOWS §6.8)', () => {
  test.each([
    ['string', '30'],
    ['integer', 30],
  ] as const)('the live scheduleSpec types interval as %s: sent so, and an unchanged Update patches nothing', async (type, expected) => {
    h.aep.dataflows.flowSpecVariant = { intervalType: type };
    const props = await ingestionFlowProps();
    const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', props, FLOW));
    expect(flowOf(flow).scheduleParams).toEqual({ startTime: 1735689600, frequency: 'minute', interval: expected });
    h.aep.resetRecording();
    await handler(cfnEvent('Update', props, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(patches()).toEqual([]);
    expect(h.aep.validationFailures).toEqual([]);
    // flow-service.yaml types interval as a string; the integer variant answers as the tutorial sends.
    expectOnlyVariantViolations(/scheduleParams\/interval type "string"/);
  });

  test('a changed interval is patched field by field (the documented source-flow form), in the declared type', async () => {
    h.aep.dataflows.flowSpecVariant = { intervalType: 'integer', wholeSourceSchedulePatch: false };
    const props = await ingestionFlowProps();
    const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', props, FLOW));
    const next = { ...props, [FlowProps.SCHEDULE]: { startTime: '1735689600', frequency: 'minute', interval: '60' } };
    h.aep.resetRecording();
    await handler(cfnEvent('Update', next, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(patches().map((r) => r.body)).toEqual([[{ op: 'replace', path: '/scheduleParams/interval', value: 60 }]]);
    expect(flowOf(flow).scheduleParams).toEqual({ startTime: 1735689600, frequency: 'minute', interval: 60 });
    expect(h.aep.validationFailures).toEqual([]);
    // flow-service.yaml types interval as a string; the integer variant answers as the tutorial sends.
    expectOnlyVariantViolations(/scheduleParams\/interval type "string"/);
  });

  test('to a one-off run: frequency replaced and interval removed, field by field', async () => {
    h.aep.dataflows.flowSpecVariant = { wholeSourceSchedulePatch: false };
    const props = await ingestionFlowProps();
    const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', props, FLOW));
    const next = { ...props, [FlowProps.SCHEDULE]: { startTime: '1735689600', frequency: 'once' } };
    h.aep.resetRecording();
    await handler(cfnEvent('Update', next, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(patches().map((r) => r.body)).toEqual([[
      { op: 'replace', path: '/scheduleParams/frequency', value: 'once' }, { op: 'remove', path: '/scheduleParams/interval', value: '30' },
    ]]);
    expect(flowOf(flow).scheduleParams).toEqual({ startTime: 1735689600, frequency: 'once' });
    expect(h.aep.validationFailures).toEqual([]);
  });
});

describe('source flow mappingVersion type (DATAFLOWS §3.5)', () => {
  test.each([
    ['string', '0'],
    ['integer', 0],
  ] as const)('the live Mapping transformationSpec types mappingVersion as %s: sent so, and an unchanged Update patches nothing', async (type, expected) => {
    h.aep.dataflows.flowSpecVariant = { mappingVersionType: type };
    const props = await ingestionFlowProps('delimited');
    const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', props, FLOW));
    expect(flowOf(flow).transformations[0].params.mappingVersion).toEqual(expected);
    h.aep.resetRecording();
    await handler(cfnEvent('Update', props, { ...FLOW, physicalId: flow, oldProps: props }));
    expect(patches()).toEqual([]);
    expect(h.aep.validationFailures).toEqual([]);
    // flow-service.yaml types mappingVersion as a string; the integer variant answers as the tutorial sends.
    expectOnlyVariantViolations(/mappingVersion type "string"/);
  });
});

describe('the live spec\'s connection spec lists', () => {
  test('a flow spec that does not list the source connection spec is refused before anything is POSTed, naming both', async () => {
    // An audience flow's Profile Store source on the dataset spec (which lists the Data Lake source only).
    const props = { ...await audienceFlowProps(), [FlowProps.FLOW_SPEC_ID]: DataflowIds.S3_DATASET_FLOW_SPEC };
    h.aep.resetRecording();
    await expect(handler(cfnEvent('Create', props, FLOW))).rejects.toThrow(
      new RegExp(`flow spec ${DataflowIds.S3_DATASET_FLOW_SPEC} .* does not accept source connection spec ${DataflowIds.PROFILE_STORE_SOURCE_SPEC}`));
    expect(h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/flows'))).toEqual([]);
  });
});

test('AEP reading selectors back as filenameTemplate (the examples\' spelling) is no drift: an unchanged Update patches nothing', async () => {
  h.aep.dataflows.flowSpecVariant = { selectorFileNameKey: 'filenameTemplate' };
  const props = await audienceFlowProps();
  const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', props, FLOW));
  h.aep.resetRecording();
  await handler(cfnEvent('Update', props, { ...FLOW, physicalId: flow, oldProps: props }));
  expect(patches()).toEqual([]);
  // A real change still is one.
  const next = { ...props, [FlowProps.AUDIENCES]: [audience('seg-1'), { ...audience('seg-2'), fileNameTemplate: '%SEGMENT_NAME%' }] };
  await handler(cfnEvent('Update', next, { ...FLOW, physicalId: flow, oldProps: props }));
  expect(patches().map((r) => (r.body as Array<{ op: string; path: string }>).map((o) => `${o.op} ${o.path}`))).toEqual([
    ['replace /transformations/0/params/segmentSelectors/selectors/1'],
  ]);
});

describe('AEP refusing filters into arrays on GET /flows (sourceConnectionIds[]==…, never shown on flows)', () => {
  beforeEach(() => {
    h.aep.dataflows.flowSpecVariant = { arrayFilters: false };
  });

  test('a Create still works and a retried Create adopts the flow instead of POSTing a second one', async () => {
    const props = await ingestionFlowProps();
    const first = await handler(cfnEvent('Create', props, FLOW));
    const again = await handler(cfnEvent('Create', props, FLOW));
    expect(again.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(h.aep.flows()).toHaveLength(1);
    expect(h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/flows'))).toHaveLength(1);
    // AEP's refusals of the filter are the point of this test, not a malformed request of ours.
    expect(h.aep.validationFailures).toEqual(h.aep.validationFailures.map(() => expect.stringMatching(/Invalid filter sourceConnectionIds\[\]/)));
    h.aep.resetRecording();
  });

  test('a base connection Delete refused because a flow uses it names that flow only (the filter applied here)', async () => {
    const props = await ingestionFlowProps();
    const { PhysicalResourceId: used } = await handler(cfnEvent('Create', props, FLOW));
    const { PhysicalResourceId: other } = await handler(cfnEvent('Create', await audienceFlowProps(), { ...FLOW, logicalId: 'Flow2' }));
    const source = h.aep.sourceConnections().find((c) => c.id === props[FlowProps.SOURCE_CONNECTION_ID])!;
    const baseProps = {
      ...h.common(),
      [ConnectionProps.NAME]: 'acme-aep-s3-src-aws',
      [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
      [ConnectionProps.AUTH_SPEC_NAME]: 'IAMRole Based',
      [ConnectionProps.AUTH_PARAMS]: { bucketName: 'acme-aep-inbound' },
    };
    const err = await handler(cfnEvent('Delete', baseProps, { logicalId: 'SourceBase', physicalId: source.baseConnectionId! })).catch((e: Error) => e);
    expect((err as Error).message).toContain(`(${used})`);
    expect((err as Error).message).not.toContain(other);
    expect(h.aep.validationFailures).toEqual(h.aep.validationFailures.map(() => expect.stringMatching(/Invalid filter sourceConnectionIds\[\]|being used in one or more flows/)));
    h.aep.resetRecording();
  });
});

test('the flow spec is read once per container per environment and lookup', async () => {
  const props = await audienceFlowProps();
  await handler(cfnEvent('Create', props, FLOW));
  await handler(cfnEvent('Create', props, { ...FLOW, logicalId: 'Flow2' }));
  expect(specReads()).toHaveLength(1);
});

describe('parsing both documented spellings of a flow spec', () => {
  test('printed `transformationSpec` array and [spec-src] `transformationSpecs` object give the same names', () => {
    expect(parseFlowSpec({ id: 'a', transformationSpec: [{ name: 'Mapping' }] }).transformationNames).toEqual(['Mapping']);
    expect(parseFlowSpec({ id: 'a', transformationSpecs: { name: 'Mapping' } }).transformationNames).toEqual(['Mapping']);
  });

  test('scheduleSpec types are read; absent lists stay undefined (nothing checked against them)', () => {
    const spec = parseFlowSpec({ id: 'a', scheduleSpec: { spec: { properties: { interval: { type: 'integer' }, startTime: { type: 'integer' } } } } });
    expect(spec.scheduleTypes).toEqual({ interval: 'integer', startTime: 'integer' });
    expect(spec.sourceConnectionSpecIds).toBeUndefined();
  });
});
