/**
 * The access-key cleanup as synthesized: with `keyLifecycle`, one resource per library-made IAM
 * user, ordered between the user and its CloudFormation key, and the tag on the user that arms it;
 * without `keyLifecycle` nothing (a plain access-key connection keeps its 4 resources). The
 * handler's grant for it, evaluated by an IAM policy simulator: read the tags and list and delete
 * the keys of this user, nothing else of IAM.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ACCOUNT, newSandbox, newStack, only } from './util';
import { AccessKeyLifecycleOptions, AepS3Destination, AepS3Source, S3DestinationAuth, S3SourceAuth } from '../../src';
import { ACCESS_KEY_CLEANUP_TAG, AccessKeyCleanupProps, ResourceTypes } from '../../src/private/contract';

const ROTATION: AccessKeyLifecycleOptions = { maxKeyAge: Duration.days(90), rotateEvery: Duration.days(30) };

function destination(stack: Stack, auth: S3DestinationAuth = S3DestinationAuth.accessKey({ keyLifecycle: ROTATION })): AepS3Destination {
  return new AepS3Destination(stack, 'Exports', {
    sandbox: newSandbox(stack),
    bucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'acme-aep-exports'),
    folderPath: 'aep/audiences',
    auth,
  });
}

function cleanups(template: Template): Array<[string, any]> {
  return Object.entries(template.findResources(ResourceTypes.ACCESS_KEY_CLEANUP));
}

describe('template', () => {
  test('destination access key with keyLifecycle: the cleanup names the user, depends on its grant, and the CloudFormation key depends on it', () => {
    const stack = newStack();
    destination(stack);
    const template = Template.fromStack(stack);
    const [userId] = only(template, 'AWS::IAM::User');
    const [cleanupId, cleanup] = only(template, ResourceTypes.ACCESS_KEY_CLEANUP);
    expect(cleanup.Properties[AccessKeyCleanupProps.USER_NAME]).toEqual({ Ref: userId });
    const [providerFnId] = Object.entries<any>(template.findResources('AWS::Lambda::Function')).find(([, f]) => f.Properties.Handler === 'index.handler')!;
    expect(JSON.stringify(cleanup.Properties.ServiceToken)).toContain('CdkAepS3Provider');
    expect(providerFnId).toMatch(/CdkAepS3Provider/);
    // Deleted before the user, after the CloudFormation key (and so after the connection reading its secret).
    const [, key] = only(template, 'AWS::IAM::AccessKey');
    expect(key.DependsOn).toContain(cleanupId);
    const grants = Object.entries<any>(template.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes('CdkAepS3ProviderHandlerRole') && JSON.stringify(p.Properties.PolicyDocument).includes('iam:DeleteAccessKey'));
    expect(grants).toHaveLength(1);
    expect(cleanup.DependsOn).toContain(grants[0][0]);
    expect(grants[0][1].Properties.PolicyDocument.Statement).toEqual([{
      Action: ['iam:ListUserTags', 'iam:ListAccessKeys', 'iam:DeleteAccessKey'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [userId, 'Arn'] },
    }]);
    expect(JSON.stringify(grants[0][1].Properties.Roles)).toContain('CdkAepS3ProviderHandlerRole');
  });

  test('the user carries the cleanup tag with keyLifecycle; without it: no tag, no cleanup, no grant (4 resources per plain connection, as before)', () => {
    const withIt = Template.fromStack((() => { const st = newStack(); destination(st); return st; })());
    expect(only(withIt, 'AWS::IAM::User')[1].Properties.Tags).toEqual([{ Key: ACCESS_KEY_CLEANUP_TAG.KEY, Value: ACCESS_KEY_CLEANUP_TAG.VALUE }]);
    const stack = newStack();
    destination(stack, S3DestinationAuth.accessKey());
    const without = Template.fromStack(stack);
    expect(only(without, 'AWS::IAM::User')[1].Properties.Tags).toBeUndefined();
    expect(cleanups(without)).toEqual([]);
    expect(JSON.stringify(without.toJSON())).not.toContain('iam:DeleteAccessKey');
    expect(only(without, 'AWS::IAM::AccessKey')[1].DependsOn).toBeUndefined();
  });

  test('RETAIN: the cleanup is retained with the user (no Delete: AEP keeps its key), its grant is not (it would outlive the role)', () => {
    const stack = newStack();
    new AepS3Destination(stack, 'Exports', {
      sandbox: newSandbox(stack),
      bucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'acme-aep-exports'),
      auth: S3DestinationAuth.accessKey({ keyLifecycle: ROTATION }),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const template = Template.fromStack(stack);
    expect(only(template, 'AWS::IAM::User')[1].DeletionPolicy).toBe('Retain');
    expect(only(template, ResourceTypes.ACCESS_KEY_CLEANUP)[1].DeletionPolicy).toBe('Retain');
    const grants = Object.values<any>(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('CdkAepS3ProviderHandlerRole') && JSON.stringify(p.Properties.PolicyDocument).includes('iam:DeleteAccessKey'));
    expect(grants).toHaveLength(1);
    expect(grants[0].DeletionPolicy).toBeUndefined();
  });

  test('source access key: one cleanup for its user too', () => {
    const stack = newStack();
    new AepS3Source(stack, 'Ingest', {
      sandbox: newSandbox(stack),
      bucket: s3.Bucket.fromBucketName(stack, 'Inbound', 'acme-aep-inbound'),
      folderPath: 'exports/crm',
      auth: S3SourceAuth.accessKey({ keyLifecycle: { rotateEvery: Duration.days(30) } }),
    });
    const template = Template.fromStack(stack);
    const [userId] = only(template, 'AWS::IAM::User');
    expect(cleanups(template).map(([, c]) => c.Properties[AccessKeyCleanupProps.USER_NAME])).toEqual([{ Ref: userId }]);
  });

  test('no library-made user (assumed role, your own key): no cleanup, no IAM key grant', () => {
    for (const auth of [
      S3DestinationAuth.assumedRole(),
      S3DestinationAuth.accessKeyFromSecret(secretsmanager.Secret.fromSecretNameV2(newStack(), 'Key', 'aep/export-user-key')),
    ]) {
      const stack = newStack();
      destination(stack, auth);
      const template = Template.fromStack(stack);
      expect(cleanups(template)).toEqual([]);
      expect(JSON.stringify(template.toJSON())).not.toContain('iam:DeleteAccessKey');
    }
  });
});

describe('IAM simulation of the handler role\'s cleanup grant', () => {
  const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/Dest-ExportsAuthAccessKeyUser-ABC123`;

  /** Every identity policy of the provider's role, the user's ARN made concrete. */
  function handlerPolicies(): unknown[] {
    const stack = newStack();
    destination(stack);
    const resources = Template.fromStack(stack).toJSON().Resources;
    const roleId = Object.keys(resources).find((id) => resources[id].Type === 'AWS::IAM::Role' && /CdkAepS3ProviderHandlerRole/.test(id))!;
    const resolve = (v: any): any => {
      if (Array.isArray(v)) return v.map(resolve);
      if (!v || typeof v !== 'object') return v;
      if ('Fn::GetAtt' in v) {
        const [id, attr] = v['Fn::GetAtt'];
        if (resources[id]?.Type === 'AWS::IAM::User' && attr === 'Arn') return USER_ARN;
        return `arn:aws:unresolved:::${id}`;
      }
      if ('Ref' in v) return `unresolved-${v.Ref}`;
      if ('Fn::Join' in v) return resolve(v['Fn::Join'][1]).join(v['Fn::Join'][0]);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
    };
    const role = resources[roleId];
    const attached = Object.values<any>(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`));
    return [...(role.Properties.Policies ?? []).map((p: any) => p.PolicyDocument), ...attached.map((p) => p.Properties.PolicyDocument)].map(resolve);
  }

  async function decide(policies: unknown[], action: string, resource: string): Promise<string> {
    const result = await runSimulation({
      request: { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/Dest-CdkAepS3ProviderHandlerRole-XYZ/fn`, action, resource: { resource, accountId: ACCOUNT }, contextVariables: {} },
      identityPolicies: policies.map((policy, i) => ({ name: `p${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    }, { simulationMode: 'Strict' });
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
  }

  test('may read the tags and list and delete the keys of this user only; may not create keys or touch the user itself', async () => {
    const p = handlerPolicies();
    for (const action of ['iam:ListUserTags', 'iam:ListAccessKeys', 'iam:DeleteAccessKey']) {
      expect(await decide(p, action, USER_ARN)).toBe('Allowed');
      expect(await decide(p, action, `arn:aws:iam::${ACCOUNT}:user/admin`)).not.toBe('Allowed');
      expect(await decide(p, action, `arn:aws:iam::${ACCOUNT}:user/Dest-ExportsAuthAccessKeyUser-ABC123-other`)).not.toBe('Allowed');
    }
    for (const action of ['iam:CreateAccessKey', 'iam:UpdateAccessKey', 'iam:DeleteUser', 'iam:PutUserPolicy', 'iam:CreateLoginProfile', 'iam:AttachUserPolicy', 'iam:TagUser', 'iam:UntagUser']) {
      expect(await decide(p, action, USER_ARN)).not.toBe('Allowed');
    }
  });
});
