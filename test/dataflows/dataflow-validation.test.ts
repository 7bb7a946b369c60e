/** Synth-time validation of the dataflow constructs: each error names the prop, the value and the rule. */
import { App, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  AepS3Destination, AepS3Source, AepSandbox, AudienceSchedule, IncrementalFrequency, IngestionFormat, IngestionFrequency,
  IngestionMapping, IngestionSchedule, SourceDataflowOptions,
} from '../../src';
import { DataflowResourceTypes } from '../../src/private/contract';

function setup() {
  const stack = new Stack(new App(), 'S', { env: { account: '111122223333', region: 'us-east-1' } });
  const sandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'C', 'aep/creds'), sandboxName: 'prod' });
  const source = new AepS3Source(stack, 'Src', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-in') });
  const destination = new AepS3Destination(stack, 'Dst', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B2', 'acme-out') });
  return { stack, source, destination };
}

const START = new Date('2025-01-01T00:00:00Z');
const ok: SourceDataflowOptions = {
  path: '/acme-in/crm/*.csv',
  format: IngestionFormat.delimited(),
  datasetId: '5f3c3cedb2805c194ff0b69a',
  schemaId: 'https://ns.adobe.com/acme/schemas/995dabbe',
  mapping: IngestionMapping.inline([{ source: 'Id', destination: '_id' }]),
  schedule: IngestionSchedule.recurring({ frequency: IngestionFrequency.HOUR, interval: 1, startTime: START }),
};

test('source dataflow template: connection, dataset target, mapping set, flow wired by GetAtt', () => {
  const { stack, source } = setup();
  source.addDataflow('Crm', ok);
  const t = Template.fromStack(stack);
  t.resourceCountIs(DataflowResourceTypes.SOURCE_CONNECTION, 1);
  t.resourceCountIs(DataflowResourceTypes.DATASET_TARGET_CONNECTION, 1);
  t.resourceCountIs(DataflowResourceTypes.MAPPING_SET, 1);
  t.hasResourceProperties(DataflowResourceTypes.FLOW, {
    FlowSpecName: 'CloudStorageToAEP',
    FlowSpecId: '9753525b-82c7-4dce-8a9b-5ccfce2b9876',
    Schedule: { startTime: '1735689600', frequency: 'hour', interval: '1' },
    Enabled: 'true',
  });
});

test.each([
  ['minute interval under 15', { schedule: undefined as never }, () => IngestionSchedule.recurring({ frequency: IngestionFrequency.MINUTE, interval: 10, startTime: START }), /schedule.interval 10: must be a whole number of at least 15 for frequency minute/],
])('%s', (_n, _o, make, message) => {
  expect(make).toThrow(message);
});

test.each([
  ['datasetId', { datasetId: 'not-a-dataset' }, /Invalid datasetId "not-a-dataset": must be a dataset id/],
  ['schemaId', { schemaId: 'acme/schema' }, /Invalid schemaId "acme\/schema": must be an XDM schema \$id/],
  ['mapping missing for CSV', { mapping: undefined }, /Invalid mapping undefined: is required for delimited files/],
  ['mapping with Parquet', { format: IngestionFormat.parquet() }, /Invalid mapping "set": does not apply to XDM Parquet/],
])('source: %s', (_n, change, message) => {
  const { source } = setup();
  expect(() => source.addDataflow('F', { ...ok, ...change })).toThrow(message);
});

test('tokens are tolerated', () => {
  const { source } = setup();
  expect(() => source.addDataflow('F', { ...ok, datasetId: Token.asString({ Ref: 'DatasetParam' }) })).not.toThrow();
});

test('destination: audiences, macros, schedule combinations', () => {
  const { stack, destination } = setup();
  const schedule = AudienceSchedule.incremental(IncrementalFrequency.EVERY_3_HOURS, { startDate: '2025-01-01' });
  expect(() => destination.addDataflow('Bad', { audiences: [{ audienceId: 'a', schedule, fileNameTemplate: '%SEGMENT_ID%_%NOPE%' }] }))
    .toThrow(/Invalid audiences\[0\].fileNameTemplate "%SEGMENT_ID%_%NOPE%": %NOPE% is not an AEP file name macro/);
  expect(() => AudienceSchedule.onceFull({ startDate: '2025-01-01', endDate: '2025-02-01' })).toThrow(/schedule.endDate "2025-02-01": does not apply to a one-time full export/);
  expect(() => AudienceSchedule.dailyFullAt({ startDate: '2025-01-01', hourUtc: 25 })).toThrow(/schedule.hourUtc 25: must be a whole hour/);
  expect(() => AudienceSchedule.incremental(IncrementalFrequency.DAILY, { startDate: '2025-13-01' })).toThrow(/schedule.startDate "2025-13-01": must be a date YYYY-MM-DD/);
  expect(() => destination.addDataflow('Dup', { audiences: [{ audienceId: 'a', schedule }, { audienceId: 'a', schedule }] })).toThrow(/audiences\[1\].audienceId "a": is listed twice/);
  destination.addDataflow('Good', { audiences: [{ audienceId: 'a', schedule, fileNameTemplate: '%SEGMENT_NAME%_%DATETIME(YYYYMMdd_HHmmss)%' }] });
  Template.fromStack(stack).hasResourceProperties(DataflowResourceTypes.FLOW, {
    FlowSpecId: '1a0514a6-33d4-4c7f-aff8-594799c47549',
    Audiences: [{ id: 'a', exportMode: 'FIRST_FULL_THEN_INCREMENTAL', schedule: { frequency: 'EVERY_3_HOURS', startDate: '2025-01-01' }, fileNameTemplate: '%SEGMENT_NAME%_%DATETIME(YYYYMMdd_HHmmss)%' }],
  });
});
