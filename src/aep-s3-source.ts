import { Annotations, CfnOutput, Duration, Names, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct, IDependable } from 'constructs';
import { AepConnection } from './aep-connection';
import { AepSandbox } from './aep-sandbox';
import { accessKeyAuthFields, ManagedAccessKey } from './private/access-key';
import { AepIds, Attributes } from './private/contract';
import { AepIamRoleLookup } from './private/iam-role-lookup';
import { isRetain } from './private/provider';
import { retainOnDelete } from './private/retain';
import { FolderScope, folderPolicy, folderScope, folderStatements, kmsViaS3, regionalS3Host, validateSourceFolderPath } from './private/s3-scope';
import { refreshAlarmWindow, SessionTokenRefresh } from './private/session-refresh';
import { invalid, isConcrete, literalBucketName, validateSourceBucketName } from './private/validation';
import { S3SourceAuth, S3SourceAuthMode } from './source-auth';

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

/** Properties of an {@link AepS3Source}. */
export interface AepS3SourceProps {
  /** The AEP sandbox (API credential, sandbox name, endpoints). */
  readonly sandbox: AepSandbox;

  /**
   * The bucket AEP reads from: created in this app or imported (e.g. `Bucket.fromBucketName`).
   * Its name must follow the S3 source's rules: 3–63 lowercase letters, digits and hyphens,
   * starting and ending with a letter or digit, not an IP address (no dots).
   */
  readonly bucket: s3.IBucket;

  /**
   * The KMS key of an SSE-KMS bucket, for imported buckets (which carry no key).
   *
   * @default - `bucket.encryptionKey` (set for buckets created with `BucketEncryption.KMS`)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Folder AEP reads from, without a leading `/` (e.g. `exports/crm`). AEP's permissions are
   * limited to keys under `<folderPath>/`.
   *
   * May be a token (e.g. a `CfnParameter`): CloudFormation then computes the same prefix, and the
   * rules are not checked at synth time. A token that resolves to `''` still scopes listing to
   * requests that name a prefix; use a literal `''` (or omit the property) for the whole bucket.
   *
   * @default - the whole bucket
   */
  readonly folderPath?: string;

  /**
   * How AEP authenticates to the bucket.
   *
   * @default S3SourceAuth.accessKey()
   */
  readonly auth?: S3SourceAuth;

  /**
   * The AEP connection name.
   *
   * @default - derived deterministically from the construct path
   */
  readonly connectionName?: string;

  /**
   * Prove at deploy time that AEP can read the folder: after creating the connection
   * the handler asks AEP to explore `<bucket>/<folderPath>` (one request on success), retrying
   * while IAM and bucket policies propagate. If AEP cannot read it the deployment fails with the
   * likely cause and the connection it made is removed. Not run on updates (a rollback's update
   * runs before CloudFormation restores the bucket policy).
   *
   * @default true
   */
  readonly verifyReachability?: boolean;

  /**
   * The AEP connection description.
   *
   * @default - 'Managed by AWS CDK (cdk-aep-s3): <construct path>'
   */
  readonly description?: string;

  /**
   * What happens when the source leaves the stack (or the stack is destroyed).
   * `RemovalPolicy.RETAIN` keeps the AEP connection and the IAM user, access key and secret it
   * uses, so existing dataflows keep working with a long-term key. The session-token refresh
   * schedule is always deleted (retained temporary credentials stop working when they expire),
   * and bucket-policy statements go with the bucket policy. Anything else deletes all of it.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Options of {@link AepS3Source.addRefreshFailureAlarm}. */
export interface RefreshFailureAlarmOptions {
  /**
   * Name of the alarm.
   *
   * @default - generated by CloudFormation
   */
  readonly alarmName?: string;

  /**
   * Description of the alarm.
   *
   * @default - says which connection failed to refresh and how long AEP keeps working
   */
  readonly alarmDescription?: string;

  /**
   * Period of the alarm's datapoints (a whole number of minutes). Shorter periods detect a
   * missed refresh sooner; the alarm window (refresh interval + margin) is rounded up to it.
   *
   * @default - 5 minutes, or 1 minute when needed to fire at least 5 minutes before expiry
   */
  readonly period?: Duration;
}

/**
 * An Adobe Experience Platform Amazon S3 source: read-only, folder-scoped access for AEP to
 * your bucket, and the AEP base connection that uses it.
 *
 * - `S3SourceAuth.accessKey()` (Experience Platform on Azure): an IAM user and access key, or,
 *   with `sessionToken`, STS temporary credentials refreshed on a schedule.
 * - `S3SourceAuth.iamRole()` (Experience Platform on AWS): a bucket policy for Adobe's role.
 *
 * Source connections and dataflows (file format, schedule, target dataset) are created in AEP.
 */
export class AepS3Source extends Construct {
  /** The AEP base connection id. */
  public readonly connectionId: string;
  /** The AEP base connection name. */
  public readonly connectionName: string;
  /** The base connection construct. */
  public readonly connection: AepConnection;
  /** How AEP authenticates. */
  public readonly authMode: S3SourceAuthMode;
  /** The key prefix AEP's permissions are limited to (`''` = the whole bucket; a token when `folderPath` is one). */
  public readonly folderPrefix: string;
  /** The IAM user AEP's key belongs to (access-key auth), for extra grants. */
  public readonly grantee?: iam.IGrantable;
  /** The IAM user (access-key auth). */
  public readonly user?: iam.IUser;
  /** The secret holding the IAM user's long-term key `{accessKeyId, secretAccessKey}` (access-key auth). */
  public readonly credentialsSecret?: secretsmanager.ISecret;
  /** ARN of Adobe's IAM role the bucket policy trusts (IAM-role auth; a token when looked up). */
  public readonly aepPrincipalArn?: string;
  /** The scheduled session-token refresh function (session-token auth). */
  public readonly refreshFunction?: lambda.IFunction;
  /** The schedule invoking {@link refreshFunction} (session-token auth). */
  public readonly refreshSchedule?: events.IRule;

  private readonly refresh?: SessionTokenRefresh;
  private readonly sessionTokenDuration?: Duration;
  private readonly refreshEvery?: Duration;

  constructor(scope: Construct, id: string, props: AepS3SourceProps) {
    super(scope, id);
    props.sandbox._checkReadableFrom(this);

    const auth = props.auth ?? S3SourceAuth.accessKey();
    const folderPath = props.folderPath ?? '';
    validateSourceBucketName('bucket', literalBucketName(props.bucket));
    validateSourceFolderPath('folderPath', folderPath);

    const scopeOfFolder = folderScope(folderPath);
    const key = props.encryptionKey ?? props.bucket.encryptionKey;
    this.authMode = auth.mode;
    this.folderPrefix = scopeOfFolder.prefix;

    const connectionProps = {
      sandbox: props.sandbox,
      connectionSpecId: AepIds.S3_SOURCE_CONNECTION_SPEC,
      connectionName: props.connectionName,
      description: props.description ?? `Managed by AWS CDK (cdk-aep-s3): ${this.node.path}`,
      removalPolicy: props.removalPolicy,
      ...(props.verifyReachability === false ? {} : { reachabilityBucket: props.bucket.bucketName, reachabilityFolder: this.folderPrefix }),
    };

    if (auth.mode === S3SourceAuthMode.IAM_ROLE) {
      const principalArn = auth.adobeRoleArn ?? this.lookUpAdobeRole(props);
      const dependables = this.grantAdobeRole(props.bucket, key, scopeOfFolder, principalArn, auth.adobeRoleArn === undefined);
      this.aepPrincipalArn = principalArn;
      this.connection = new AepConnection(this, 'Connection', {
        ...connectionProps,
        authSpecName: AUTH_SPEC.IAM_ROLE,
        // `bucketName` is the only param Adobe documents for this auth spec:
        // the folder is enforced by the bucket policy and chosen again in the dataflow.
        authParams: { bucketName: props.bucket.bucketName },
      });
      // AEP must not be pointed at the bucket before its role may read it.
      for (const d of dependables) this.connection.resource.node.addDependency(d);
    } else {
      const accessKey = new ManagedAccessKey(this, 'AccessKey', {
        serial: auth.serial,
        description: `Access key AEP uses to read s3://${literalBucketName(props.bucket) ?? '<bucket>'}/${this.folderPrefix} (cdk-aep-s3, ${this.node.path})`,
      });
      // A dedicated policy (not the user's default policy) gives the connection one resource
      // to depend on: AEP (and the key probe) may use the key as soon as it is registered.
      const policy = folderPolicy(this, 'ReadPolicy', {
        bucket: props.bucket,
        scope: scopeOfFolder,
        objectActions: USER_OBJECT_ACTIONS,
        bucketActions: USER_BUCKET_ACTIONS,
        key,
        keyActions: KEY_ACTIONS,
      }, { users: [accessKey.user] }, 'source');
      const secretFields = accessKeyAuthFields();
      this.connection = new AepConnection(this, 'Connection', {
        ...connectionProps,
        authSpecName: AUTH_SPEC.ACCESS_KEY,
        authParams: {
          bucketName: props.bucket.bucketName,
          ...(folderPath !== '' ? { folderPath } : {}),
          serviceUrl: auth.serviceUrl ?? `https://${regionalS3Host(props.bucket)}`,
        },
        authSecret: accessKey.secret,
        authSecretFields: secretFields,
        // The key id changes with the key, so a rotation is an update that re-registers it.
        changeToken: accessKey.accessKeyId,
        verifyAwsKey: true,
        sessionTokenDuration: auth.sessionTokenDuration,
      });
      this.connection.resource.node.addDependency(policy);
      if (isRetain(props.removalPolicy)) {
        retainOnDelete(accessKey);
        retainOnDelete(policy);
      }

      this.grantee = accessKey.user;
      this.user = accessKey.user;
      this.credentialsSecret = accessKey.secret;

      if (auth.sessionTokenDuration && auth.refreshEvery) {
        this.sessionTokenDuration = auth.sessionTokenDuration;
        this.refreshEvery = auth.refreshEvery;
        this.refresh = new SessionTokenRefresh(this, 'SessionTokenRefresh', {
          sandbox: props.sandbox,
          connectionId: this.connection.connectionId,
          connectionName: this.connection.connectionName,
          keySecret: accessKey.secret,
          keySecretFields: secretFields,
          duration: auth.sessionTokenDuration,
          refreshEvery: auth.refreshEvery,
        });
        this.refreshFunction = this.refresh.function;
        this.refreshSchedule = this.refresh.rule;
      }
    }

    this.connectionId = this.connection.connectionId;
    this.connectionName = this.connection.connectionName;
  }

  /**
   * The refresh outcome the function emits (Embedded Metric Format): 1 per successful refresh,
   * 0 per failed one. Statistic `Minimum` over 5 minutes by default, so any failure shows.
   * Only for `S3SourceAuth.accessKey({ sessionToken })`.
   */
  public metricRefreshSuccess(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.requireRefresh('metricRefreshSuccess').metricSuccess(props);
  }

  /**
   * Lambda `Errors` of the refresh function: also counts timeouts and crashes that happen
   * before the success metric is written. Only for `S3SourceAuth.accessKey({ sessionToken })`.
   */
  public metricRefreshErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.requireRefresh('metricRefreshErrors').metricErrors(props);
  }

  /**
   * Failed refresh attempts per period, combining {@link metricRefreshErrors} and
   * {@link metricRefreshSuccess} (`errors + 1 - success`, missing values filled), so a failure
   * counts whether or not the function got to write its metric.
   * Only for `S3SourceAuth.accessKey({ sessionToken })`.
   */
  public metricRefreshFailures(props?: cloudwatch.MathExpressionOptions): cloudwatch.IMetric {
    return this.requireRefresh('metricRefreshFailures').metricFailures(props);
  }

  /**
   * An alarm on the ABSENCE of a successful refresh: ALARM once no refresh has succeeded for
   * one refresh interval plus a margin (one scheduled run missed: failed, crashed, timed out
   * or never invoked, since missing data counts as breaching), staying in ALARM until a refresh
   * succeeds, and firing at least 5 minutes before the credentials AEP holds expire.
   * Page on it. Only for `S3SourceAuth.accessKey({ sessionToken })`.
   *
   * @param scope where to create the alarm
   * @param id construct id of the alarm
   */
  public addRefreshFailureAlarm(scope: Construct, id: string, options: RefreshFailureAlarmOptions = {}): cloudwatch.Alarm {
    const refresh = this.requireRefresh('addRefreshFailureAlarm');
    const window = refreshAlarmWindow(this.sessionTokenDuration!, this.refreshEvery!, options.period);
    const hours = this.sessionTokenDuration!.toHours({ integral: false });
    const alarm = new cloudwatch.Alarm(scope, id, {
      // Maximum: a period with any success (1) is healthy, even if another attempt failed (0).
      // No label: a labelled metric would be rendered as a metric-math `Metrics` list.
      metric: refresh.metricSuccess({ statistic: cloudwatch.Stats.MAXIMUM, period: window.period, label: undefined }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: window.evaluationPeriods,
      datapointsToAlarm: window.evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmName: options.alarmName,
      alarmDescription: options.alarmDescription
        ?? `cdk-aep-s3: no successful refresh of the temporary S3 credentials of AEP connection ${this.connectionName} `
        + `for ${window.period.toMinutes() * window.evaluationPeriods} minutes. AEP keeps the last credentials until they expire `
        + `(${hours} hours after the last success); see the refresh function's log group.`,
    });
    // The connection's deploy-time registration counts as the first success: create the alarm after it.
    if (Stack.of(scope) === Stack.of(this)) alarm.node.addDependency(this.connection.resource);
    return alarm;
  }

  private requireRefresh(method: string): SessionTokenRefresh {
    if (!this.refresh) {
      throw new Error(`${method}() needs S3SourceAuth.accessKey({ sessionToken: {...} }): ${this.node.path} registers no temporary credentials, so nothing is refreshed`);
    }
    return this.refresh;
  }

  /** Adobe's role from AEP's configs, read at deploy time. */
  private lookUpAdobeRole(props: AepS3SourceProps): string {
    // An owned bucket in another stack would take a reference to this stack's lookup in its
    // bucket policy while this stack references the bucket: a cycle CDK reports obscurely.
    if (Resource.isOwnedResource(props.bucket) && Stack.of(props.bucket) !== Stack.of(this)) {
      invalid('auth', 'S3SourceAuth.iamRole()',
        `looks Adobe's role up in stack ${Stack.of(this).stackName}, but bucket ${props.bucket.node.path} belongs to stack ${Stack.of(props.bucket).stackName}, whose bucket policy cannot reference it; pass adobeRoleArn or define the source in the bucket's stack`);
    }
    return new AepIamRoleLookup(this, 'AdobeRole', { sandbox: props.sandbox }).roleArn;
  }

  /**
   * Bucket-policy (and key-policy) statements for Adobe's role. Returns what the connection
   * must wait for; warns with the exact statements when the policy belongs to someone else.
   */
  private grantAdobeRole(bucket: s3.IBucket, key: kms.IKey | undefined, scope: FolderScope, principalArn: string, lookedUp: boolean): IDependable[] {
    const principal = new iam.ArnPrincipal(principalArn);
    // Bucket policies reject duplicate Sids: suffix them so several sources can share a bucket.
    const suffix = Names.uniqueId(this).slice(-8);
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
      Annotations.of(this).addWarningV2(WARNINGS.KMS_CROSS_ACCOUNT,
        'The bucket is encrypted with a KMS key. Reading SSE-KMS objects across accounts also needs kms:Decrypt in the IAM '
        + 'policy of Adobe\'s role, which Adobe does not document. Prefer SSE-S3 for buckets read by Experience Platform on AWS, '
        + 'or confirm with Adobe that its role may use your key.');
    }

    if (bucketPolicyAttached && keyPolicyAttached) return dependables;
    // Someone else owns a policy: tell them exactly what to add, with the role they must name.
    const roleLabel = lookedUp ? this.roleArnOutput(principalArn) : principalArn;
    if (!bucketPolicyAttached) {
      Annotations.of(this).addWarningV2(WARNINGS.BUCKET_POLICY_NOT_ATTACHED,
        `The policy of bucket ${orPlaceholder(bucket.bucketName)} cannot be changed from this stack (it is imported), so AEP cannot read `
        + `s3://${orPlaceholder(bucket.bucketName)}/${isConcrete(scope.prefix) ? scope.prefix : '<folder>/'} until you add these statements to that bucket's policy `
        + `(principal: ${roleLabel}): ${this.renderStatements(bucketStatements, roleLabel)}`);
    }
    if (keyStatement && !keyPolicyAttached) {
      Annotations.of(this).addWarningV2(WARNINGS.KEY_POLICY_NOT_ATTACHED,
        `The policy of KMS key ${orPlaceholder(key!.keyArn)} cannot be changed from this stack (it is imported). `
        + `Add this statement to the key policy (principal: ${roleLabel}): ${this.renderStatements([keyStatement], roleLabel)}`);
    }
    return dependables;
  }

  /**
   * A looked-up role ARN is only known after deployment: publish it as a stack output and
   * name that output wherever the user must paste the ARN.
   */
  private roleArnOutput(principalArn: string): string {
    const output = new CfnOutput(this, 'AdobeRoleArn', {
      value: principalArn,
      description: `IAM role Experience Platform on AWS reads the S3 source ${this.node.path} with`,
    });
    return `the value of output ${Stack.of(this).resolve(output.logicalId)} of stack ${Stack.of(this).stackName}`;
  }

  /** The statements as policy JSON a person can paste, with placeholders for deploy-time values. */
  private renderStatements(statements: iam.PolicyStatement[], roleLabel: string): string {
    const stack = Stack.of(this);
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
}


/** A value for a message: itself when known at synth time, a placeholder otherwise. */
function orPlaceholder(value: string): string {
  return isConcrete(value) ? value : '<resolved at deploy time>';
}

