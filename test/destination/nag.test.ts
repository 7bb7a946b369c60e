import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { ACCOUNT, REGION } from './util';
import { AepS3Destination, AepSandbox, ExportType, S3DestinationAuth } from '../../src';
import { annotationsOf } from '../synth';

/**
 * cdk-nag AwsSolutions over a realistic user stack: zero unsuppressed findings from the library,
 * and every suppression (the library's and this test's) carries a real reason.
 */

/** The findings of the app's synth (its `app.synth()` already ran the checks; no second synth). */
function nagFindings(stack: Stack): string[] {
  const annotations = annotationsOf(stack);
  const nag = Match.stringLikeRegexp('^AwsSolutions-');
  return [...annotations.findError('*', nag), ...annotations.findWarning('*', nag)]
    .map((m) => `${m.id}: ${String(m.entry.data).split('\n')[0]}`);
}

/** The user's own stack: an enforceSSL, KMS-encrypted bucket with access logs, and destinations. */
function userStack(app: App): Stack {
  const stack = new Stack(app, 'UserStack', { env: { account: ACCOUNT, region: REGION } });
  const logs = new s3.Bucket(stack, 'AccessLogs', {
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
  });
  // The user's own log bucket, not the library's: suppressed here, in the test stack only.
  NagSuppressions.addResourceSuppressions(logs, [
    { id: 'AwsSolutions-S1', reason: 'This bucket is the access-log target itself; logging it to itself would loop.' },
  ]);
  const exports = new s3.Bucket(stack, 'Exports', {
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.KMS,
    serverAccessLogsBucket: logs,
    serverAccessLogsPrefix: 'exports/',
    versioned: true,
  });
  const sandbox = new AepSandbox({
    credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'AepCredentials', 'aep/credentials'),
    sandboxName: 'prod',
    imsOrgId: 'ACME0123456789ABCDEF@AdobeOrg',
  });
  new AepS3Destination(stack, 'KeyExports', { sandbox, bucket: exports, folderPath: 'aep/keys/%SEGMENT_NAME%' });
  new AepS3Destination(stack, 'RoleExports', {
    sandbox,
    bucket: exports,
    folderPath: 'aep/role/%SEGMENT_ID%',
    auth: S3DestinationAuth.assumedRole({ exposeRoleArnOutput: true }),
  });
  new AepS3Destination(stack, 'DatasetExports', {
    sandbox,
    bucket: s3.Bucket.fromBucketName(stack, 'Imported', 'acme-data-lake-exports'),
    exportType: ExportType.DATASETS,
    auth: S3DestinationAuth.accessKeyFromSecret(secretsmanager.Secret.fromSecretNameV2(stack, 'TeamKey', 'team/aep-key'), {
      user: iam.User.fromUserName(stack, 'TeamUser', 'aep-writer'),
      changeToken: 'v1',
    }),
  });
  return stack;
}

test('cdk-nag reports findings at all (the check is live, not silently empty)', () => {
  const app = new App();
  const stack = new Stack(app, 'Bad');
  new s3.Bucket(stack, 'Unsafe');
  Aspects.of(app).add(new AwsSolutionsChecks());
  app.synth();
  expect(nagFindings(stack).some((f) => f.includes('AwsSolutions-S10'))).toBe(true);
});

describe('AwsSolutions on a user stack with every auth mode', () => {
  const app = new App();
  const stack = userStack(app);
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  app.synth();
  const template = Template.fromStack(stack);

  test('zero unsuppressed AwsSolutions errors or warnings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('every suppression in the template has a reason of at least 10 characters', () => {
    const suppressions = Object.entries<any>(template.toJSON().Resources)
      .flatMap(([id, r]) => ((r.Metadata?.cdk_nag?.rules_to_suppress ?? []) as Array<{ id: string; reason: string }>)
        .map((s) => ({ resource: id, ...s })));
    expect(suppressions.length).toBeGreaterThan(0);
    const weak = suppressions.filter((s) => typeof s.reason !== 'string' || s.reason.trim().length < 10);
    expect(weak).toEqual([]);
  });

  test('the library suppresses nothing on the user\'s bucket or key', () => {
    const resources = template.toJSON().Resources as Record<string, any>;
    const userOwned = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket' || r.Type === 'AWS::KMS::Key' || r.Type === 'AWS::S3::BucketPolicy');
    for (const [id, r] of userOwned) {
      const ids = ((r.Metadata?.cdk_nag?.rules_to_suppress ?? []) as Array<{ id: string }>).map((s) => s.id);
      expect({ id, ids: ids.filter((x) => x !== 'AwsSolutions-S1') }).toEqual({ id, ids: [] });
    }
  });
});
