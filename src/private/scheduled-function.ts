import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PINNED_RUNTIME_REASON, suppressNag } from './nag';
import { AepProvider } from './provider';

/**
 * The handler bundle projen builds from `src/handler/aep.lambda.ts` (the directory the generated
 * `AepFunction` uses): same path, same asset hash, one upload for every entry point.
 */
const HANDLER_ASSET_DIR = path.join(__dirname, '..', '..', 'assets', 'handler', 'aep.lambda');

/** What differs between the scheduled functions (session-token refresh, key watch, health check). */
export interface ScheduledHandlerProps {
  readonly description: string;
  /** Entry point inside the bundle, e.g. `index.refreshHandler`. */
  readonly handler: string;
  readonly role: iam.IRole;
  readonly logGroup: logs.ILogGroup;
  readonly timeout: Duration;
  readonly environment: { [key: string]: string };
}

/**
 * A function of the handler bundle run by an EventBridge schedule: the provider's runtime (one
 * bundle, one target runtime), 256 MB, and no blind async retries (the schedule is the retry; a
 * retry mid-way could repeat a rotation, and one run is one metric datapoint).
 */
export function scheduledHandlerFunction(scope: Construct, id: string, props: ScheduledHandlerProps): lambda.Function {
  const fn = new lambda.Function(scope, id, {
    description: props.description,
    runtime: AepProvider.of(scope).onEventFunction.runtime,
    handler: props.handler,
    code: lambda.Code.fromAsset(HANDLER_ASSET_DIR),
    role: props.role,
    timeout: props.timeout,
    memorySize: 256,
    logGroup: props.logGroup,
    environment: props.environment,
    retryAttempts: 0,
  });
  suppressNag(fn, [{ id: 'AwsSolutions-L1', reason: PINNED_RUNTIME_REASON }]);
  return fn;
}
