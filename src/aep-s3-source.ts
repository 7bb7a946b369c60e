import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { AepConnection } from './aep-connection';
import { AepSandbox } from './aep-sandbox';
import { AepIds } from './private/contract';
import { managedDescription, refuseRetainedFlowOnDeletedConnection } from './private/dataflow-parts';
import { constructing, ValidationError } from './private/errors';
import { AccessKeyWatch } from './private/key-watch';
import { folderScope, validateSourceDataflowPath, validateSourceFolderPath } from './private/s3-scope';
import { refreshAlarmWindow, SessionTokenRefresh } from './private/session-refresh';
import { bindAccessKeySource, bindIamRoleSource, SourceAuthBinding, SourceAuthBindOptions } from './private/source-auth-binding';
import { literalBucketName, validateSourceBucketName } from './private/validation';
import { S3SourceAuth, S3SourceAuthMode } from './source-auth';
import { SourceDataflow, SourceDataflowOptions } from './source-dataflow';

/** The per-mode wiring (credential, grants, auth params): see private/source-auth-binding. */
const BIND: Record<S3SourceAuthMode, (source: Construct, auth: S3SourceAuth, options: SourceAuthBindOptions) => SourceAuthBinding> = {
  [S3SourceAuthMode.ACCESS_KEY]: bindAccessKeySource,
  [S3SourceAuthMode.IAM_ROLE]: bindIamRoleSource,
};

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
   * Change in AEP: patched in place; dataflows: untouched.
   *
   * @default - the whole bucket
   */
  readonly folderPath?: string;

  /**
   * How AEP authenticates to the bucket.
   * Change in AEP: replaces the AEP object; dataflows: its dataflows are re-created on the new connection (new flow ids; the run history stays with the old ones).
   *
   * @default S3SourceAuth.accessKey()
   */
  readonly auth?: S3SourceAuth;

  /**
   * The AEP connection name.
   * Change in AEP: patched in place; dataflows: untouched.
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
   * Change in AEP: patched in place; dataflows: untouched.
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
   * Change in AEP: none; dataflows: untouched.
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
  /** Alarm before the library-made key passes `keyLifecycle.maxKeyAge` (only with it). */
  public readonly keyAgeAlarm?: cloudwatch.IAlarm;
  /** Alarm on a failed scheduled key rotation (only with `keyLifecycle.rotateEvery`). */
  public readonly keyRotationAlarm?: cloudwatch.IAlarm;

  private readonly sandbox: AepSandbox;
  /** The bucket name when known at synth time, and the folder path: what dataflow paths must stay in. */
  private readonly grantedBucketName?: string;
  private readonly grantedFolderPath: string;
  private readonly refresh?: SessionTokenRefresh;
  private readonly sessionTokenDuration?: Duration;
  private readonly refreshEvery?: Duration;
  private readonly removalPolicy?: RemovalPolicy;

  constructor(scope: Construct, id: string, props: AepS3SourceProps) {
    super(scope, id);
    constructing(this);
    props.sandbox._checkReadableFrom(this);
    this.sandbox = props.sandbox;

    const auth = props.auth ?? S3SourceAuth.accessKey();
    const folderPath = props.folderPath ?? '';
    validateSourceBucketName('bucket', literalBucketName(props.bucket));
    validateSourceFolderPath('folderPath', folderPath);

    const scopeOfFolder = folderScope(folderPath);
    this.grantedBucketName = literalBucketName(props.bucket);
    this.grantedFolderPath = folderPath;
    this.removalPolicy = props.removalPolicy;
    this.authMode = auth.mode;
    this.folderPrefix = scopeOfFolder.prefix;

    // The AWS side of AEP's access (a user and key, or Adobe's role in the bucket policy).
    const binding = BIND[auth.mode](this, auth, {
      sandbox: props.sandbox,
      bucket: props.bucket,
      key: props.encryptionKey ?? props.bucket.encryptionKey,
      folderPath,
      folderScope: scopeOfFolder,
      removalPolicy: props.removalPolicy,
    });
    this.aepPrincipalArn = binding.aepPrincipalArn;
    this.grantee = binding.grantee;
    this.user = binding.user;
    this.credentialsSecret = binding.credentialsSecret;

    // The AEP base connection, registered once AEP's access exists.
    this.connection = new AepConnection(this, 'Connection', {
      sandbox: props.sandbox,
      connectionSpecId: AepIds.S3_SOURCE_CONNECTION_SPEC,
      connectionName: props.connectionName,
      description: props.description ?? managedDescription(this),
      removalPolicy: props.removalPolicy,
      authSpecName: binding.authSpecName,
      authParams: binding.authParams,
      authSecret: binding.authSecret,
      authSecretFields: binding.authSecretFields,
      changeToken: binding.changeToken,
      verifyAwsKey: binding.verifyAwsKey,
      sessionTokenDuration: binding.sessionTokenDuration,
      ...(props.verifyReachability === false ? {} : { reachabilityBucket: props.bucket.bucketName, reachabilityFolder: this.folderPrefix }),
    });
    for (const d of binding.dependables) this.connection.resource.node.addDependency(d);
    this.connectionId = this.connection.connectionId;
    this.connectionName = this.connection.connectionName;

    // Session credentials expire: a schedule pushes fresh ones before they do.
    const session = binding.sessionToken;
    if (session) {
      this.sessionTokenDuration = session.duration;
      this.refreshEvery = session.refreshEvery;
      this.refresh = new SessionTokenRefresh(this, 'SessionTokenRefresh', {
        sandbox: props.sandbox,
        connectionId: this.connection.connectionId,
        connectionName: this.connection.connectionName,
        ...session,
      });
      this.refreshFunction = this.refresh.function;
      this.refreshSchedule = this.refresh.rule;
    }

    // Day two: the key's age and its scheduled rotation (S3SourceAuth.accessKey({ keyLifecycle })).
    if (binding.keyWatch) {
      const watch = new AccessKeyWatch(this, 'KeyWatch', {
        ...binding.keyWatch,
        sandbox: props.sandbox,
        connectionId: this.connectionId,
        connectionName: this.connectionName,
        connectionSpecId: AepIds.S3_SOURCE_CONNECTION_SPEC,
        sessionTokenDuration: session?.duration,
        after: this.connection.resource,
      });
      this.keyAgeAlarm = watch.ageAlarm;
      this.keyRotationAlarm = watch.rotationAlarm;
    }
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

  /**
   * Adds an ingestion dataflow from this source's bucket into a dataset (several per source are
   * fine). Its `path` must lie in this source's bucket and folder (checked at synth when known).
   * CloudFormation deletes it before this source's connection.
   */
  public addDataflow(id: string, options: SourceDataflowOptions): SourceDataflow {
    validateSourceDataflowPath('path', options.path, this.grantedBucketName, this.grantedFolderPath);
    refuseRetainedFlowOnDeletedConnection(this, this.removalPolicy, id, options.removalPolicy);
    return new SourceDataflow(this, id, { ...options, sandbox: this.sandbox, connection: this.connection });
  }

  private requireRefresh(method: string): SessionTokenRefresh {
    if (!this.refresh) {
      throw new ValidationError(`${method}() needs S3SourceAuth.accessKey({ sessionToken: {...} }): this source registers no temporary credentials, so nothing is refreshed`, this);
    }
    return this.refresh;
  }
}
