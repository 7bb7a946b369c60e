/** The app the plan scenarios change, one option per scripted change of issue 17. */
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ScenarioScope } from '../../offline-world/scenario';
import {
  AepS3Destination, AepS3Source, AudienceExport, AudienceSchedule, IngestionFormat, IngestionFrequency, IngestionMapping, IngestionSchedule,
  S3SourceAuth,
} from '../../src';

export const A1: AudienceExport = { audienceId: 'seg-1', schedule: AudienceSchedule.onceFull({ startDate: '2025-02-01' }) };
export const A2: AudienceExport = { audienceId: 'seg-2', schedule: AudienceSchedule.onceFull({ startDate: '2025-02-01' }) };

/** The app the scripted changes edit. */
export interface AppShape {
  readonly sourceName?: string;
  readonly folderPath?: string;
  readonly sandboxName?: string;
  readonly audiences?: AudienceExport[];
  readonly sourceAuth?: 'accessKey' | 'iamRole';
  readonly withIngestion?: boolean;
}

export function app(shape: AppShape = {}) {
  return ({ stack, sandbox }: ScenarioScope) => {
    const sb = sandbox({ sandboxName: shape.sandboxName ?? 'prod' });
    const source = new AepS3Source(stack, 'Inbound', {
      sandbox: sb,
      bucket: s3.Bucket.fromBucketName(stack, 'InBucket', 'acme-aep-inbound'),
      folderPath: shape.folderPath ?? 'crm',
      connectionName: shape.sourceName,
      auth: shape.sourceAuth === 'iamRole' ? S3SourceAuth.iamRole() : S3SourceAuth.accessKey(),
    });
    if (shape.withIngestion !== false) {
      source.addDataflow('Crm', {
        path: `/acme-aep-inbound/${shape.folderPath ?? 'crm'}/*.csv`,
        format: IngestionFormat.delimited({ columnDelimiter: ';' }),
        datasetId: '5f3c3cedb2805c194ff0b69a',
        schemaId: 'https://ns.adobe.com/acme/schemas/995dabbea86d58e346ff91bd8aa741a9f36f29b1019138d4',
        mapping: IngestionMapping.inline([{ source: 'Id', destination: '_id' }]),
        schedule: IngestionSchedule.recurring({ frequency: IngestionFrequency.MINUTE, interval: 30, startTime: '2025-01-01T00:00:00Z' }),
      });
    }
    const destination = new AepS3Destination(stack, 'Exports', { sandbox: sb, bucket: s3.Bucket.fromBucketName(stack, 'OutBucket', 'acme-aep-exports') });
    destination.addDataflow('Audiences', { audiences: shape.audiences ?? [A1] });
  };
}

