import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { encodeAllowedEndpoints, type EndpointPair, FlowProps, HandlerEnvironment, HealthEventKeys } from './contract';
import { lambdaIdentity } from './lambda-identity';
import { sandboxProperties } from './sandbox-properties';
import { scheduledHandlerFunction } from './scheduled-function';
import { secretReadPolicy } from './secret-grant';
import type { AepSandbox } from '../aep-sandbox';

/** Entry point of the scheduled health check inside the bundle. */
const HEALTH_HANDLER = 'index.healthCheckHandler';
/** Construct id of the per-stack singleton. */
const SINGLETON_ID = 'CdkAepS3DataflowHealth';
/** A check makes at most five GETs with the handler's retries; a minute leaves room for a slow AEP. */
const CHECK_TIMEOUT = Duration.minutes(2);

/** What a dataflow construct hands to its health. */
export interface HealthTarget {
  readonly sandbox: AepSandbox;
  readonly flowId: string;
  readonly flowName: string;
  readonly enabled: boolean;
  /** Seconds between the dataflow's scheduled runs (undefined: unknown at synth). */
  readonly intervalSeconds?: number;
}

/** One dataflow to check on a schedule. */
export interface WatchedFlow {
  readonly sandbox: AepSandbox;
  readonly flowId: string;
  readonly enabled: boolean;
  readonly runsWindowSeconds: number;
  readonly checkEvery: Duration;
}

/**
 * The per-stack health check function: the handler bundle's `healthCheckHandler`, invoked by one
 * EventBridge schedule per watched dataflow. Its role reads only the AEP API credentials of the
 * watched dataflows' sandboxes and writes its own log group; the metrics are Embedded Metric
 * Format log lines, so it needs no CloudWatch permission at all.
 */
export class HealthChecker extends Construct {
  /** The stack's checker, created on first use. */
  public static of(scope: IConstruct): HealthChecker {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(SINGLETON_ID) as HealthChecker | undefined) ?? new HealthChecker(stack, SINGLETON_ID);
  }

  public readonly function: lambda.Function;
  private readonly role: ReturnType<typeof lambdaIdentity>['role'];
  private readonly endpoints = new Map<string, EndpointPair>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const identity = lambdaIdentity(this, { role: 'Role', logGroup: 'Logs' }, 'cdk-aep-s3 dataflow health check');
    this.role = identity.role;
    this.function = scheduledHandlerFunction(this, 'Function', {
      description: 'cdk-aep-s3: reads AEP dataflow runs and publishes their health metrics',
      handler: HEALTH_HANDLER,
      role: this.role,
      timeout: CHECK_TIMEOUT,
      logGroup: identity.logGroup,
      environment: {
        // The schedules' inputs name the sandboxes; whoever could invoke the function with others
        // would still only reach these endpoints with the credential.
        [HandlerEnvironment.ALLOWED_ENDPOINTS]: Lazy.string({ produce: () => encodeAllowedEndpoints([...this.endpoints.values()]) }),
      },
    });
  }

  /** Schedules the check of one dataflow (the rule lives in `scope`, the dataflow's health). */
  public watch(scope: Construct, flow: WatchedFlow): events.Rule {
    const pair: EndpointPair = [flow.sandbox.endpoints.flowServiceUrl, flow.sandbox.endpoints.imsUrl];
    this.endpoints.set(JSON.stringify(Stack.of(this).resolve(pair)), pair);
    const secretRead = secretReadPolicy(this, this.role, [flow.sandbox.credentials]);
    const rule = new events.Rule(scope, 'Schedule', {
      description: 'cdk-aep-s3: check the health of an AEP dataflow',
      schedule: events.Schedule.rate(flow.checkEvery),
      targets: [new targets.LambdaFunction(this.function, {
        event: events.RuleTargetInput.fromObject({
          ...sandboxProperties(flow.sandbox),
          [HealthEventKeys.FLOW_ID]: flow.flowId,
          [HealthEventKeys.DECLARED_ENABLED]: String(flow.enabled),
          [HealthEventKeys.RUNS_WINDOW_SECONDS]: String(flow.runsWindowSeconds),
          // The scheduled time, not the invocation's: a late invocation counts the same window.
          [HealthEventKeys.TIME]: events.EventField.time,
        }),
        retryAttempts: 0,
      })],
    });
    rule.node.addDependency(secretRead);
    return rule;
  }
}

const UNIT_SECONDS: Record<string, number> = { minute: 60, hour: 3600, day: 86_400, week: 604_800 };

/**
 * Seconds between runs of a schedule as the flow properties carry it: `{frequency, interval}`
 * (ingestion), `{interval, timeUnit}` (dataset export) or an audience `frequency` (`DAILY`,
 * `EVERY_n_HOURS`, `ONCE`); undefined when it has none (a one-time run) or is a token.
 */
export function scheduleIntervalSeconds(schedule: { [key: string]: string }): number | undefined {
  const n = Number(schedule.interval);
  const unit = UNIT_SECONDS[(schedule.frequency ?? schedule.timeUnit ?? '').toLowerCase()];
  if (unit !== undefined && Number.isFinite(n) && n > 0) return unit * n;
  const hours = /^EVERY_(\d+)_HOURS$/.exec(schedule.frequency ?? '');
  if (hours) return Number(hours[1]) * 3600;
  if (schedule.frequency === 'DAILY') return 86_400;
  return undefined;
}

/** The flow property that opts into re-enabling a flow AEP disabled (absent by default: templates of stacks that do not opt in stay as they were). */
export function reEnableProperty(reEnable: boolean | undefined): { [key: string]: string } {
  return reEnable === true ? { [FlowProps.RE_ENABLE_WHEN_DISABLED_BY_AEP]: 'true' } : {};
}

/** The shortest of several schedules' intervals (an audience flow runs as often as its most frequent audience). */
export function minInterval(values: Array<number | undefined>): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? Math.min(...known) : undefined;
}
