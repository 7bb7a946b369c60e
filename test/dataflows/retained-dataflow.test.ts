/**
 * A dataflow kept by RETAIN on a connection the stack deletes: refused at synth (AEP refuses to
 * delete a connection a dataflow uses, so `cdk destroy` could never succeed), naming both
 * constructs, their removal policies and the fix.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  AepS3Destination, AepS3Source, AepSandbox, AudienceSchedule, DatasetExportSchedule, DatasetFileType, ExportType,
  IngestionFormat, IngestionFrequency, IngestionMapping, IngestionSchedule,
} from '../../src';

function setup(connectionPolicy?: RemovalPolicy) {
  const stack = new Stack(new App(), 'S', { env: { account: '111122223333', region: 'us-east-1' } });
  const sandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'C', 'aep/creds'), sandboxName: 'prod' });
  const source = new AepS3Source(stack, 'Src', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-in'), removalPolicy: connectionPolicy });
  const audiences = new AepS3Destination(stack, 'Dst', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B2', 'acme-out'), removalPolicy: connectionPolicy });
  const datasets = new AepS3Destination(stack, 'DsDst', {
    sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B3', 'acme-ds'), exportType: ExportType.DATASETS, datasetFileType: DatasetFileType.PARQUET, removalPolicy: connectionPolicy,
  });
  return { source, audiences, datasets };
}

const addTo = {
  source: (c: ReturnType<typeof setup>, removalPolicy?: RemovalPolicy) => c.source.addDataflow('Crm', {
    path: '/acme-in/crm/*.csv',
    format: IngestionFormat.delimited(),
    datasetId: '5f3c3cedb2805c194ff0b69a',
    schemaId: 'https://ns.adobe.com/acme/schemas/995dabbe',
    mapping: IngestionMapping.inline([{ source: 'Id', destination: '_id' }]),
    schedule: IngestionSchedule.recurring({ frequency: IngestionFrequency.HOUR, interval: 1, startTime: '2025-01-01T00:00:00Z' }),
    removalPolicy,
  }),
  audiences: (c: ReturnType<typeof setup>, removalPolicy?: RemovalPolicy) => c.audiences.addDataflow('Crm', {
    audiences: [{ audienceId: 'seg-1', schedule: AudienceSchedule.onceFull({ startDate: '2025-02-01' }) }],
    removalPolicy,
  }),
  datasets: (c: ReturnType<typeof setup>, removalPolicy?: RemovalPolicy) => c.datasets.addDatasetDataflow('Crm', {
    datasets: [{ datasetId: '5f3c3cedb2805c194ff0b69a' }],
    schedule: DatasetExportSchedule.daily({ startTime: '2025-01-01T00:00:00Z' }),
    removalPolicy,
  }),
};
const PATHS = { source: 'S/Src', audiences: 'S/Dst', datasets: 'S/DsDst' };

describe.each(Object.keys(addTo) as Array<keyof typeof addTo>)('%s dataflow', (kind) => {
  test.each([
    ['the default (DESTROY)', undefined, /RemovalPolicy\.DESTROY, the default/],
    ['DESTROY', RemovalPolicy.DESTROY, /removalPolicy RemovalPolicy\.DESTROY\)/],
  ])('RETAIN on a connection whose removal policy is %s is refused, naming both constructs, both policies and the fix', (_n, policy, connectionWording) => {
    const c = setup(policy);
    const path = PATHS[kind];
    let message = '';
    try {
      addTo[kind](c, RemovalPolicy.RETAIN);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Invalid removalPolicy "retain": /);
    expect(message).toContain(`dataflow ${path}/Crm would be kept in AEP while ${path} deletes its connection`);
    expect(message).toMatch(connectionWording);
    expect(message).toMatch(/AEP refuses to delete a connection that a dataflow still uses, so cdk destroy/);
    expect(message).toContain(`Set removalPolicy: RemovalPolicy.RETAIN on ${path} too, or leave the dataflow's removalPolicy at RemovalPolicy.DESTROY`);
  });

  test.each([
    ['RETAIN on both', RemovalPolicy.RETAIN, RemovalPolicy.RETAIN],
    ['RETAIN_ON_UPDATE_OR_DELETE on the connection', RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, RemovalPolicy.RETAIN],
    ['DESTROY on the dataflow, RETAIN on the connection', RemovalPolicy.RETAIN, RemovalPolicy.DESTROY],
    ['the defaults', undefined, undefined],
  ])('%s is accepted', (_n, connectionPolicy, dataflowPolicy) => {
    const c = setup(connectionPolicy);
    expect(() => addTo[kind](c, dataflowPolicy)).not.toThrow();
  });
});
