import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ACCOUNT, REGION, newSandbox, only } from '../destination/util';

export { ACCOUNT, REGION, newSandbox, only };

/** Name of the bucket the source tests read from. */
export const BUCKET_NAME = 'acme-aep-inbound';
/** The role Experience Platform on AWS would report (another account, like Adobe's). */
export const ADOBE_ROLE_ARN = 'arn:aws:iam::999988887777:role/aep-s3-source-reader';

/** A stack with a concrete environment (predictable ARNs, regions and partitions). */
export function newStack(app: App = new App(), id = 'Src'): Stack {
  return new Stack(app, id, { env: { account: ACCOUNT, region: REGION } });
}

/** A named bucket created in the stack, optionally SSE-KMS with a rotating key. */
export function newBucket(stack: Stack, options: { kms?: boolean; id?: string; name?: string } = {}): s3.Bucket {
  return new s3.Bucket(stack, options.id ?? 'Bucket', {
    bucketName: options.name ?? BUCKET_NAME,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    ...(options.kms
      ? { encryption: s3.BucketEncryption.KMS, encryptionKey: new kms.Key(stack, `${options.id ?? 'Bucket'}Key`, { enableKeyRotation: true }) }
      : {}),
  });
}

/** Every resource of a type, as `[logicalId, resource]`. */
export function all(template: Template, type: string): Array<[string, any]> {
  return Object.entries(template.findResources(type));
}

/**
 * Replaces the intrinsic functions the synthesized policies use with the concrete values they
 * would have after deployment, so a policy can be evaluated as AWS would see it.
 */
export function resolveCfn(value: unknown, template: Template, extra: { [logicalIdDotAttr: string]: string } = {}): any {
  const resources = template.toJSON().Resources as Record<string, any>;
  const attr = (logicalId: string, name: string): string => {
    const key = `${logicalId}.${name}`;
    if (key in extra) return extra[key];
    const res = resources[logicalId];
    if (!res) throw new Error(`unknown resource ${logicalId}`);
    if (res.Type === 'AWS::S3::Bucket' && name === 'Arn') return `arn:aws:s3:::${res.Properties.BucketName}`;
    if (res.Type === 'AWS::KMS::Key' && name === 'Arn') return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${logicalId.toLowerCase()}`;
    throw new Error(`no concrete value for ${key} (${res.Type})`);
  };
  const walk = (v: any): any => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === 'Ref') {
        const ref = v.Ref as string;
        if (ref === 'AWS::Partition') return 'aws';
        if (ref === 'AWS::AccountId') return ACCOUNT;
        if (ref === 'AWS::Region') return REGION;
        if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
        const res = resources[ref];
        if (res?.Type === 'AWS::S3::Bucket') return res.Properties.BucketName;
        return attr(ref, 'Ref');
      }
      if (keys.length === 1 && keys[0] === 'Fn::GetAtt') return attr(v['Fn::GetAtt'][0], v['Fn::GetAtt'][1]);
      if (keys.length === 1 && keys[0] === 'Fn::Join') return (v['Fn::Join'][1] as any[]).map(walk).join(v['Fn::Join'][0]);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value);
}

/**
 * Every identity policy of an IAM user or role: inline (`Policies`) on it, or an AWS::IAM::Policy
 * naming it. `carrierId` is the resource holding the policy (what a connection must depend on).
 */
export function identityPolicies(template: Template, principalId: string): Array<{ carrierId: string; document: any }> {
  const principal = template.toJSON().Resources[principalId];
  const inline = (principal.Properties.Policies ?? []).map((p: any) => ({ carrierId: principalId, document: p.PolicyDocument }));
  const attached = all(template, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify([p.Properties.Users, p.Properties.Roles]).includes(`"${principalId}"`))
    .map(([id, p]) => ({ carrierId: id, document: p.Properties.PolicyDocument }));
  return [...inline, ...attached];
}
