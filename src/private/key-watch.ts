import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IDependable } from 'constructs';
import { encodeAllowedEndpoints, HandlerEnvironment, KeyWatchKeys, KeyWatchMetric } from './contract';
import { lambdaIdentity } from './lambda-identity';
import { HANDLER_TIMEOUT } from './provider';
import { sandboxProperties } from './sandbox-properties';
import { scheduledHandlerFunction } from './scheduled-function';
import { secretReadPolicy } from './secret-grant';
import { invalid } from './validation';
import type { AccessKeyLifecycleOptions } from '../access-key-lifecycle';
import type { AepSandbox } from '../aep-sandbox';

const KEY_WATCH_HANDLER = 'index.keyWatchHandler';

/**
 * Twice a day: the age metric has a datapoint in every 1-day alarm period whatever EventBridge's
 * phase, and a rotation is at most 12 hours late. Each run is one ListAccessKeys (plus, when a
 * rotation is due, a handful of AEP and IAM calls).
 */
const CHECK_EVERY = Duration.hours(12);
const ALARM_PERIOD = Duration.days(1);
const DEFAULT_WARN_DAYS = 14;

/** {@link AccessKeyLifecycleOptions} checked and in whole days. */
export interface KeyLifecycle {
  readonly maxAgeDays?: number;
  readonly warnDays?: number;
  readonly rotateDays?: number;
  readonly alarmTopic?: sns.ITopic;
}

function wholeDays(property: string, duration: Duration | undefined, min: number): number | undefined {
  if (duration === undefined) return undefined;
  const days = duration.toDays({ integral: false });
  if (Token.isUnresolved(days)) invalid(property, '<deploy-time value>', 'must be a literal duration: the schedule and alarm are derived from it at synth time');
  if (!Number.isInteger(days) || days < min) invalid(property, `${duration.toHumanString()}`, `must be a whole number of days, at least ${min} (e.g. Duration.days(90))`);
  return days;
}

/** Validates the options (synth-time errors name the property); undefined when nothing is asked. */
export function resolveKeyLifecycle(property: string, options: AccessKeyLifecycleOptions | undefined): KeyLifecycle | undefined {
  if (!options) return undefined;
  const maxAgeDays = wholeDays(`${property}.maxKeyAge`, options.maxKeyAge, 2);
  const rotateDays = wholeDays(`${property}.rotateEvery`, options.rotateEvery, 1);
  let warnDays = wholeDays(`${property}.warnBefore`, options.warnBefore, 1);
  if (warnDays !== undefined && maxAgeDays === undefined) {
    invalid(`${property}.warnBefore`, options.warnBefore!.toHumanString(), 'only applies with maxKeyAge: set maxKeyAge too, or remove warnBefore');
  }
  if (maxAgeDays !== undefined) {
    warnDays ??= Math.min(DEFAULT_WARN_DAYS, Math.floor(maxAgeDays / 2));
    if (warnDays >= maxAgeDays) {
      invalid(`${property}.warnBefore`, `${warnDays} days`, `must be shorter than maxKeyAge (${maxAgeDays} days), or the alarm fires on a brand-new key`);
    }
    if (rotateDays !== undefined && rotateDays > maxAgeDays - warnDays - 1) {
      invalid(`${property}.rotateEvery`, `${rotateDays} days`, `must be at most maxKeyAge - warnBefore - 1 day (${maxAgeDays - warnDays - 1} days): a key is rotated `
        + 'up to 12 hours after it is due, and the age alarm must stay quiet while rotation works; rotate sooner or raise maxKeyAge');
    }
  }
  if (maxAgeDays === undefined && rotateDays === undefined) {
    invalid(property, 'no maxKeyAge and no rotateEvery', 'asks for nothing: set maxKeyAge (age alarm), rotateEvery (scheduled rotation) or both');
  }
  return { maxAgeDays, warnDays, rotateDays, alarmTopic: options.alarmTopic };
}

/** What an access-key auth hands back when the user asked for a key watch. */
export interface KeyWatchBinding {
  readonly lifecycle: KeyLifecycle;
  readonly user: iam.IUser;
  readonly keySecret: secretsmanager.ISecret;
  readonly keySecretFields: { [param: string]: string };
}

/** Properties of {@link AccessKeyWatch}. */
export interface AccessKeyWatchProps {
  readonly sandbox: AepSandbox;
  readonly lifecycle: KeyLifecycle;
  /** The library-made user whose keys are watched (and rotated). */
  readonly user: iam.IUser;
  /** The library's secret holding the key. */
  readonly keySecret: secretsmanager.ISecret;
  readonly keySecretFields: { [param: string]: string };
  readonly connectionId: string;
  readonly connectionName: string;
  readonly connectionSpecId: string;
  /** When AEP holds session credentials made from the key. */
  readonly sessionTokenDuration?: Duration;
  /** Runs only once this exists (the connection). */
  readonly after: IDependable;
}

/**
 * The key watch: a scheduled function (handler bundle, `keyWatchHandler`) with a role that may
 * list, and with rotation create and delete, the keys of this one user, read the AEP credential
 * and the key secret and write the key secret; its alarms. Its whole target is pinned in its
 * environment, so an event cannot point it at another user, secret or connection.
 */
export class AccessKeyWatch extends Construct {
  public readonly function: lambda.Function;
  public readonly rule: events.Rule;
  public readonly ageAlarm?: cloudwatch.Alarm;
  public readonly rotationAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AccessKeyWatchProps) {
    super(scope, id);
    const rotates = props.lifecycle.rotateDays !== undefined;
    const { role, logGroup } = lambdaIdentity(this, { role: 'Role', logGroup: 'Logs' }, 'cdk-aep-s3 access-key watch');
    // This user only: its name is generated by CloudFormation, its ARN known after the user exists.
    role.addToPolicy(new iam.PolicyStatement({
      actions: rotates ? ['iam:ListAccessKeys', 'iam:CreateAccessKey', 'iam:DeleteAccessKey'] : ['iam:ListAccessKeys'],
      resources: [props.user.userArn],
    }));
    const dependables: IDependable[] = [];
    if (rotates) {
      dependables.push(secretReadPolicy(this, role, [props.sandbox.credentials, props.keySecret]));
      // Writes only the library's own key secret (never the user's or the AEP credential).
      const write = new iam.Policy(this, 'SecretWrite', {
        roles: [role],
        statements: [new iam.PolicyStatement({ actions: ['secretsmanager:PutSecretValue'], resources: [props.keySecret.secretArn] })],
      });
      if (props.keySecret.encryptionKey) {
        write.addStatements(new iam.PolicyStatement({ actions: ['kms:Encrypt', 'kms:GenerateDataKey'], resources: [props.keySecret.encryptionKey.keyArn] }));
      }
      dependables.push(write);
    }

    const target: Record<string, unknown> = {
      ...(rotates ? sandboxProperties(props.sandbox) : {}),
      [KeyWatchKeys.USER_NAME]: props.user.userName,
      [KeyWatchKeys.NAME]: props.connectionName,
      ...(rotates ? {
        [KeyWatchKeys.CONNECTION_ID]: props.connectionId,
        [KeyWatchKeys.CONNECTION_SPEC_ID]: props.connectionSpecId,
        [KeyWatchKeys.AUTH_SECRET_ARN]: props.keySecret.secretArn,
        [KeyWatchKeys.AUTH_SECRET_FIELDS]: props.keySecretFields,
        [KeyWatchKeys.ROTATE_AFTER_SECONDS]: String(props.lifecycle.rotateDays! * 86_400),
        ...(props.sessionTokenDuration ? { [KeyWatchKeys.SESSION_TOKEN_DURATION]: String(props.sessionTokenDuration.toSeconds()) } : {}),
      } : {}),
    };
    // No blind async retries (scheduledHandlerFunction): one could start a second rotation mid-way.
    this.function = scheduledHandlerFunction(this, 'Function', {
      description: `cdk-aep-s3: access-key age${rotates ? ' and scheduled rotation' : ''} of an AEP S3 connection`,
      handler: KEY_WATCH_HANDLER,
      role,
      timeout: HANDLER_TIMEOUT,
      logGroup,
      environment: {
        ...(rotates ? {
          [HandlerEnvironment.ALLOWED_ENDPOINTS]: encodeAllowedEndpoints([[props.sandbox.endpoints.flowServiceUrl, props.sandbox.endpoints.imsUrl]]),
        } : {}),
        [HandlerEnvironment.KEY_WATCH_TARGET]: Stack.of(this).toJsonString(target),
      },
    });

    this.rule = new events.Rule(this, 'Schedule', {
      description: `cdk-aep-s3: access-key age${rotates ? ' and rotation' : ''} of ${props.connectionName}`,
      schedule: events.Schedule.rate(CHECK_EVERY),
      // Informational only: the function reads its target from its environment.
      targets: [new targets.LambdaFunction(this.function, { event: events.RuleTargetInput.fromObject({ KeyWatch: props.connectionName }) })],
    });
    this.rule.node.addDependency(props.after, ...dependables);

    const { maxAgeDays, warnDays, alarmTopic } = props.lifecycle;
    if (maxAgeDays !== undefined) {
      const threshold = maxAgeDays - warnDays!;
      this.ageAlarm = new cloudwatch.Alarm(this, 'AgeAlarm', {
        metric: new cloudwatch.Metric({
          namespace: KeyWatchMetric.NAMESPACE,
          metricName: KeyWatchMetric.AGE,
          dimensionsMap: { [KeyWatchMetric.DIMENSION]: props.connectionName },
          statistic: cloudwatch.Stats.MAXIMUM,
          period: ALARM_PERIOD,
        }),
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // A late run leaves a period empty: keep the last state rather than flap.
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
        alarmDescription: `cdk-aep-s3: an access key of the IAM user AEP connection ${props.connectionName} uses is ${threshold} days old or older; `
          + `your policy allows ${maxAgeDays} days. ${rotates ? 'Scheduled rotation should have replaced it: see the key watch function\'s log group.' : 'Rotate it: bump `serial` and deploy.'}`,
      });
    }
    if (rotates) {
      this.rotationAlarm = new cloudwatch.Alarm(this, 'RotationAlarm', {
        // Errors counts handled failures (the function rethrows) and crashes or timeouts alike.
        metric: this.function.metricErrors({ statistic: cloudwatch.Stats.SUM, period: ALARM_PERIOD }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `cdk-aep-s3: the scheduled access-key rotation of AEP connection ${props.connectionName} failed. AEP still holds a working key `
          + '(a run never deletes the key AEP uses); the function\'s log group says which step failed, and the next run retries.',
      });
    }
    if (alarmTopic) {
      for (const alarm of [this.ageAlarm, this.rotationAlarm]) alarm?.addAlarmAction(new cwActions.SnsAction(alarmTopic));
    }
  }
}
