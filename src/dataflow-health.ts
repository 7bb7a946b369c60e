import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { HealthMetric } from './private/contract';
import { HealthChecker, type HealthTarget } from './private/health-checker';
import { invalid } from './private/validation';

/** Options of {@link DataflowHealth.alarms}. */
export interface DataflowHealthAlarmsOptions {
  /**
   * SNS topic every health alarm notifies, on ALARM and back to OK.
   * @default - no alarm action
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * How often the check reads the flow and its runs (whole minutes, 5 minutes to 1 day). Each
   * check makes at most 5 Flow Service GET requests.
   * @default Duration.hours(1)
   */
  readonly checkEvery?: Duration;
  /**
   * How far back each check counts runs (failed, empty). Whole minutes, at least `checkEvery`,
   * at most 30 days.
   * @default - the dataflow's schedule interval, at least `checkEvery`
   */
  readonly runsWindow?: Duration;
  /**
   * Failed runs within `runsWindow` that raise the failed-runs alarm.
   * @default 1
   */
  readonly failedRunsThreshold?: number;
  /**
   * Runs within `runsWindow` that succeeded with no input file or no record and raise the
   * empty-runs alarm.
   * @default 1
   */
  readonly emptyRunsThreshold?: number;
  /**
   * Time without a successful run that raises the no-success alarm.
   * @default - twice the dataflow's schedule interval
   */
  readonly maxTimeWithoutSuccess?: Duration;
}

/** Whether and how a dataflow's health is watched after deploy. */
export class DataflowHealth {
  /**
   * A scheduled check (one function per stack, one schedule per dataflow) publishing the
   * dataflow's health as CloudWatch metrics, with four alarms: failed runs, empty runs, no
   * successful run for too long, and disabled (by AEP) while the stack declares it enabled.
   */
  public static alarms(options: DataflowHealthAlarmsOptions = {}): DataflowHealth {
    return new DataflowHealth(options);
  }

  private constructor(private readonly options: DataflowHealthAlarmsOptions) {}

  /** @internal */
  public _bind(scope: Construct, target: HealthTarget): DataflowHealthAlarms {
    return DataflowHealthAlarms._create(scope, 'Health', { ...target, options: this.options });
  }
}

const DEFAULT_CHECK_EVERY = Duration.hours(1);
/** Used when the schedule gives no interval (a one-time run, or a token): daily. */
const FALLBACK_INTERVAL_SECONDS = 86_400;
const MAX_WINDOW_SECONDS = 30 * 86_400;

/**
 * The health of one dataflow: its check schedule, metrics and alarms.
 */
export class DataflowHealthAlarms extends Construct {
  /** @internal */
  public static _create(scope: Construct, id: string, props: HealthTarget & { readonly options: DataflowHealthAlarmsOptions }): DataflowHealthAlarms {
    return new DataflowHealthAlarms(scope, id, props);
  }

  /** Failed runs within the runs window reached the threshold: read the run's errors in AEP (Monitoring), fix the cause. */
  public readonly failedRunsAlarm: cloudwatch.Alarm;
  /** Runs succeeded with no file or no record: check that files land under the source path, or that the audiences/datasets have data. */
  public readonly emptyRunsAlarm: cloudwatch.Alarm;
  /** No successful run for longer than allowed: the flow failed, is disabled, or stopped being scheduled. */
  public readonly noSuccessAlarm: cloudwatch.Alarm;
  /** AEP (or a person) disabled the flow while the stack declares it enabled. */
  public readonly disabledAlarm: cloudwatch.Alarm;
  /** The schedule invoking the stack's health check for this dataflow. */
  public readonly schedule: events.Rule;

  private readonly flowId: string;
  private readonly period: Duration;

  private constructor(scope: Construct, id: string, props: HealthTarget & { readonly options: DataflowHealthAlarmsOptions }) {
    super(scope, id);
    const o = props.options;
    this.flowId = props.flowId;
    const checkEvery = minutes('health.checkEvery', o.checkEvery ?? DEFAULT_CHECK_EVERY, 5, 1440);
    const known = props.intervalSeconds !== undefined && !Token.isUnresolved(props.intervalSeconds);
    const interval = known ? props.intervalSeconds! : FALLBACK_INTERVAL_SECONDS;
    const window = o.runsWindow === undefined
      ? Math.min(Math.max(interval, checkEvery), MAX_WINDOW_SECONDS)
      : minutes('health.runsWindow', o.runsWindow, checkEvery / 60, MAX_WINDOW_SECONDS / 60);
    const staleSeconds = o.maxTimeWithoutSuccess === undefined ? 2 * interval : minutes('health.maxTimeWithoutSuccess', o.maxTimeWithoutSuccess, 1, 366 * 1440);
    const failed = count('health.failedRunsThreshold', o.failedRunsThreshold ?? 1);
    const empty = count('health.emptyRunsThreshold', o.emptyRunsThreshold ?? 1);
    this.period = Duration.seconds(checkEvery);

    this.schedule = HealthChecker.of(this).watch(this, {
      sandbox: props.sandbox, flowId: props.flowId, enabled: props.enabled, runsWindowSeconds: window, checkEvery: this.period,
    });

    const name = props.flowName;
    const alarm = (
      alarmId: string, metricName: string, threshold: number,
      comparison: cloudwatch.ComparisonOperator, missing: cloudwatch.TreatMissingData, what: string,
    ) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        // Two check periods, one breaching datapoint: a check that lands late in the next period
        // neither hides a problem nor makes the alarm flap.
        metric: this.metric(metricName, cloudwatch.Stats.MAXIMUM),
        threshold,
        comparisonOperator: comparison,
        evaluationPeriods: 2,
        datapointsToAlarm: 1,
        treatMissingData: missing,
        alarmDescription: `cdk-aep-s3: AEP dataflow ${name}: ${what}`,
      });
      if (o.alarmTopic) {
        a.addAlarmAction(new cloudwatchActions.SnsAction(o.alarmTopic));
        a.addOkAction(new cloudwatchActions.SnsAction(o.alarmTopic));
      }
      return a;
    };
    const windowText = humanSeconds(window);
    this.failedRunsAlarm = alarm('FailedRunsAlarm', HealthMetric.FAILED_RUNS, failed, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      cloudwatch.TreatMissingData.NOT_BREACHING,
      `${failed} or more failed runs in ${windowText}. Open the dataflow's runs in AEP (Monitoring) for the error, fix the cause (credentials, bucket policy, path, file format).`);
    this.emptyRunsAlarm = alarm('EmptyRunsAlarm', HealthMetric.EMPTY_RUNS, empty, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      cloudwatch.TreatMissingData.NOT_BREACHING,
      `${empty} or more runs in ${windowText} moved no file or no record. Check that new files arrive under the source path (or that the exported audiences/datasets have data).`);
    this.noSuccessAlarm = alarm('NoSuccessAlarm', HealthMetric.HOURS_SINCE_SUCCESS, staleSeconds / 3600, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      cloudwatch.TreatMissingData.MISSING,
      `no successful run for more than ${humanSeconds(staleSeconds)}. The dataflow is failing, disabled, or no longer scheduled: see its runs in AEP.`);
    this.disabledAlarm = alarm('DisabledAlarm', HealthMetric.DISABLED, 1, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      cloudwatch.TreatMissingData.MISSING,
      'disabled in AEP while the stack declares it enabled (AEP disables a source dataflow whose runs failed for 30 days). Fix the cause, then enable it in AEP or deploy with reEnableWhenDisabledByAep: true.');
  }

  /** A health metric of this dataflow (`FailedRuns`, `EmptyRuns`, `HoursSinceLastSuccess`, `DisabledWhileDeclaredEnabled`), one datapoint per check. */
  public metric(metricName: string, statistic: string = cloudwatch.Stats.MAXIMUM): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: HealthMetric.NAMESPACE,
      metricName,
      dimensionsMap: { [HealthMetric.DIMENSION]: this.flowId },
      statistic,
      period: this.period,
    });
  }
}

/** Seconds of a whole-minute duration within [min, max] minutes, or a synth error naming the property. */
function minutes(property: string, d: Duration, min: number, max: number): number {
  const s = d.toSeconds();
  if (Token.isUnresolved(s)) invalid(property, d.toString(), 'must be a literal duration (CloudWatch alarm periods are fixed at synth)');
  if (s % 60 !== 0 || s < min * 60 || s > max * 60) invalid(property, `${s} seconds`, `must be whole minutes between ${humanSeconds(min * 60)} and ${humanSeconds(max * 60)}`);
  return s;
}

function count(property: string, n: number): number {
  if (!Token.isUnresolved(n) && (!Number.isInteger(n) || n < 1)) invalid(property, n, 'must be a whole number of at least 1');
  return n;
}

function humanSeconds(s: number): string {
  if (s % 86_400 === 0) return `${s / 86_400} day${s === 86_400 ? '' : 's'}`;
  if (s % 3600 === 0) return `${s / 3600} hour${s === 3600 ? '' : 's'}`;
  return `${s / 60} minutes`;
}
