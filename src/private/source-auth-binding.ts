import { Annotations, CfnOutput, Duration, Names, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct, IDependable } from 'constructs';
import { accessKeyAuthFields, ManagedAccessKey } from './access-key';
import { Attributes } from './contract';
import { AepIamRoleLookup } from './iam-role-lookup';
import { type KeyWatchBinding, resolveKeyLifecycle } from './key-watch';
import { isRetain } from './provider';
import { retainOnDelete } from './retain';
import { FolderScope, folderStatements, inlineFolderPolicy, kmsViaS3, regionalS3Host } from './s3-scope';
import { invalid, isConcrete, literalBucketName } from './validation';
import type { AepSandbox } from '../aep-sandbox';
import type { S3SourceAuth } from '../source-auth';

/** AEP auth spec names of the S3 source connection spec (`ecadc60c…`). */
const AUTH_SPEC = {
  ACCESS_KEY: 'Access Key',
  IAM_ROLE: 'IAMRole Based',
} as const;

/** What the IAM user may do: read objects in the folder, list it, find the bucket's region. */
const USER_OBJECT_ACTIONS = ['s3:GetObject'];
const USER_BUCKET_ACTIONS = ['s3:GetBucketLocation'];
/** Reading SSE-KMS objects needs Decrypt only (Adobe documents no KMS permissions). */
const KEY_ACTIONS = ['kms:Decrypt'];
/** What Adobe's bucket-policy sample for Experience Platform on AWS grants AEP's role on objects. */
const ROLE_OBJECT_ACTIONS = ['s3:Get*'];

/** Warning ids (acknowledgeable with `Annotations.of(scope).acknowledgeWarning`). */
const WARNINGS = {
  BUCKET_POLICY_NOT_ATTACHED: 'cdk-aep-s3:source-bucket-policy-not-attached',
  KEY_POLICY_NOT_ATTACHED: 'cdk-aep-s3:source-key-policy-not-attached',
  KMS_CROSS_ACCOUNT: 'cdk-aep-s3:source-kms-cross-account',
} as const;

/** What a source hands its auth mode when binding it. */
export interface SourceAuthBindOptions {
  readonly sandbox: AepSandbox;
  readonly bucket: s3.IBucket;
  /** The bucket's SSE-KMS key, if any. */
  readonly key?: kms.IKey;
  readonly folderPath: string;
  readonly folderScope: FolderScope;
  readonly removalPolicy?: RemovalPolicy;
}

/** Temporary credentials the source keeps fresh with a scheduled refresh. */
export interface SourceSessionToken {
  readonly keySecret: secretsmanager.ISecret;
  readonly keySecretFields: { [param: string]: string };
  readonly duration: Duration;
  readonly refreshEvery: Duration;
}

/** What the source needs back to register the base connection. */
export interface SourceAuthBinding {
  readonly authSpecName: string;
  readonly authParams: { [param: string]: string };
  readonly authSecret?: secretsmanager.ISecret;
  readonly authSecretFields?: { [param: string]: string };
  readonly changeToken?: string;
  readonly verifyAwsKey?: boolean;
  readonly sessionTokenDuration?: Duration;
  /** Must exist before AEP is pointed at the bucket (AEP may read it right away). */
  readonly dependables: IDependable[];
  readonly grantee?: iam.IGrantable;
  readonly user?: iam.IUser;
  readonly credentialsSecret?: secretsmanager.ISecret;
  /** ARN of Adobe's role the bucket policy trusts (IAM-role auth). */
  readonly aepPrincipalArn?: string;
  /** Set when AEP gets session credentials that must be refreshed. */
  readonly sessionToken?: SourceSessionToken;
  /** Set when the user asked for the key's age alarm or rotation. */
  readonly keyWatch?: KeyWatchBinding;
}

/**
 * `S3SourceAuth.accessKey()`: an IAM user with a folder-scoped read policy and one access key in
 * a secret, registered as is or (with `sessionToken`) as STS session credentials.
 */
export function bindAccessKeySource(source: Construct, auth: S3SourceAuth, options: SourceAuthBindOptions): SourceAuthBinding {
  const accessKey = new ManagedAccessKey(source, 'AccessKey', {
    serial: auth.serial,
    description: `Access key AEP uses to read s3://${literalBucketName(options.bucket) ?? '<bucket>'}/${options.folderScope.prefix} (cdk-aep-s3, ${source.node.path})`,
    cleanupKeys: auth.keyLifecycle !== undefined,
  });
  // Inline on the user (not its default policy): the connection depends on the user, so AEP
  // (and the key probe) never gets the key before its read permissions exist.
  inlineFolderPolicy(accessKey.user, {
    bucket: options.bucket,
    scope: options.folderScope,
    objectActions: USER_OBJECT_ACTIONS,
    bucketActions: USER_BUCKET_ACTIONS,
    key: options.key,
    keyActions: KEY_ACTIONS,
  }, 'source');
  if (isRetain(options.removalPolicy)) retainOnDelete(accessKey);
  const secretFields = accessKeyAuthFields();
  return {
    authSpecName: AUTH_SPEC.ACCESS_KEY,
    authParams: {
      bucketName: options.bucket.bucketName,
      ...(options.folderPath !== '' ? { folderPath: options.folderPath } : {}),
      serviceUrl: auth.serviceUrl ?? `https://${regionalS3Host(options.bucket)}`,
    },
    authSecret: accessKey.secret,
    authSecretFields: secretFields,
    // The key id changes with the key, so a rotation is an update that re-registers it.
    changeToken: accessKey.accessKeyId,
    verifyAwsKey: true,
    sessionTokenDuration: auth.sessionTokenDuration,
    dependables: [accessKey.user],
    grantee: accessKey.user,
    user: accessKey.user,
    credentialsSecret: accessKey.secret,
    sessionToken: auth.sessionTokenDuration && auth.refreshEvery
      ? { keySecret: accessKey.secret, keySecretFields: secretFields, duration: auth.sessionTokenDuration, refreshEvery: auth.refreshEvery }
      : undefined,
    keyWatch: auth.keyLifecycle && {
      lifecycle: resolveKeyLifecycle('auth.keyLifecycle', auth.keyLifecycle)!,
      user: accessKey.user,
      keySecret: accessKey.secret,
      keySecretFields: secretFields,
    },
  };
}

/**
 * `S3SourceAuth.iamRole()`: bucket-policy (and key-policy) statements for Adobe's role, given or
 * looked up in AEP at deploy time. Warns with the exact statements when those policies belong
 * to someone else.
 */
export function bindIamRoleSource(source: Construct, auth: S3SourceAuth, options: SourceAuthBindOptions): SourceAuthBinding {
  const principalArn = auth.adobeRoleArn ?? lookUpAdobeRole(source, options);
  const dependables = grantAdobeRole(source, options.bucket, options.key, options.folderScope, principalArn, auth.adobeRoleArn === undefined);
  return {
    authSpecName: AUTH_SPEC.IAM_ROLE,
    // `bucketName` is the only param Adobe documents for this auth spec:
    // the folder is enforced by the bucket policy and chosen again in the dataflow.
    authParams: { bucketName: options.bucket.bucketName },
    // AEP must not be pointed at the bucket before its role may read it.
    dependables,
    aepPrincipalArn: principalArn,
  };
}

/** Adobe's role from AEP's configs, read at deploy time. */
function lookUpAdobeRole(source: Construct, options: SourceAuthBindOptions): string {
  // An owned bucket in another stack would take a reference to this stack's lookup in its
  // bucket policy while this stack references the bucket: a cycle CDK reports obscurely.
  if (Resource.isOwnedResource(options.bucket) && Stack.of(options.bucket) !== Stack.of(source)) {
    invalid('auth', 'S3SourceAuth.iamRole()',
      `looks Adobe's role up in stack ${Stack.of(source).stackName}, but bucket ${options.bucket.node.path} belongs to stack ${Stack.of(options.bucket).stackName}, whose bucket policy cannot reference it; pass adobeRoleArn or define the source in the bucket's stack`);
  }
  return new AepIamRoleLookup(source, 'AdobeRole', { sandbox: options.sandbox }).roleArn;
}

/**
 * Bucket-policy (and key-policy) statements for Adobe's role. Returns what the connection
 * must wait for; warns with the exact statements when the policy belongs to someone else.
 */
function grantAdobeRole(
  source: Construct, bucket: s3.IBucket, key: kms.IKey | undefined, scope: FolderScope, principalArn: string, lookedUp: boolean,
): IDependable[] {
  const principal = new iam.ArnPrincipal(principalArn);
  // Bucket policies reject duplicate Sids: suffix them so several sources can share a bucket.
  const suffix = Names.uniqueId(source).slice(-8);
  const bucketStatements = folderStatements({
    bucket,
    scope,
    objectActions: ROLE_OBJECT_ACTIONS,
    bucketActions: [],
    keyActions: [],
  }, [principal]).map((s) => s.copy({ sid: `${s.sid}${suffix}` }));

  const dependables: IDependable[] = [];
  const added = bucketStatements.map((s) => bucket.addToResourcePolicy(s));
  const bucketPolicyAttached = added.every((r) => r.statementAdded);
  for (const r of added) if (r.policyDependable) dependables.push(r.policyDependable);

  let keyStatement: iam.PolicyStatement | undefined;
  let keyPolicyAttached = true;
  if (key) {
    keyStatement = new iam.PolicyStatement({
      sid: `AepDecrypt${suffix}`,
      principals: [principal],
      actions: KEY_ACTIONS,
      resources: ['*'],
    });
    keyStatement = kmsViaS3(keyStatement, bucket);
    const result = key.addToResourcePolicy(keyStatement);
    keyPolicyAttached = result.statementAdded;
    // The key policy is part of the key resource (`policyDependable` is a PolicyDocument).
    if (keyPolicyAttached) dependables.push(key);
    Annotations.of(source).addWarningV2(WARNINGS.KMS_CROSS_ACCOUNT,
      'The bucket is encrypted with a KMS key. Reading SSE-KMS objects across accounts also needs kms:Decrypt in the IAM '
      + 'policy of Adobe\'s role, which Adobe does not document. Prefer SSE-S3 for buckets read by Experience Platform on AWS, '
      + 'or confirm with Adobe that its role may use your key.');
  }

  if (bucketPolicyAttached && keyPolicyAttached) return dependables;
  // Someone else owns a policy: tell them exactly what to add, with the role they must name.
  const roleLabel = lookedUp ? roleArnOutput(source, principalArn) : principalArn;
  if (!bucketPolicyAttached) {
    Annotations.of(source).addWarningV2(WARNINGS.BUCKET_POLICY_NOT_ATTACHED,
      `The policy of bucket ${orPlaceholder(bucket.bucketName)} cannot be changed from this stack (it is imported), so AEP cannot read `
      + `s3://${orPlaceholder(bucket.bucketName)}/${isConcrete(scope.prefix) ? scope.prefix : '<folder>/'} until you add these statements to that bucket's policy `
      + `(principal: ${roleLabel}): ${renderStatements(source, bucketStatements, roleLabel)}`);
  }
  if (keyStatement && !keyPolicyAttached) {
    Annotations.of(source).addWarningV2(WARNINGS.KEY_POLICY_NOT_ATTACHED,
      `The policy of KMS key ${orPlaceholder(key!.keyArn)} cannot be changed from this stack (it is imported). `
      + `Add this statement to the key policy (principal: ${roleLabel}): ${renderStatements(source, [keyStatement], roleLabel)}`);
  }
  return dependables;
}

/**
 * A looked-up role ARN is only known after deployment: publish it as a stack output and
 * name that output wherever the user must paste the ARN.
 */
function roleArnOutput(source: Construct, principalArn: string): string {
  const output = new CfnOutput(source, 'AdobeRoleArn', {
    value: principalArn,
    description: `IAM role Experience Platform on AWS reads the S3 source ${source.node.path} with`,
  });
  return `the value of output ${Stack.of(source).resolve(output.logicalId)} of stack ${Stack.of(source).stackName}`;
}

/** The statements as policy JSON a person can paste, with placeholders for deploy-time values. */
function renderStatements(source: Construct, statements: iam.PolicyStatement[], roleLabel: string): string {
  const stack = Stack.of(source);
  const region = stack.region;
  const partition = Token.isUnresolved(region) ? 'aws' : (RegionInfo.get(region).partition ?? 'aws');
  const render = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(render);
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 1) {
        const [fn, arg] = entries[0];
        if (fn === 'Ref') return arg === 'AWS::Partition' ? partition : `<${String(arg)}>`;
        if (fn === 'Fn::Join') {
          const [sep, parts] = arg as [string, unknown[]];
          return parts.map((p) => String(render(p))).join(sep);
        }
        if (fn === 'Fn::GetAtt') {
          const [logicalId, attr] = arg as [string, string];
          return attr === Attributes.IAM_ROLE_ARN ? `<${roleLabel}>` : `<${logicalId}.${attr}>`;
        }
        if (fn.startsWith('Fn::')) return `<${fn}>`;
      }
      return Object.fromEntries(entries.map(([k, x]) => [k, render(x)]));
    }
    return v;
  };
  return JSON.stringify(statements.map((s) => render(stack.resolve(s.toStatementJson()))));
}

/** A value for a message: itself when known at synth time, a placeholder otherwise. */
function orPlaceholder(value: string): string {
  return isConcrete(value) ? value : '<resolved at deploy time>';
}
