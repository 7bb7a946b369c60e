import * as path from 'path';
import { App, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  AepEndpoints, AepS3Destination, AepS3Source, AepSandbox, AudienceSchedule, Compression, DatasetExportSchedule, DatasetFileType,
  DeduplicationKey, ExportFileType, ExportType, FileEncryption, IncrementalFrequency, IngestionFormat, IngestionFrequency,
  IngestionMapping, IngestionSchedule,
  S3DestinationAuth, S3SourceAuth,
} from '../src';

/** Inputs the demo varies between deployments (a rotation and a description change). */
export interface ExampleStackProps extends StackProps {
  /** Endpoints override (the demo points at the local stand-in); production by default. */
  readonly endpoints?: AepEndpoints;
  /**
   * IMS org id of the credential (its `orgId`): the assumed-role destinations trust AEP only for
   * it. The demo passes the stand-in credential's org.
   */
  readonly imsOrgId?: string;
  /** Serial of the access-key destination's IAM key: bump it to rotate. */
  readonly keySerial?: number;
  /** Description of the audience destination. */
  readonly exportDescription?: string;
  /**
   * Deployment number: from the second on, one exported audience runs every 6 hours instead of
   * 12, the ingestion every 2 hours instead of every hour and the dataset export daily instead of
   * every 12 hours (all patched in place).
   */
  readonly revision?: number;
}

/**
 * One stack holding every kind of AEP ⇄ S3 link the library offers:
 * an access-key destination, an assumed-role destination with PGP encryption, an assumed-role
 * dataset export destination, a session-token source and an IAM-role source (AEP on AWS).
 */
export class AepS3ExampleStack extends Stack {
  constructor(scope: Construct, id: string, props: ExampleStackProps = {}) {
    super(scope, id, props);

    // The Adobe Developer Console OAuth Server-to-Server credential, stored beforehand as
    // {"clientId": "...", "clientSecret": "...", "orgId": "...@AdobeOrg"}. Its org id (not a
    // secret) locks the assumed-role destinations to this org: AEP sends it as sts:ExternalId.
    const sandbox = new AepSandbox({
      credentials: secretsmanager.Secret.fromSecretNameV2(this, 'AepCredentials', 'aep/oauth-server-to-server'),
      sandboxName: 'prod',
      endpoints: props.endpoints,
      imsOrgId: props.imsOrgId ?? 'ACME0123456789ABCDEF@AdobeOrg',
    });

    const exportsBucket = new s3.Bucket(this, 'Exports', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const audienceExports = new AepS3Destination(this, 'AudienceExports', {
      sandbox,
      bucket: exportsBucket,
      folderPath: 'aep/audiences/%SEGMENT_NAME%',
      auth: S3DestinationAuth.accessKey({ serial: props.keySerial ?? 1 }),
      fileType: ExportFileType.CSV,
      compression: Compression.GZIP,
      description: props.exportDescription ?? 'Daily audience exports',
    });

    new AepS3Destination(this, 'EncryptedExports', {
      sandbox,
      bucket: exportsBucket,
      folderPath: 'aep/encrypted/%SEGMENT_ID%',
      auth: S3DestinationAuth.assumedRole(),
      encryption: FileEncryption.pgpFromFile(path.join(__dirname, 'keys', 'aep-exports-demo.asc')),
      fileType: ExportFileType.PARQUET,
      compression: Compression.NONE,
    });

    const inbound = s3.Bucket.fromBucketName(this, 'Inbound', 'acme-aep-inbound');
    const crmIngest = new AepS3Source(this, 'CrmIngest', {
      sandbox,
      bucket: inbound,
      folderPath: 'exports/crm',
      auth: S3SourceAuth.accessKey({
        sessionToken: { duration: Duration.hours(12), refreshEvery: Duration.hours(4) },
      }),
    });

    const changed = (props.revision ?? 1) > 1;

    // Dataflows: CSV files under exports/crm/ into a dataset, every hour.
    crmIngest.addDataflow('CrmProfiles', {
      path: '/acme-aep-inbound/exports/crm/*.csv',
      format: IngestionFormat.delimited({ columnDelimiter: ';' }),
      datasetId: '5f3c3cedb2805c194ff0b69a',
      schemaId: 'https://ns.adobe.com/acme/schemas/995dabbea86d58e346ff91bd8aa741a9f36f29b1019138d4',
      mapping: IngestionMapping.inline([
        { source: 'Id', destination: '_id' },
        { source: 'FirstName', destination: 'person.name.firstName' },
        { source: 'Email', destination: 'personalEmail.address' },
      ]),
      schedule: IngestionSchedule.recurring({ frequency: IngestionFrequency.HOUR, interval: changed ? 2 : 1, startTime: '2025-01-01T00:00:00Z' }),
      // After 30 days of failed runs AEP disables the flow; the next deploy enables it again.
      reEnableWhenDisabledByAep: true,
    });

    // Two audiences exported with three profile attributes and the email identity.
    audienceExports.addAudienceDataflow('Newsletter', {
      audiences: [
        { audienceId: '2d79d0d8-724f-49fc-a09d-d1dec338c93c', schedule: AudienceSchedule.dailyFullAfterSegmentation({ startDate: '2025-01-05' }), fileNameTemplate: '%SEGMENT_NAME%_%DATETIME(YYYYMMdd_HHmmss)%' },
        { audienceId: '7f1c0b6e-5b0e-4c47-9f65-0f7e7c1f4a21', schedule: AudienceSchedule.incremental(changed ? IncrementalFrequency.EVERY_6_HOURS : IncrementalFrequency.EVERY_12_HOURS, { startDate: '2025-01-05' }) },
      ],
      attributes: ['person.name.firstName', 'person.name.lastName', 'personalEmail.address', 'identityMap.Email'],
      mandatoryAttributes: ['personalEmail.address'],
      deduplicationKeys: [DeduplicationKey.identity('Email')],
    });

    // A dataset of the data lake exported as Parquet, every 12 hours (daily from revision 2).
    const datasetExports = new AepS3Destination(this, 'DatasetExports', {
      sandbox,
      bucket: exportsBucket,
      folderPath: 'aep/datasets',
      auth: S3DestinationAuth.assumedRole(),
      exportType: ExportType.DATASETS,
      datasetFileType: DatasetFileType.PARQUET,
    });
    const exportWindow = { startTime: '2025-01-01T00:00:00Z', endTime: '2025-12-31T00:00:00Z' };
    datasetExports.addDatasetDataflow('CrmProfiles', {
      datasets: [{ datasetId: '5f3c3cedb2805c194ff0b69a', datasetName: 'CRM profiles' }],
      schedule: changed ? DatasetExportSchedule.daily(exportWindow) : DatasetExportSchedule.everyHours(12, exportWindow),
      folderNameTemplate: '%DATASET_NAME%_%DATETIME(YYYYMMdd_HHmmss)%',
    });

    const landing = new s3.Bucket(this, 'Landing', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
    });
    new AepS3Source(this, 'LandingIngest', {
      sandbox,
      bucket: landing,
      folderPath: 'landing',
      auth: S3SourceAuth.iamRole(),
    });
  }
}

/** Builds the example app (the demo calls this with stand-in endpoints and an outdir). */
export function buildExampleApp(outdir?: string, props: ExampleStackProps = {}): App {
  const app = new App(outdir ? { outdir } : {});
  new AepS3ExampleStack(app, 'AepS3Example', {
    env: { account: '111122223333', region: 'us-east-1' },
    ...props,
  });
  return app;
}

if (require.main === module) {
  buildExampleApp().synth();
}
