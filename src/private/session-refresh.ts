import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CommonProps, encodeAllowedEndpoints, HandlerEnvironment, RefreshEventKeys, RefreshMetric } from './contract';
import { jsonPerField } from './json-per-field';
import { lambdaIdentity } from './lambda-identity';
import { HANDLER_TIMEOUT } from './provider';
import { sandboxProperties } from './sandbox-properties';
import { scheduledHandlerFunction } from './scheduled-function';
import { secretReadPolicy } from './secret-grant';
import { invalid } from './validation';
import type { AepSandbox } from '../aep-sandbox';

/** Entry point of the scheduled refresh inside the bundle. */
const REFRESH_HANDLER = 'index.refreshHandler';

/** Default period of the refresh metrics and of the failure alarm. */
const METRIC_PERIOD = Duration.minutes(5);

/** Properties of {@link SessionTokenRefresh}. */
export interface SessionTokenRefreshProps {
  /** Sandbox of the connection (API credential, name, endpoints). */
  readonly sandbox: AepSandbox;
  /** The AEP base connection to PATCH. */
  readonly connectionId: string;
  /** The AEP connection name (the metric dimension). */
  readonly connectionName: string;
  /** Secret holding the IAM user's long-term key. */
  readonly keySecret: secretsmanager.ISecret;
  /** `{ s3AccessKey: jsonKey, s3SecretKey: jsonKey }` in {@link keySecret}. */
  readonly keySecretFields: { [param: string]: string };
  /** Lifetime requested from STS GetSessionToken. */
  readonly duration: Duration;
  /** Schedule rate; validated by the caller to stay well below {@link duration}. */
  readonly refreshEvery: Duration;
}

/**
 * Keeps the temporary credentials of an S3 source connection fresh: an EventBridge schedule
 * invoking the handler bundle's `refreshHandler`, which calls STS GetSessionToken with the
 * long-term key and PATCHes the new triple into the connection (a new session has a new access key
 * id and secret too, so all three are replaced together).
 *
 * A function of its own, not the custom-resource handler: it needs a different entry point and,
 * more importantly, a role that can read only this connection's two secrets, whereas the
 * provider's role reads every secret of every connection in the stack.
 */
export class SessionTokenRefresh extends Construct {
  /** The refresh function. */
  public readonly function: lambda.Function;
  /** The schedule. */
  public readonly rule: events.Rule;

  private readonly connectionName: string;

  constructor(scope: Construct, id: string, props: SessionTokenRefreshProps) {
    super(scope, id);
    this.connectionName = props.connectionName;

    // Read access to exactly the AEP API credential and the long-term key, logs to its own group.
    // The secret reads sit in a policy whose logical id changes with the secrets, and the
    // schedule depends on it: a new secret is readable before the schedule's input names it,
    // and the old one stays readable until the old input is gone (same as the CR handler).
    const { role, logGroup } = lambdaIdentity(this, { role: 'Role', logGroup: 'Logs' }, 'cdk-aep-s3 session-token refresh');
    const secretRead = secretReadPolicy(this, role, [props.sandbox.credentials, props.keySecret]);

    // No blind async retries (scheduledHandlerFunction): refreshEvery <= duration / 2 leaves at
    // least one more run before the current token expires, the handler already retries transient
    // HTTP errors, and one run = one metric datapoint keeps the alarm exact.
    this.function = scheduledHandlerFunction(this, 'Function', {
      description: 'cdk-aep-s3: refreshes the STS session token of an AEP S3 source connection',
      handler: REFRESH_HANDLER,
      role,
      timeout: HANDLER_TIMEOUT,
      logGroup,
      // The schedule's input names the endpoints, but whoever can put an event to this function
      // could name others: the function calls only its sandbox's, fixed here.
      environment: {
        [HandlerEnvironment.ALLOWED_ENDPOINTS]: encodeAllowedEndpoints([[props.sandbox.endpoints.flowServiceUrl, props.sandbox.endpoints.imsUrl]]),
        // Likewise the connection it refreshes, the key it uses and the sandbox: an event naming
        // another connection would otherwise give it this source's credentials.
        // One Fn::Join element per field: a sandbox change reads as one line, not a new escaped string.
        [HandlerEnvironment.REFRESH_TARGET]: jsonPerField({
          [RefreshEventKeys.CONNECTION_ID]: props.connectionId,
          [RefreshEventKeys.AUTH_SECRET_ARN]: props.keySecret.secretArn,
          [CommonProps.CREDENTIALS_SECRET_ARN]: props.sandbox.credentials.secretArn,
          [CommonProps.SANDBOX_NAME]: props.sandbox.sandboxName,
        }),
      },
    });

    this.rule = new events.Rule(this, 'Schedule', {
      description: `cdk-aep-s3: refresh the AEP session token of ${props.connectionName}`,
      schedule: events.Schedule.rate(props.refreshEvery),
      targets: [new targets.LambdaFunction(this.function, { event: events.RuleTargetInput.fromObject({}) })],
    });
    // The input is JSON text (Input is a string property, so it cannot be a structured object),
    // written with one Fn::Join element per field so that a one-field change reads as one line in
    // `cdk diff` instead of a new escaped string. RuleTargetInput can only quote text, hence the
    // override; the event the function receives is byte for byte what fromObject made.
    (this.rule.node.defaultChild as events.CfnRule).addPropertyOverride('Targets.0.Input', jsonPerField({
      ...sandboxProperties(props.sandbox),
      [RefreshEventKeys.CONNECTION_ID]: props.connectionId,
      [RefreshEventKeys.NAME]: props.connectionName,
      [RefreshEventKeys.AUTH_SECRET_ARN]: props.keySecret.secretArn,
      [RefreshEventKeys.AUTH_SECRET_FIELDS]: props.keySecretFields,
      [RefreshEventKeys.SESSION_TOKEN_DURATION]: String(props.duration.toSeconds()),
    }));
    this.rule.node.addDependency(secretRead);
  }

  /** 1 per successful refresh, 0 per failed one (EMF from the function), minimum per period. */
  public metricSuccess(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: RefreshMetric.NAMESPACE,
      metricName: RefreshMetric.NAME,
      dimensionsMap: { [RefreshMetric.DIMENSION]: this.connectionName },
      statistic: cloudwatch.Stats.MINIMUM,
      period: METRIC_PERIOD,
      label: 'Session-token refresh success (1 ok, 0 failed)',
      ...props,
    });
  }

  /** Lambda `Errors` of the refresh function (also counts timeouts and crashes before the EMF line). */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricErrors({ statistic: cloudwatch.Stats.SUM, period: METRIC_PERIOD, ...props });
  }

  /**
   * Failed refresh attempts per period: `errors + (1 - success)`, missing values filled so that
   * either signal alone counts (a crash emits no EMF line; a handled failure emits 0 and throws).
   */
  public metricFailures(props?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
    const period = props?.period ?? METRIC_PERIOD;
    return new cloudwatch.MathExpression({
      // A handled failure both emits 0 and rethrows (one Lambda error): count it once.
      expression: 'MAX([FILL(errors, 0), 1 - FILL(success, 1)])',
      usingMetrics: {
        errors: this.metricErrors({ period }),
        success: this.metricSuccess({ period }),
      },
      label: 'Failed session-token refreshes',
      ...props,
      period,
    });
  }
}

/** How late a scheduled run may publish its datapoint: EventBridge jitter, the run itself, ingestion. */
const LATE_SUCCESS_MARGIN = HANDLER_TIMEOUT.plus(Duration.minutes(3));
/** The alarm must fire at least this long before the credentials AEP holds expire. */
const MIN_WARNING = Duration.minutes(5);
/** CloudWatch evaluates alarms once a minute. */
const EVALUATION_INTERVAL_SECONDS = 60;

/** Period and length of the refresh alarm's window (see {@link refreshAlarmWindow}). */
export interface RefreshAlarmWindow {
  readonly period: Duration;
  readonly evaluationPeriods: number;
}

/**
 * The window of the "no successful refresh" alarm. It must always contain a success while
 * refreshes work (window >= refreshEvery + how late a run may publish), and it must fire before
 * the credentials expire even in the worst alignment: ALARM comes at most window + one period
 * + one evaluation interval after the last success, which must stay {@link MIN_WARNING} short
 * of `duration`. CloudWatch also caps period x evaluationPeriods (1 day below 1-hour periods).
 */
export function refreshAlarmWindow(duration: Duration, refreshEvery: Duration, period?: Duration): RefreshAlarmWindow {
  const life = duration.toSeconds();
  const needed = refreshEvery.toSeconds() + LATE_SUCCESS_MARGIN.toSeconds();
  const fits = (p: number): RefreshAlarmWindow | string => {
    const n = Math.ceil(needed / p);
    const latest = n * p + p + EVALUATION_INTERVAL_SECONDS;
    if (latest > life - MIN_WARNING.toSeconds()) {
      return `the alarm (window ${n * p}s + one period + ${EVALUATION_INTERVAL_SECONDS}s) would fire only ${latest}s after the last success, less than ${MIN_WARNING.toSeconds()}s before the ${life}s credentials expire`;
    }
    const cap = p < 3600 ? 86_400 : 604_800;
    if (n * p > cap) return `period x evaluationPeriods = ${n * p}s exceeds CloudWatch's ${cap}s limit`;
    return { period: Duration.seconds(p), evaluationPeriods: n };
  };
  if (period) {
    const p = period.toSeconds();
    if (Token.isUnresolved(p) || p < 60 || p % 60 !== 0) invalid('period', period.toString(), 'must be a literal whole number of minutes');
    const w = fits(p);
    if (typeof w === 'string') invalid('period', `${p} seconds`, `is too long for these credentials: ${w}; use a shorter period`);
    return w;
  }
  const w = fits(METRIC_PERIOD.toSeconds());
  if (typeof w !== 'string') return w;
  const short = fits(60);
  if (typeof short === 'string') throw new Error(`cdk-aep-s3: no refresh alarm window fits: ${short}`);
  return short;
}
