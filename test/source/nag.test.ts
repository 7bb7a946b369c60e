import { Aspects, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { ADOBE_ROLE_ARN, newBucket, newSandbox, newStack } from './util';
import { AepS3Source, S3SourceAuth } from '../../src';

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
