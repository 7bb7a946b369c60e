import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Template } from 'aws-cdk-lib/assertions';
import { ACCOUNT, ADOBE_ROLE_ARN, BUCKET_NAME, REGION, identityPolicies, newBucket, newSandbox, newStack, only, resolveCfn } from './util';
import { AepS3Source, S3SourceAuth } from '../../src';
import { Attributes, ResourceTypes } from '../../src/private/contract';

/**
 * Evaluates the SYNTHESIZED policies with an IAM policy simulator: what the template grants,
 * not what the construct meant to grant. Intrinsic functions are replaced with the values they
 * take after deployment (see `resolveCfn`).
 */

const FOLDER = 'exports/crm';
const BUCKET_ARN = `arn:aws:s3:::${BUCKET_NAME}`;
const OTHER_BUCKET_ARN = 'arn:aws:s3:::someone-elses-bucket';
const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/aep-source-reader`;
const OTHER_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-9999-9999-9999-999999999999`;
const S3_VIA = `s3.${REGION}.amazonaws.com`;

type Decision = 'Allowed' | 'Denied';
interface Probe {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
  readonly expected: Decision;
}

const obj = (key: string) => `${BUCKET_ARN}/${key}`;

/** Requests both principals make; `expected` is the user's answer, `role` the role's where it differs. */
function probes(keyArn: string): Array<Probe & { readonly role?: Decision }> {
  return [
    // Reads under the folder
    { action: 's3:GetObject', resource: obj(`${FOLDER}/file.csv`), expected: 'Allowed' },
    { action: 's3:GetObject', resource: obj(`${FOLDER}/2024/01/part-0001.parquet`), expected: 'Allowed' },
    { action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': `${FOLDER}/` }, expected: 'Allowed' },
    { action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': `${FOLDER}/2024/` }, expected: 'Allowed' },
    { action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': FOLDER }, expected: 'Allowed' },
    // Reads outside the folder
    { action: 's3:GetObject', resource: obj('exports/crmx/file.csv'), expected: 'Denied' },
    { action: 's3:GetObject', resource: obj('exports/file.csv'), expected: 'Denied' },
    { action: 's3:GetObject', resource: obj('secrets/db.json'), expected: 'Denied' },
    { action: 's3:GetObject', resource: obj(FOLDER), expected: 'Denied' },
    { action: 's3:GetObject', resource: `${OTHER_BUCKET_ARN}/${FOLDER}/file.csv`, expected: 'Denied' },
    { action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': 'exports/' }, expected: 'Denied' },
    { action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': '' }, expected: 'Denied' },
    { action: 's3:ListBucket', resource: BUCKET_ARN, expected: 'Denied' },
    { action: 's3:ListBucket', resource: OTHER_BUCKET_ARN, context: { 's3:prefix': `${FOLDER}/` }, expected: 'Denied' },
    // Writes and deletes, even inside the folder
    { action: 's3:PutObject', resource: obj(`${FOLDER}/file.csv`), expected: 'Denied' },
    { action: 's3:DeleteObject', resource: obj(`${FOLDER}/file.csv`), expected: 'Denied' },
    { action: 's3:DeleteObjectVersion', resource: obj(`${FOLDER}/file.csv`), expected: 'Denied' },
    { action: 's3:PutObjectAcl', resource: obj(`${FOLDER}/file.csv`), expected: 'Denied' },
    { action: 's3:PutObjectTagging', resource: obj(`${FOLDER}/file.csv`), expected: 'Denied' },
    { action: 's3:AbortMultipartUpload', resource: obj(`${FOLDER}/file.csv`), expected: 'Denied' },
    { action: 's3:RestoreObject', resource: obj(`${FOLDER}/file.csv`), expected: 'Denied' },
    // Bucket administration
    { action: 's3:DeleteBucket', resource: BUCKET_ARN, expected: 'Denied' },
    { action: 's3:PutBucketPolicy', resource: BUCKET_ARN, expected: 'Denied' },
    { action: 's3:GetBucketPolicy', resource: BUCKET_ARN, expected: 'Denied' },
    { action: 's3:PutLifecycleConfiguration', resource: BUCKET_ARN, expected: 'Denied' },
    { action: 's3:ListBucketVersions', resource: BUCKET_ARN, expected: 'Denied' },
    // Differences between the two grants
    { action: 's3:GetObjectAcl', resource: obj(`${FOLDER}/file.csv`), expected: 'Denied', role: 'Allowed' }, // Adobe's s3:Get*
    { action: 's3:GetObjectVersion', resource: obj(`${FOLDER}/file.csv`), expected: 'Denied', role: 'Allowed' },
    { action: 's3:GetBucketLocation', resource: BUCKET_ARN, expected: 'Allowed', role: 'Denied' },
    // The bucket key: decrypt only, only this key
    { action: 'kms:Decrypt', resource: keyArn, context: { 'kms:ViaService': S3_VIA }, expected: 'Allowed' },
    { action: 'kms:Encrypt', resource: keyArn, context: { 'kms:ViaService': S3_VIA }, expected: 'Denied' },
    { action: 'kms:GenerateDataKey', resource: keyArn, context: { 'kms:ViaService': S3_VIA }, expected: 'Denied' },
    { action: 'kms:ScheduleKeyDeletion', resource: keyArn, expected: 'Denied' },
    { action: 'kms:Decrypt', resource: OTHER_KEY_ARN, context: { 'kms:ViaService': S3_VIA }, expected: 'Denied' },
    // Decrypting outside S3 (kms:ViaService condition on both grants)
    { action: 'kms:Decrypt', resource: keyArn, expected: 'Denied' },
    { action: 'kms:Decrypt', resource: keyArn, context: { 'kms:ViaService': 'lambda.eu-west-1.amazonaws.com' }, expected: 'Denied' },
  ];
}

async function decide(request: {
  principal: string;
  action: string;
  resource: string;
  context?: Record<string, string>;
  identityPolicy: unknown;
  resourcePolicy?: unknown;
}): Promise<Decision> {
  const result = await runSimulation({
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: ACCOUNT },
      contextVariables: { 'aws:SecureTransport': 'true', ...request.context },
    },
    identityPolicies: [{ name: 'policy', policy: request.identityPolicy }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy,
  }, {});
  if (result.resultType === 'error') throw new Error(`simulation input rejected: ${JSON.stringify(result.errors)}`);
  return result.overallResult === 'Allowed' ? 'Allowed' : 'Denied';
}

/**
 * The resource policy AWS would evaluate: the bucket policy for our bucket, the key policy for
 * our key (KMS always evaluates it; its `Resource: "*"` means "this key"), nothing for others.
 */
function resourcePolicyFor(resource: string, keyArn: string, keyPolicyDoc: unknown, bucketPolicy: unknown): unknown {
  if (resource === keyArn) return keyPolicyDoc;
  return resource === BUCKET_ARN || resource.startsWith(`${BUCKET_ARN}/`) ? bucketPolicy : undefined;
}

/** Key policy of the bucket key, for KMS requests (KMS always evaluates the key policy). */
function keyPolicy(template: Template): unknown {
  return resolveCfn(only(template, 'AWS::KMS::Key')[1].Properties.KeyPolicy, template);
}

describe('IAM simulation of the synthesized access-key user policy', () => {
  const stack = newStack();
  new AepS3Source(stack, 'Source', {
    sandbox: newSandbox(stack),
    bucket: newBucket(stack, { kms: true }),
    folderPath: FOLDER,
  });
  const template = Template.fromStack(stack);
  const [userId] = only(template, 'AWS::IAM::User');
  const userPolicies = identityPolicies(template, userId);
  const identityPolicy = resolveCfn(userPolicies[0].document, template);
  const bucketPolicy = resolveCfn(only(template, 'AWS::S3::BucketPolicy')[1].Properties.PolicyDocument, template);
  const keyArn = resolveCfn({ 'Fn::GetAtt': [only(template, 'AWS::KMS::Key')[0], 'Arn'] }, template);
  const cases = probes(keyArn);

  test('the user has exactly one policy', () => {
    expect(userPolicies).toHaveLength(1);
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  test.each(cases.map((c) => [c.action, c.resource, JSON.stringify(c.context ?? {}), c.expected, c] as const))(
    'user: %s on %s %s → %s', async (_a, _r, _c, expected, c) => {
      await expect(decide({
        principal: USER_ARN,
        action: c.action,
        resource: c.resource,
        context: c.context,
        identityPolicy,
        resourcePolicy: resourcePolicyFor(c.resource, keyArn, keyPolicy(template), bucketPolicy),
      })).resolves.toBe(expected);
    });
});

describe('IAM simulation of the synthesized bucket policy for AEP\'s role', () => {
  const stack = newStack();
  new AepS3Source(stack, 'Source', {
    sandbox: newSandbox(stack),
    bucket: newBucket(stack, { kms: true }),
    folderPath: FOLDER,
    auth: S3SourceAuth.iamRole(), // looked up: the policy names the lookup's Fn::GetAtt
  });
  const template = Template.fromStack(stack);
  const [lookupId] = only(template, ResourceTypes.IAM_ROLE_LOOKUP);
  const extra = { [`${lookupId}.${Attributes.IAM_ROLE_ARN}`]: ADOBE_ROLE_ARN };
  const bucketPolicy = resolveCfn(only(template, 'AWS::S3::BucketPolicy')[1].Properties.PolicyDocument, template, extra);
  const resolvedKeyPolicy = resolveCfn(only(template, 'AWS::KMS::Key')[1].Properties.KeyPolicy, template, extra);
  const keyArn = resolveCfn({ 'Fn::GetAtt': [only(template, 'AWS::KMS::Key')[0], 'Arn'] }, template);
  // Adobe's side is out of our hands: assume its role's own policy allows everything, so the
  // decision is entirely the resource policy's (a cross-account request needs both).
  const adobeSide = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
  const cases = probes(keyArn);

  test.each(cases.map((c) => [c.action, c.resource, JSON.stringify(c.context ?? {}), c.role ?? c.expected, c] as const))(
    'AEP role: %s on %s %s → %s', async (_a, _r, _c, expected, c) => {
      await expect(decide({
        principal: ADOBE_ROLE_ARN,
        action: c.action,
        resource: c.resource,
        context: c.context,
        identityPolicy: adobeSide,
        resourcePolicy: resourcePolicyFor(c.resource, keyArn, resolvedKeyPolicy, bucketPolicy),
      })).resolves.toBe(expected);
    });

  test('another principal of Adobe\'s account gets nothing', async () => {
    await expect(decide({
      principal: 'arn:aws:iam::999988887777:role/some-other-role',
      action: 's3:GetObject',
      resource: obj(`${FOLDER}/file.csv`),
      identityPolicy: adobeSide,
      resourcePolicy: bucketPolicy,
    })).resolves.toBe('Denied');
  });

  test('the bucket policy still denies insecure transport to the role', async () => {
    const result = await runSimulation({
      request: {
        principal: ADOBE_ROLE_ARN,
        action: 's3:GetObject',
        resource: { resource: obj(`${FOLDER}/file.csv`), accountId: ACCOUNT },
        contextVariables: { 'aws:SecureTransport': 'false' },
      },
      identityPolicies: [{ name: 'adobe', policy: adobeSide }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: bucketPolicy,
    }, {});
    expect(result.resultType !== 'error' && result.overallResult).toBe('ExplicitlyDenied');
  });
});
