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

const START = '2025-01-01T00:00:00Z';
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
  expect(() => AudienceSchedule.incremental(IncrementalFrequency.DAILY, { startDate: '2025-13-01' })).toThrow(/schedule.startDate "2025-13-01": must be a calendar date YYYY-MM-DD/);
  expect(() => AudienceSchedule.incremental(IncrementalFrequency.DAILY, { startDate: '2025-01-05', endDate: '2025-02-30' })).toThrow(/schedule.endDate "2025-02-30": must be a calendar date YYYY-MM-DD \(a UTC day, e.g. 2025-01-05\)/);
  expect(() => destination.addDataflow('Dup', { audiences: [{ audienceId: 'a', schedule }, { audienceId: 'a', schedule }] })).toThrow(/audiences\[1\].audienceId "a": is listed twice/);
  destination.addDataflow('Good', { audiences: [{ audienceId: 'a', schedule, fileNameTemplate: '%SEGMENT_NAME%_%DATETIME(YYYYMMdd_HHmmss)%' }] });
  Template.fromStack(stack).hasResourceProperties(DataflowResourceTypes.FLOW, {
    FlowSpecId: '1a0514a6-33d4-4c7f-aff8-594799c47549',
    Audiences: [{ id: 'a', exportMode: 'FIRST_FULL_THEN_INCREMENTAL', schedule: { frequency: 'EVERY_3_HOURS', startDate: '2025-01-01' }, fileNameTemplate: '%SEGMENT_NAME%_%DATETIME(YYYYMMdd_HHmmss)%' }],
  });
});

describe('destination dataflow profile attributes', () => {
  const audiences = [{ audienceId: 'seg-1', schedule: AudienceSchedule.onceFull({ startDate: '2025-01-01' }) }];

  test('a profile mapping resource wired into the flow; mandatory attributes in column form', () => {
    const { stack, destination } = setup();
    destination.addDataflow('Aud', { audiences, attributes: ['person.name.lastName', 'identityMap.Phone_E.164', '_acme.loyalty.tier'], mandatoryAttributes: ['person.name.lastName', 'Email'] });
    const t = Template.fromStack(stack);
    t.hasResourceProperties(DataflowResourceTypes.PROFILE_MAPPING, { Attributes: ['person.name.lastName', 'identityMap.Phone_E.164', '_acme.loyalty.tier'] });
    const flow = Object.values(t.findResources(DataflowResourceTypes.FLOW))[0].Properties;
    expect(flow.MandatoryFields).toEqual(['person_name_lastName', 'Email']);
    expect(JSON.stringify(flow.ProfileMapping)).toMatch(/ProfileMapping.*MappingSetId/);
  });

  test('no attributes: no profile mapping resource, no ProfileMapping property', () => {
    const { stack, destination } = setup();
    destination.addDataflow('Aud', { audiences });
    const t = Template.fromStack(stack);
    t.resourceCountIs(DataflowResourceTypes.PROFILE_MAPPING, 0);
    expect(Object.values(t.findResources(DataflowResourceTypes.FLOW))[0].Properties.ProfileMapping).toBeUndefined();
  });

  test.each([
    [['person..name'], /Invalid attributes\[0\] "person\.\.name": must be an XDM path/],
    [['person.name.firstName '], /Invalid attributes\[0\].*must be an XDM path/],
    [['identityMap.'], /Invalid attributes\[0\] "identityMap\.": must be identityMap\.<namespace>/],
    [['a.b', 'a.b'], /Invalid attributes\[1\] "a\.b": is listed twice/],
    [['a.b_c', 'a_b.c'], /Invalid attributes\[1\] "a_b\.c": is exported as column a_b_c, like a\.b_c/],
    [['identityMap.Email', 'identityMap.ECID'], /Invalid attributes\[1\] "identityMap\.ECID": is a second identity.*one identity attribute per dataflow/],
    [[], /Invalid attributes \[\]: needs at least one attribute/],
  ])('%j is refused', (attributes, message) => {
    const { destination } = setup();
    expect(() => destination.addDataflow('Aud', { audiences, attributes })).toThrow(message);
  });

  test('tokens are tolerated', () => {
    const { destination } = setup();
    expect(() => destination.addDataflow('Aud', { audiences, attributes: [Token.asString({ Ref: 'Attr' }), 'person.name.firstName'] })).not.toThrow();
  });
});

describe('source dataflow path: inside the bucket and folder the source grants', () => {
  function scoped(folderPath: string | undefined, bucket = 'acme-in') {
    const stack = new Stack(new App(), 'S', { env: { account: '111122223333', region: 'us-east-1' } });
    const sandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'C', 'aep/creds'), sandboxName: 'prod' });
    return new AepS3Source(stack, 'Src', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B', bucket), folderPath });
  }

  test.each([
    ['a file in the folder', 'exports/crm', '/acme-in/exports/crm/accounts.csv'],
    ['a wildcard in the folder', 'exports/crm', '/acme-in/exports/crm/*.csv'],
    ['the folder itself', 'exports/crm', '/acme-in/exports/crm'],
    ['the folder with a slash', 'exports/crm/', '/acme-in/exports/crm/'],
    ['a sub-folder', 'exports/crm', '/acme-in/exports/crm/2025/*.csv'],
    ['no leading slash', 'exports/crm', 'acme-in/exports/crm/a.csv'],
    ['anything in a whole-bucket source', undefined, '/acme-in/anywhere/*.csv'],
  ])('%s is accepted', (_name, folderPath, path) => {
    expect(() => scoped(folderPath).addDataflow('F', { ...ok, path })).not.toThrow();
  });

  test('another folder is refused, naming the path, the granted folder and the fix', () => {
    expect(() => scoped('exports/crm').addDataflow('F', { ...ok, path: '/acme-in/exports/erp/*.csv' })).toThrow(
      'Invalid path "/acme-in/exports/erp/*.csv": is outside the folder the source grants AEP, s3://acme-in/exports/crm/ (folderPath "exports/crm"): '
      + "AEP would be denied reading it; write /acme-in/exports/crm/… (a file, folder or wildcard under the folder) or widen the source's folderPath");
  });

  test.each([
    ['a sibling with the same start', '/acme-in/exports/crm-old/a.csv'],
    ['a wildcard wider than the folder', '/acme-in/exports/*.csv'],
    ['the parent folder', '/acme-in/exports'],
  ])('%s is refused', (_name, path) => {
    expect(() => scoped('exports/crm').addDataflow('F', { ...ok, path })).toThrow(/is outside the folder the source grants AEP, s3:\/\/acme-in\/exports\/crm\//);
  });

  test('another bucket is refused, naming both buckets', () => {
    expect(() => scoped(undefined).addDataflow('F', { ...ok, path: '/acme-other/crm/*.csv' })).toThrow(
      'Invalid path "/acme-other/crm/*.csv": names bucket "acme-other", but the source grants AEP read access to s3://acme-in/ only '
      + "(AEP's path is /<bucket>/<key path>): write /acme-in/… (a file, folder or wildcard under the folder) or widen the source's folderPath");
  });

  test('deploy-time values are not checked: a token path, bucket or folder', () => {
    expect(() => scoped('exports/crm').addDataflow('F', { ...ok, path: Token.asString({ Ref: 'P' }) })).not.toThrow();
    expect(() => scoped(Token.asString({ Ref: 'Folder' })).addDataflow('F', { ...ok, path: '/acme-in/elsewhere/a.csv' })).not.toThrow();
    expect(() => scoped('exports/crm', Token.asString({ Ref: 'Bucket' })).addDataflow('F', { ...ok, path: '/any-bucket/exports/crm/a.csv' })).not.toThrow();
    // A token folder still lets the bucket be checked.
    expect(() => scoped(Token.asString({ Ref: 'Folder' })).addDataflow('F', { ...ok, path: '/acme-other/a.csv' })).toThrow(/names bucket "acme-other"/);
  });
});
