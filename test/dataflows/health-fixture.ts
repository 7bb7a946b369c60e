import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AepS3Source, AepSandbox, IngestionFormat, IngestionFrequency, IngestionSchedule, SourceDataflowOptions } from '../../src';

/** Fixtures of the dataflow-health tests (also under cdk-nag in test/nag.test.ts). */
export const START = '2025-01-01T00:00:00Z';

export function setup() {
  const stack = new Stack(new App(), 'S', { env: { account: '111122223333', region: 'us-east-1' } });
  const sandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'C', 'aep/creds'), sandboxName: 'prod' });
  const source = new AepS3Source(stack, 'Src', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-in') });
  const topic = new sns.Topic(stack, 'Alerts');
  return { stack, sandbox, source, topic };
}

export const ingestion = (frequency: IngestionFrequency, interval: number, extra: Partial<SourceDataflowOptions> = {}): SourceDataflowOptions => ({
  path: '/acme-in/crm/*.parquet',
  format: IngestionFormat.parquet(),
  datasetId: '5f3c3cedb2805c194ff0b69a',
  schemaId: 'https://ns.adobe.com/acme/schemas/995dabbe',
  schedule: IngestionSchedule.recurring({ frequency, interval, startTime: START }),
  ...extra,
});
