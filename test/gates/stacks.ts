/**
 * The stacks whose templates are snapshotted for the destructive-change gate: the example app
 * (every kind of link) and two focused stacks whose inputs the gate's tests vary one at a time.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { CfnTemplate } from './destructive';
import { buildExampleApp } from '../../examples/app';
import {
  AepS3Destination, AepS3Source, AepSandbox, AudienceSchedule, ExportFileType, IngestionFormat, IngestionFrequency, IngestionMapping,
  IngestionSchedule, S3DestinationAuth, S3SourceAuth,
} from '../../src';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const ORG = 'ACME0123456789ABCDEF@AdobeOrg';

/** The inputs the focused stacks expose (each one a user-facing construct prop). */
export interface FocusedInputs {
  readonly sandboxName?: string;
  readonly folderPath?: string;
  /** Source auth mode. */
  readonly sourceAuth?: 'accessKey' | 'sessionToken' | 'iamRole';
  /** Serial of the destination's access key. */
  readonly keySerial?: number;
  /** Construct id of the source (a rename changes every logical id under it). */
  readonly sourceId?: string;
  readonly description?: string;
  /** Session-token lifetime in hours (source sessionToken mode). */
  readonly sessionHours?: number;
  /** Omit the destination entirely. */
  readonly withoutDestination?: boolean;
}

function sandboxOf(stack: Stack, name: string): AepSandbox {
  return new AepSandbox({
    credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'AepCredentials', 'aep/oauth-server-to-server'),
    sandboxName: name,
    imsOrgId: ORG,
  });
}

/** An S3 source (auth mode, folder, name as inputs) with one ingestion dataflow. */
export function focusedSourceStack(app: App, inputs: FocusedInputs = {}): Stack {
  const stack = new Stack(app, 'GateSource', { env: ENV });
  const sandbox = sandboxOf(stack, inputs.sandboxName ?? 'prod');
  const folder = inputs.folderPath ?? 'exports/crm';
  const mode = inputs.sourceAuth ?? 'accessKey';
  const auth = mode === 'iamRole' ? S3SourceAuth.iamRole()
    : mode === 'sessionToken' ? S3SourceAuth.accessKey({ sessionToken: { duration: Duration.hours(inputs.sessionHours ?? 12), refreshEvery: Duration.hours(4) } })
      : S3SourceAuth.accessKey();
  const bucket = mode === 'iamRole'
    ? new s3.Bucket(stack, 'Landing', { enforceSSL: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL, bucketName: 'acme-aep-landing' })
    : s3.Bucket.fromBucketName(stack, 'Inbound', 'acme-aep-inbound');
  const source = new AepS3Source(stack, inputs.sourceId ?? 'CrmIngest', {
    sandbox, bucket, folderPath: folder, auth, description: inputs.description,
  });
  source.addDataflow('Profiles', {
    path: `/${bucket.bucketName === 'acme-aep-inbound' ? 'acme-aep-inbound' : 'acme-aep-landing'}/${folder}/*.csv`,
    format: IngestionFormat.delimited(),
    datasetId: '5f3c3cedb2805c194ff0b69a',
    schemaId: 'https://ns.adobe.com/acme/schemas/995dabbea86d58e346ff91bd8aa741a9f36f29b1019138d4',
    mapping: IngestionMapping.inline([{ source: 'Email', destination: 'personalEmail.address' }]),
    schedule: IngestionSchedule.recurring({ frequency: IngestionFrequency.HOUR, interval: 1, startTime: '2025-01-01T00:00:00Z' }),
  });
  return stack;
}

/** An access-key destination (key serial, folder, sandbox as inputs) with one audience export. */
export function focusedDestinationStack(app: App, inputs: FocusedInputs = {}): Stack {
  const stack = new Stack(app, 'GateDestination', { env: ENV });
  if (inputs.withoutDestination) return stack;
  const sandbox = sandboxOf(stack, inputs.sandboxName ?? 'prod');
  const bucket = new s3.Bucket(stack, 'Exports', { enforceSSL: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
  const destination = new AepS3Destination(stack, 'AudienceExports', {
    sandbox,
    bucket,
    folderPath: inputs.folderPath ?? 'aep/audiences',
    auth: S3DestinationAuth.accessKey({ serial: inputs.keySerial ?? 1 }),
    fileType: ExportFileType.CSV,
    description: inputs.description,
  });
  destination.addDataflow('Newsletter', {
    audiences: [{ audienceId: '2d79d0d8-724f-49fc-a09d-d1dec338c93c', schedule: AudienceSchedule.dailyFullAfterSegmentation({ startDate: '2025-01-05' }) }],
    attributes: ['personalEmail.address'],
  });
  return stack;
}

/**
 * A template as committed: asset hashes (they change with every handler build, which replaces
 * nothing) and the CDK analytics resource are masked, so a snapshot changes only with the stack.
 */
export function normalize(template: CfnTemplate): CfnTemplate {
  const text = JSON.stringify(template).replace(/\b[0-9a-f]{64}(\.zip|\.json)\b/g, '<asset-hash>$1');
  const t = JSON.parse(text) as { Resources?: Record<string, unknown> };
  delete t.Resources?.CDKMetadata;
  return t as CfnTemplate;
}

/** The normalized template of a stack. */
export function templateOf(stack: Stack): CfnTemplate {
  return normalize(Template.fromStack(stack).toJSON() as CfnTemplate);
}

/** Every snapshotted stack by name, synthesized from the current code. */
export function snapshotTemplates(): Record<string, CfnTemplate> {
  const example = buildExampleApp();
  const exampleStack = example.node.children.find((c): c is Stack => Stack.isStack(c))!;
  return {
    [exampleStack.stackName]: templateOf(exampleStack),
    GateSource: templateOf(focusedSourceStack(new App())),
    GateDestination: templateOf(focusedDestinationStack(new App())),
  };
}
