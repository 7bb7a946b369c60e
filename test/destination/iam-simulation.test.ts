import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ACCOUNT, ORG_ID, REGION, newSandbox, newStack } from './util';
import { AepS3Destination, S3DestinationAuth } from '../../src';
import { AepIds } from '../../src/private/contract';

/**
 * Evaluates the SYNTHESIZED policy of AEP's principal with an IAM policy simulator: the six
 * actions Adobe lists must be allowed on the folder, and everything around it denied.
 */

const BUCKET = 'acme-aep-exports';
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const OTHER_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-8888-7777-6666-555555555555`;
const FOLDER = 'aep/audiences/%SEGMENT_NAME%';
const IN_FOLDER = `${BUCKET_ARN}/aep/audiences/Loyal_Customers/export_20250101.csv`;
/** SSE-KMS: S3 calls KMS on the principal's behalf, and says so in `kms:ViaService`. */
const VIA_S3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com` };

/** The key policy CDK gives keys by default: the account's IAM policies decide. */
const ACCOUNT_TRUSTING_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
};

interface Scenario {
  readonly name: string;
  /** The request principal: the IAM user, or a session of the role. */
  readonly principal: string;
  readonly build: (stack: Stack) => void;
}

/** Replaces the intrinsics our policy uses with concrete values (fails on anything unexpected). */
function resolveIntrinsics(value: unknown, refs: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, refs));
  if (value && typeof value === 'object') {
    const obj = value as Record<string, any>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === 'Ref') {
      if (obj.Ref === 'AWS::Partition') return 'aws';
      if (obj.Ref in refs) return refs[obj.Ref];
      throw new Error(`unresolved Ref ${obj.Ref}`);
    }
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const key = obj['Fn::GetAtt'].join('.');
      if (key in refs) return refs[key];
      throw new Error(`unresolved GetAtt ${key}`);
    }
    if (keys.length === 1 && keys[0] === 'Fn::Join') {
      const [sep, parts] = obj['Fn::Join'];
      return (resolveIntrinsics(parts, refs) as string[]).join(sep);
    }
    if (keys.some((k) => k.startsWith('Fn::'))) throw new Error(`unexpected intrinsic ${keys[0]}`);
    return Object.fromEntries(keys.map((k) => [k, resolveIntrinsics(obj[k], refs)]));
  }
  return value;
}

/** Synthesizes the scenario and returns the concrete policy document attached to AEP's principal. */
function synthesizedPolicy(scenario: Scenario): unknown {
  const stack = newStack();
  scenario.build(stack);
  const template = Template.fromStack(stack);
  const refs: Record<string, string> = {};
  for (const [id] of Object.entries(template.findResources('AWS::S3::Bucket'))) refs[`${id}.Arn`] = BUCKET_ARN;
  for (const [id] of Object.entries(template.findResources('AWS::KMS::Key'))) refs[`${id}.Arn`] = KEY_ARN;
  // Every identity policy of AEP's principal: inline on the user or role, or a policy resource naming it.
  const principals = [...Object.entries(template.findResources('AWS::IAM::User')), ...Object.entries(template.findResources('AWS::IAM::Role'))]
    .filter(([id]) => !id.startsWith('CdkAepS3Provider'));
  expect(principals).toHaveLength(1);
  const [principalId, principal] = principals[0];
  const attached = Object.values<any>(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify([p.Properties.Users, p.Properties.Roles]).includes(`"${principalId}"`));
  const documents = [...(principal.Properties.Policies ?? []).map((p: any) => p.PolicyDocument), ...attached.map((p) => p.Properties.PolicyDocument)];
  expect(documents).toHaveLength(1);
  return resolveIntrinsics(documents[0], refs);
}

const scenarios: Scenario[] = [
  {
    name: 'access key, bucket created with BucketEncryption.KMS',
    principal: `arn:aws:iam::${ACCOUNT}:user/Dest-ExportsAuthAccessKeyUser-ABC123`,
    build: (stack) => {
      new AepS3Destination(stack, 'Exports', {
        sandbox: newSandbox(stack),
        bucket: new s3.Bucket(stack, 'Bucket', { encryption: s3.BucketEncryption.KMS }),
        folderPath: FOLDER,
      });
    },
  },
  {
    name: 'assumed role, imported bucket + explicit KMS key',
    principal: `arn:aws:sts::${ACCOUNT}:assumed-role/Dest-ExportsAuthRole-XyZ987/aep-session`,
    build: (stack) => {
      new AepS3Destination(stack, 'Exports', {
        sandbox: newSandbox(stack),
        bucket: s3.Bucket.fromBucketName(stack, 'Bucket', BUCKET),
        encryptionKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN),
        folderPath: FOLDER,
        auth: S3DestinationAuth.assumedRole(),
      });
    },
  },
];

/** [action, resource ARN, context] */
type Probe = [string, string, Record<string, string>?];

const ALLOWED: Probe[] = [
  ['s3:PutObject', IN_FOLDER],
  ['s3:GetObject', IN_FOLDER],
  ['s3:DeleteObject', IN_FOLDER],
  ['s3:ListMultipartUploadParts', IN_FOLDER],
  ['s3:ListBucket', BUCKET_ARN, { 's3:prefix': 'aep/audiences/' }],
  ['s3:ListBucket', BUCKET_ARN, { 's3:prefix': 'aep/audiences/Loyal_Customers/' }],
  ['s3:ListBucket', BUCKET_ARN, { 's3:prefix': 'aep/audiences' }],
  ['s3:GetBucketLocation', BUCKET_ARN],
  ['kms:GenerateDataKey', KEY_ARN, VIA_S3],
  ['kms:Decrypt', KEY_ARN, VIA_S3],
];

const DENIED: Probe[] = [
  // Objects outside the folder's static prefix.
  ['s3:PutObject', `${BUCKET_ARN}/other/file.csv`],
  ['s3:PutObject', `${BUCKET_ARN}/aep/file.csv`],
  ['s3:PutObject', `${BUCKET_ARN}/aep/audiencesX/file.csv`],
  ['s3:PutObject', `${BUCKET_ARN}/file.csv`],
  ['s3:GetObject', `${BUCKET_ARN}/other/secret.csv`],
  ['s3:GetObject', `${BUCKET_ARN}/aep/audiences`],
  ['s3:DeleteObject', `${BUCKET_ARN}/other/file.csv`],
  ['s3:ListMultipartUploadParts', `${BUCKET_ARN}/other/file.csv`],
  // Another bucket.
  ['s3:PutObject', 'arn:aws:s3:::other-bucket/aep/audiences/x.csv'],
  ['s3:GetObject', 'arn:aws:s3:::other-bucket/aep/audiences/x.csv'],
  ['s3:ListBucket', 'arn:aws:s3:::other-bucket', { 's3:prefix': 'aep/audiences/' }],
  ['s3:GetBucketLocation', 'arn:aws:s3:::other-bucket'],
  // Listing outside the folder, or the whole bucket.
  ['s3:ListBucket', BUCKET_ARN, { 's3:prefix': 'other/' }],
  ['s3:ListBucket', BUCKET_ARN, { 's3:prefix': 'aep/' }],
  ['s3:ListBucket', BUCKET_ARN, { 's3:prefix': 'aep/audiencesX' }],
  ['s3:ListBucket', BUCKET_ARN],
  // Actions nobody granted, even inside the folder.
  ['s3:PutObjectAcl', IN_FOLDER],
  ['s3:GetObjectAcl', IN_FOLDER],
  ['s3:PutObjectTagging', IN_FOLDER],
  ['s3:GetObjectVersion', IN_FOLDER],
  ['s3:DeleteObjectVersion', IN_FOLDER],
  ['s3:BypassGovernanceRetention', IN_FOLDER],
  // Bucket administration.
  ['s3:DeleteBucket', BUCKET_ARN],
  ['s3:PutBucketPolicy', BUCKET_ARN],
  ['s3:GetBucketPolicy', BUCKET_ARN],
  ['s3:PutBucketAcl', BUCKET_ARN],
  ['s3:PutLifecycleConfiguration', BUCKET_ARN],
  ['s3:PutEncryptionConfiguration', BUCKET_ARN],
  ['s3:ListAllMyBuckets', '*'],
  // KMS: other keys, direct use of the bucket key (not through S3), and its administration.
  ['kms:Decrypt', OTHER_KEY_ARN, VIA_S3],
  ['kms:GenerateDataKey', OTHER_KEY_ARN, VIA_S3],
  ['kms:Encrypt', OTHER_KEY_ARN, VIA_S3],
  // S3 never calls kms:Encrypt for SSE-KMS: not granted even on the bucket key.
  ['kms:Encrypt', KEY_ARN, VIA_S3],
  ['kms:Decrypt', KEY_ARN],
  ['kms:GenerateDataKey', KEY_ARN],
  ['kms:Decrypt', KEY_ARN, { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` }],
  ['kms:Decrypt', KEY_ARN, { 'kms:ViaService': 's3.us-east-1.amazonaws.com' }],
  ['kms:ScheduleKeyDeletion', KEY_ARN, VIA_S3],
  ['kms:PutKeyPolicy', KEY_ARN, VIA_S3],
  ['kms:CreateGrant', KEY_ARN, VIA_S3],
  ['kms:DisableKey', KEY_ARN, VIA_S3],
  ['kms:ReEncryptFrom', KEY_ARN, VIA_S3],
  // No self-escalation through IAM or STS.
  ['iam:CreateAccessKey', `arn:aws:iam::${ACCOUNT}:user/Dest-ExportsAuthAccessKeyUser-ABC123`],
  ['iam:PutUserPolicy', `arn:aws:iam::${ACCOUNT}:user/Dest-ExportsAuthAccessKeyUser-ABC123`],
  ['iam:PutRolePolicy', `arn:aws:iam::${ACCOUNT}:role/Dest-ExportsAuthRole-XyZ987`],
  ['sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/Admin`],
];

async function simulate(principal: string, policy: unknown, [action, resource, context]: Probe): Promise<string> {
  const isKms = action.startsWith('kms:');
  const result = await runSimulation({
    request: { principal, action, resource: { resource, accountId: ACCOUNT }, contextVariables: context ?? {} },
    identityPolicies: [{ name: 'aep', policy }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    // KMS needs a key policy; give every key the account-trusting default so only IAM decides.
    resourcePolicy: isKms ? ACCOUNT_TRUSTING_KEY_POLICY : undefined,
  }, { simulationMode: 'Strict' });
  if (result.resultType === 'error') throw new Error(`simulation error for ${action} ${resource}: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

const label = ([action, resource, context]: Probe) => `${action} ${resource}${context ? ` ${JSON.stringify(context)}` : ''}`;

test('the probe lists are large enough', () => {
  expect(ALLOWED.map(([a]) => a)).toEqual(expect.arrayContaining([
    's3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:ListMultipartUploadParts', 's3:ListBucket', 's3:GetBucketLocation',
  ]));
  expect(DENIED.length).toBeGreaterThanOrEqual(20);
});

describe.each(scenarios)('$name', (scenario) => {
  let policy: unknown;
  beforeAll(() => {
    policy = synthesizedPolicy(scenario);
  });

  test.each(ALLOWED.map((p) => [label(p), p] as const))('allows %s', async (_label, probe) => {
    expect(await simulate(scenario.principal, policy, probe)).toBe('Allowed');
  });

  test.each(DENIED.map((p) => [label(p), p] as const))('denies %s', async (_label, probe) => {
    expect(await simulate(scenario.principal, policy, probe)).not.toBe('Allowed');
  });
});

/**
 * The role's TRUST policy, evaluated the same way: Adobe's destinations user calls sts:AssumeRole
 * (allowed by its own account's policies), and the trust decides by the external id AEP sends,
 * which since August 2026 is the IMS org id of the org the destination belongs to.
 */
describe('assumed role trust: only AEP acting for the sandbox\'s IMS org may assume the role', () => {
  const ADOBE_USER = `arn:aws:iam::${AepIds.ADOBE_DESTINATIONS_ACCOUNT}:user/destinations-adobe-user`;
  const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Dest-ExportsAuthRole-XyZ987`;
  /** What Adobe's own account lets its user do: assume roles anywhere (the trust is what limits it). */
  const ADOBE_SIDE = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] };

  function trustOf(auth: S3DestinationAuth): unknown {
    const stack = newStack();
    new AepS3Destination(stack, 'Exports', { sandbox: newSandbox(stack), bucket: s3.Bucket.fromBucketName(stack, 'Bucket', BUCKET), auth });
    const roles = Object.entries<any>(Template.fromStack(stack).findResources('AWS::IAM::Role')).filter(([id]) => !id.startsWith('CdkAepS3Provider'));
    expect(roles).toHaveLength(1);
    return roles[0][1].Properties.AssumeRolePolicyDocument;
  }

  async function assume(trust: unknown, externalId: string | undefined): Promise<string> {
    const result = await runSimulation({
      request: {
        principal: ADOBE_USER,
        action: 'sts:AssumeRole',
        resource: { resource: ROLE_ARN, accountId: ACCOUNT },
        contextVariables: externalId === undefined ? {} : { 'sts:ExternalId': externalId },
      },
      identityPolicies: [{ name: 'adobe', policy: ADOBE_SIDE }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: trust,
    }, { simulationMode: 'Strict' });
    if (result.resultType === 'error') throw new Error(`simulation error: ${JSON.stringify(result.errors)}`);
    return result.overallResult;
  }

  test('AEP for the sandbox\'s org is allowed; another org, or no external id, is denied', async () => {
    const trust = trustOf(S3DestinationAuth.assumedRole());
    expect(await assume(trust, ORG_ID)).toBe('Allowed');
    expect(await assume(trust, 'SOMEONEELSE99@AdobeOrg')).not.toBe('Allowed');
    expect(await assume(trust, undefined)).not.toBe('Allowed');
  });

  test('allowAnyAdobeOrg: every org is allowed (the exposure its warning names)', async () => {
    const trust = trustOf(S3DestinationAuth.assumedRole({ allowAnyAdobeOrg: true }));
    expect(await assume(trust, 'SOMEONEELSE99@AdobeOrg')).toBe('Allowed');
  });

  test('an account outside Adobe is denied whatever external id it sends', async () => {
    const trust = trustOf(S3DestinationAuth.assumedRole());
    const result = await runSimulation({
      request: { principal: 'arn:aws:iam::444455556666:user/mallory', action: 'sts:AssumeRole', resource: { resource: ROLE_ARN, accountId: ACCOUNT }, contextVariables: { 'sts:ExternalId': ORG_ID } },
      identityPolicies: [{ name: 'mallory', policy: ADOBE_SIDE }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: trust,
    }, { simulationMode: 'Strict' });
    expect(result.resultType === 'error' ? 'error' : result.overallResult).not.toBe('Allowed');
  });
});
