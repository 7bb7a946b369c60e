import { App, Aspects, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { ingestion, setup } from './dataflows/health-fixture';
import { keyWatchDestination } from './destination/key-watch-fixture';
import { ACCOUNT, REGION, newStack as newDestinationStack } from './destination/util';
import { ADOBE_ROLE_ARN, newBucket, newSandbox, newStack } from './source/util';
import { annotationsOf } from './synth';
import { AepS3Destination, AepS3Source, AepSandbox, DataflowHealth, ExportType, IngestionFrequency, S3DestinationAuth, S3SourceAuth } from '../src';

/*
 * Every cdk-nag check of the library in one file: loading cdk-nag, and the aws-cdk-lib modules
 * its rules load on their first check, costs ~0.9 s of CPU per test file.
 */

// ---- Destinations (formerly test/destination/nag.test.ts) ----

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

// ---- Sources (formerly test/source/nag.test.ts) ----

/** Every mode, KMS and imported buckets, and the refresh alarm, in one stack. */
function everything(): Stack {
  const stack = newStack();
  const sandbox = newSandbox(stack);
  const plain = newBucket(stack, { id: 'Plain', name: 'acme-plain' });
  const encrypted = newBucket(stack, { id: 'Encrypted', name: 'acme-encrypted', kms: true });
  for (const bucket of [plain, encrypted]) {
    // The fixture's buckets belong to the user, not to the library.
    NagSuppressions.addResourceSuppressions(bucket, [
      { id: 'AwsSolutions-S1', reason: 'Test fixture: server access logging is the bucket owner\'s decision, not the library\'s.' },
    ]);
  }
  new AepS3Source(stack, 'Key', { sandbox, bucket: plain, folderPath: 'a' });
  const session = new AepS3Source(stack, 'Session', {
    sandbox,
    bucket: encrypted,
    folderPath: 'b',
    auth: S3SourceAuth.accessKey({ sessionToken: { duration: Duration.hours(2) } }),
  });
  session.addRefreshFailureAlarm(stack, 'RefreshAlarm');
  new AepS3Source(stack, 'LookedUpRole', { sandbox, bucket: plain, folderPath: 'c', auth: S3SourceAuth.iamRole() });
  new AepS3Source(stack, 'GivenRole', { sandbox, bucket: encrypted, auth: S3SourceAuth.iamRole({ adobeRoleArn: ADOBE_ROLE_ARN }) });
  new AepS3Source(stack, 'Imported', {
    sandbox,
    bucket: s3.Bucket.fromBucketName(stack, 'ImportedBucket', 'partner-drop'),
    auth: S3SourceAuth.iamRole(),
  });
  Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true }));
  return stack;
}

describe('cdk-nag AwsSolutions', () => {
  const stack = everything();
  const annotations = Annotations.fromStack(stack);

  test('no unsuppressed errors', () => {
    const errors = annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    expect(errors.map((e) => `${e.id}: ${String(e.entry.data).split('\n')[0]}`)).toEqual([]);
  });

  test('no unsuppressed warnings', () => {
    const warnings = annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    expect(warnings.map((w) => `${w.id}: ${String(w.entry.data).split('\n')[0]}`)).toEqual([]);
  });

  test('the checks run (a canary bucket without logging is reported)', () => {
    const canary = newStack();
    new s3.Bucket(canary, 'Canary');
    Aspects.of(canary).add(new AwsSolutionsChecks());
    const errors = Annotations.fromStack(canary).findError('*', Match.stringLikeRegexp('AwsSolutions-S1'));
    expect(errors.length).toBeGreaterThan(0);
  });

  test('the folder-scoped user policies (inline on the users) carry their IAM5 suppression (the bucket/<prefix>* wildcard)', () => {
    const ids = stack.node.findAll()
      .filter(CfnResource.isCfnResource)
      .filter((r) => r.node.path.endsWith('/AccessKey/User/Resource'))
      .map((r) => ((r.getMetadata('cdk_nag') as any)?.rules_to_suppress ?? []).map((x: any) => x.id));
    expect(ids).toEqual([['AwsSolutions-IAM5'], ['AwsSolutions-IAM5']]);
  });

  test('every suppression has a reason of at least 10 characters', () => {
    const suppressions = stack.node.findAll()
      .filter(CfnResource.isCfnResource)
      .flatMap((r) => ((r.getMetadata('cdk_nag') as any)?.rules_to_suppress ?? []) as Array<{ id: string; reason: string }>);
    expect(suppressions.length).toBeGreaterThan(0);
    for (const s of suppressions) expect([s.id, s.reason.length >= 10]).toEqual([s.id, true]);
  });
});

// ---- The key watch (formerly in test/destination/key-watch.test.ts) ----

describe('key watch', () => {
  test('cdk-nag AwsSolutions: no finding on the watch (function, role, policies, schedule, alarms)', () => {
    const app = new App();
    Aspects.of(app).add(new AwsSolutionsChecks());
    const stack = newDestinationStack(app);
    keyWatchDestination(stack, { maxKeyAge: Duration.days(90), rotateEvery: Duration.days(30) });
    const annotations = Annotations.fromStack(stack);
    const nag = Match.stringLikeRegexp('^AwsSolutions-');
    const findings = [...annotations.findError('*', nag), ...annotations.findWarning('*', nag)]
      .filter((m) => m.id.includes('KeyWatch'))
      .map((m) => `${m.id}: ${String(m.entry.data).split('\n')[0]}`);
    expect(findings).toEqual([]);
  });
});

// ---- Dataflow health (formerly in test/dataflows/dataflow-health.test.ts) ----

describe('DataflowHealth.alarms', () => {
  test('cdk-nag AwsSolutions: no unsuppressed finding on the checker, its schedule or its alarms', () => {
    const { stack, source, topic } = setup();
    source.addDataflow('Crm', ingestion(IngestionFrequency.HOUR, 1, { health: DataflowHealth.alarms({ alarmTopic: topic }) }));
    Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true }));
    const annotations = Annotations.fromStack(stack);
    const all = [
      ...annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ];
    // The checks run on this stack: the fixture's own topic (no SSL policy) is reported.
    expect(all.some((f) => f.id === '/S/Alerts/Resource')).toBe(true);
    const findings = all.filter((f) => f.id.includes('DataflowHealth') || f.id.includes('/Health/'));
    expect(findings.map((f) => `${f.id}: ${String(f.entry.data).split('\n')[0]}`)).toEqual([]);
  });
});
