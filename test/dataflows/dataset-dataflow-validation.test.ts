/** Dataset export dataflows at synth: the template, and errors naming the prop, the value and the rule. */
import { App, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AepS3Destination, AepSandbox, DatasetDataflowOptions, DatasetExportSchedule, DatasetFileType, ExportType } from '../../src';
import { DataflowResourceTypes } from '../../src/private/contract';

function setup(exportType: ExportType = ExportType.DATASETS) {
  const stack = new Stack(new App(), 'S', { env: { account: '111122223333', region: 'us-east-1' } });
  const sandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'C', 'aep/creds'), sandboxName: 'prod' });
  const destination = new AepS3Destination(stack, 'Dst', {
    sandbox,
    bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-out'),
    exportType,
    ...(exportType === ExportType.DATASETS ? { datasetFileType: DatasetFileType.PARQUET } : {}),
  });
  return { stack, destination };
}

const START = '2025-01-01T00:00:00Z';
const END = '2025-04-01T00:00:00Z';
const DS1 = '5f3c3cedb2805c194ff0b69a';
const DS2 = '6a1b2c3d4e5f60718293a4b5';
const ok: DatasetDataflowOptions = {
  datasets: [{ datasetId: DS1, datasetName: 'CRM profiles' }, { datasetId: DS2 }],
  schedule: DatasetExportSchedule.everyHours(6, { startTime: START, endTime: END }),
  folderNameTemplate: '%DATASET_NAME%_%DATETIME(YYYYMMdd_HHmmss)%',
};

test('template: a Data Lake source connection naming the datasets, the flow wired to it and to the dataset target', () => {
  const { stack, destination } = setup();
  destination.addDatasetDataflow('Ds', ok);
  const t = Template.fromStack(stack);
  t.hasResourceProperties(DataflowResourceTypes.SOURCE_CONNECTION, {
    ConnectionSpecId: '23598e46-f560-407b-88d5-ea6207e49db0',
    Params: { datasets: [{ dataSetId: DS1, name: 'CRM profiles' }, { dataSetId: DS2, name: DS2 }] },
  });
  t.hasResourceProperties(DataflowResourceTypes.FLOW, {
    FlowSpecId: '269ba276-16fc-47db-92b0-c1049a3c131f',
    SourceConnectionId: { 'Fn::GetAtt': [Match.stringLikeRegexp('DataLakeConnection'), 'SourceConnectionId'] },
    TargetConnectionId: { 'Fn::GetAtt': [Match.stringLikeRegexp('DstConnectionDestination'), 'TargetConnectionId'] },
    DatasetSchedule: {
      interval: '6',
      timeUnit: 'hour',
      startTime: '1735689600',
      endTime: '1743465600',
      exportMode: 'FIRST_FULL_THEN_INCREMENTAL',
      folderNameTemplate: '%DATASET_NAME%_%DATETIME(YYYYMMdd_HHmmss)%',
    },
    Enabled: 'true',
  });
  const flow = Object.values(t.findResources(DataflowResourceTypes.FLOW))[0].Properties;
  expect(flow.Audiences).toBeUndefined();
  Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('endTime'));
});

test('daily, disabled, no end time: interval 1 day, and a synth warning about the six-month end', () => {
  const { stack, destination } = setup();
  destination.addDatasetDataflow('Ds', { datasets: [{ datasetId: DS1 }], schedule: DatasetExportSchedule.daily({ startTime: START }), enabled: false });
  Template.fromStack(stack).hasResourceProperties(DataflowResourceTypes.FLOW, {
    DatasetSchedule: { interval: '1', timeUnit: 'day', startTime: '1735689600', exportMode: 'FIRST_FULL_THEN_INCREMENTAL' },
    Enabled: 'false',
  });
  Annotations.fromStack(stack).hasWarning('/S/Dst/Ds', Match.stringLikeRegexp('six months'));
});

test('an audience destination refuses a dataset dataflow, naming exportType', () => {
  const { destination } = setup(ExportType.AUDIENCES);
  expect(() => destination.addDatasetDataflow('Ds', ok)).toThrow(/Invalid exportType "AUDIENCES": addDatasetDataflow exports datasets: the destination needs ExportType.DATASETS/);
});

test.each([
  ['no dataset', { datasets: [] }, /Invalid datasets \[\]: needs at least one dataset/],
  ['a malformed id', { datasets: [{ datasetId: 'crm' }] }, /Invalid datasets\[0\].datasetId "crm": must be a dataset id \(24 hex characters\)/],
  ['an upper-case id', { datasets: [{ datasetId: DS1.toUpperCase() }] }, /datasets\[0\].datasetId .*24 hex/],
  ['a dataset twice', { datasets: [{ datasetId: DS1 }, { datasetId: DS1 }] }, /Invalid datasets\[1\].datasetId "5f3c3cedb2805c194ff0b69a": is listed twice/],
  ['an empty name', { datasets: [{ datasetId: DS1, datasetName: ' ' }] }, /Invalid datasets\[0\].datasetName " ": must not be empty/],
  ['an audience macro', { folderNameTemplate: '%SEGMENT_ID%' }, /Invalid folderNameTemplate "%SEGMENT_ID%": %SEGMENT_ID% is not an AEP folder name macro/],
  ['a slash', { folderNameTemplate: 'a/%DATASET_ID%' }, /Invalid folderNameTemplate "a\/%DATASET_ID%": may only hold macros/],
])('%s is refused', (_name, change, message) => {
  const { destination } = setup();
  expect(() => destination.addDatasetDataflow('Ds', { ...ok, ...change } as DatasetDataflowOptions)).toThrow(message);
});

test.each([
  ['2 hours', () => DatasetExportSchedule.everyHours(2, { startTime: START }), /Invalid schedule.hours 2: must be 1, 3, 6, 9 or 12/],
  ['8 hours', () => DatasetExportSchedule.everyHours(8, { startTime: START }), /Invalid schedule.hours 8: must be 1, 3, 6, 9 or 12/],
  ['24 hours', () => DatasetExportSchedule.everyHours(24, { startTime: START }), /schedule.hours 24/],
  ['an invalid start', () => DatasetExportSchedule.daily({ startTime: 'nope' }), /Invalid schedule.startTime "nope": must be an ISO-8601 date and time with a time zone/],
  ['an end before the start', () => DatasetExportSchedule.daily({ startTime: END, endTime: START }), /Invalid schedule.endTime "2025-01-01T00:00:00Z": must be after startTime 2025-04-01T00:00:00Z/],
])('schedule: %s is refused', (_name, make, message) => {
  expect(make).toThrow(message);
});

test('every allowed hour interval is accepted', () => {
  for (const hours of [1, 3, 6, 9, 12]) {
    expect(DatasetExportSchedule.everyHours(hours, { startTime: START })._toParams().interval).toBe(String(hours));
  }
});

test('tokens are tolerated', () => {
  const { destination } = setup();
  expect(() => destination.addDatasetDataflow('Ds', {
    ...ok,
    datasets: [{ datasetId: Token.asString({ Ref: 'DatasetParam' }) }],
    folderNameTemplate: Token.asString({ Ref: 'FolderParam' }),
  })).not.toThrow();
});
