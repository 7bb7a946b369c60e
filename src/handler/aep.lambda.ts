/**
 * Entry point of the custom-resource Lambda (bundled by esbuild to assets/handler/aep.lambda).
 *
 * Layers, each importing only from the ones below it:
 * - `resources/`: one module per custom resource type and the session-token refresh, plus
 *   what they share (create-or-adopt of Flow Service items, auth params);
 * - `aep/`: the Flow Service client and its transport (IMS token, HTTP, error classification);
 * - `aws/`: the AWS calls (Secrets Manager reads, STS key probe and session tokens);
 * - `plumbing/`: logging with redaction, property parsing, events, config and the retry loop.
 */
import { beginSecretReads } from '../aws/secrets';
import { type LambdaContext, startInvocation } from '../plumbing/config';
import { assertAllowedEndpoints, assertPinnedRefreshTarget, pinnedKeyWatchTarget } from '../plumbing/endpoints';
import type { CustomResourceEvent, CustomResourceResponse } from '../plumbing/events';
import { errorMessage, log, resetSecrets } from '../plumbing/log';
import { onAccessKeyCleanupEvent } from './resources/access-key-cleanup';
import { onConnectionEvent } from './resources/connection';
import { onDatasetTargetConnectionEvent, onSourceConnectionEvent } from './resources/dataflow-connection';
import { onDestinationConnectionEvent } from './resources/destination-connection';
import { onFlowEvent } from './resources/flow';
import { checkDataflowHealth, type HealthReport } from './resources/health-check';
import { onIamRoleLookupEvent } from './resources/iam-role-lookup';
import { watchAccessKey } from './resources/key-watch';
import { onMappingSetEvent } from './resources/mapping-set';
import { onProfileMappingEvent } from './resources/profile-mapping';
import { refreshSessionToken } from './resources/refresh';
import { onTargetConnectionEvent } from './resources/target-connection';
import { CONTRACT_VERSION, CommonProps, DataflowResourceTypes, HealthEventKeys, RefreshEventKeys, ResourceTypes } from '../private/contract';

export type { CustomResourceEvent, CustomResourceResponse } from '../plumbing/events';
export type { LambdaContext } from '../plumbing/config';

/**
 * onEvent handler of the aws-cdk-lib `custom-resources` Provider: registers AEP Flow Service
 * connections. Returns `{ PhysicalResourceId, Data }`; throws (with a redacted message) to fail.
 */
export async function handler(event: CustomResourceEvent, context?: LambdaContext): Promise<CustomResourceResponse> {
  // Logged once the invocation has started (with its fresh redaction list).
  const target = () => {
    log('info', 'custom resource event', {
      requestType: event.RequestType,
      resourceType: event.ResourceType,
      logicalResourceId: event.LogicalResourceId,
      physicalResourceId: event.PhysicalResourceId,
    });
    return event.ResourceProperties;
  };
  const named = () => ({ requestType: event.RequestType, logicalResourceId: event.LogicalResourceId });
  return invoke(context, target, named, async (_, invocation) => {
    const response = await dispatch(event, invocation);
    log('info', 'custom resource done', { requestType: event.RequestType, physicalResourceId: response.PhysicalResourceId });
    return response;
  });
}

/**
 * What every entry point does around its work: a fresh list of secrets to redact and a fresh
 * invocation (deadline, secret-read budget); the contract version of its target; its endpoints
 * checked before any secret is read (they are where the credential would go); and a failure that
 * carries no secret and names what `named` picks from the target.
 */
async function invoke<T>(
  lambdaContext: LambdaContext | undefined,
  targetOf: () => Record<string, unknown>,
  named: (target: Record<string, unknown>) => Record<string, unknown>,
  work: (target: Record<string, unknown>, invocation: ReturnType<typeof startInvocation>) => Promise<T>,
): Promise<T> {
  resetSecrets();
  const invocation = startInvocation(lambdaContext);
  beginSecretReads(invocation);
  const target = targetOf();
  checkContractVersion(target);
  try {
    assertAllowedEndpoints(target);
    return await work(target, invocation);
  } catch (err) {
    throw failure(err, named(target));
  }
}

/**
 * Scheduled (EventBridge) session-token refresh of an S3 source connection. The event holds the
 * contract's `CommonProps` and `RefreshEventKeys`.
 */
export async function refreshHandler(event: Record<string, unknown>, context?: LambdaContext): Promise<{ ConnectionId: string; Etag: string }> {
  return invoke(context, () => event, (target) => ({ connectionId: target[RefreshEventKeys.CONNECTION_ID] }), async (target, invocation) => {
    assertPinnedRefreshTarget(target);
    const ref = await refreshSessionToken(target, invocation);
    return { ConnectionId: ref.id, Etag: ref.etag };
  });
}

/**
 * Scheduled (EventBridge) watch of a library-made access key: publishes its age and, when
 * rotation is on, rotates it (see `watchAccessKey`). Its whole target comes from the function's
 * environment (`CDK_AEP_S3_KEY_WATCH_TARGET`); the event is not read, so whoever may invoke the
 * function can at most make it run early.
 */
export async function keyWatchHandler(
  _event?: unknown, context?: LambdaContext,
): Promise<{ AccessKeyId: string; Rotated: boolean; AgeDays: number }> {
  return invoke(context, () => pinnedKeyWatchTarget(), (target) => ({ connectionId: target.ConnectionId }), async (target, invocation) => {
    const result = await watchAccessKey(target, invocation);
    return { AccessKeyId: result.accessKeyId, Rotated: result.rotated, AgeDays: result.ageDays };
  });
}

/**
 * Scheduled (EventBridge) health check of one dataflow: reads the flow and its recent runs
 * (read-only, bounded) and emits its health metrics. The event holds the contract's
 * `CommonProps` and `HealthEventKeys`.
 */
export async function healthCheckHandler(event: Record<string, unknown>, context?: LambdaContext): Promise<HealthReport> {
  return invoke(context, () => event, (target) => ({ flowId: target[HealthEventKeys.FLOW_ID] }), checkDataflowHealth);
}

function dispatch(event: CustomResourceEvent, invocation: ReturnType<typeof startInvocation>): Promise<CustomResourceResponse> {
  switch (event.ResourceType) {
    case ResourceTypes.CONNECTION:
      return onConnectionEvent(event, invocation);
    case ResourceTypes.DESTINATION_CONNECTION:
      return onDestinationConnectionEvent(event, invocation);
    case ResourceTypes.TARGET_CONNECTION:
      // Destinations deployed before DESTINATION_CONNECTION (their Update, rollback and Delete).
      return onTargetConnectionEvent(event, invocation);
    case ResourceTypes.IAM_ROLE_LOOKUP:
      return onIamRoleLookupEvent(event, invocation);
    case ResourceTypes.ACCESS_KEY_CLEANUP:
      return onAccessKeyCleanupEvent(event, invocation);
    case DataflowResourceTypes.SOURCE_CONNECTION:
      return onSourceConnectionEvent(event, invocation);
    case DataflowResourceTypes.DATASET_TARGET_CONNECTION:
      return onDatasetTargetConnectionEvent(event, invocation);
    case DataflowResourceTypes.MAPPING_SET:
      return onMappingSetEvent(event, invocation);
    case DataflowResourceTypes.FLOW:
      return onFlowEvent(event, invocation);
    case DataflowResourceTypes.PROFILE_MAPPING:
      return onProfileMappingEvent(event, invocation);
    default:
      if (event.RequestType === 'Delete') {
        // Failing would wedge the stack on a resource this handler never created.
        log('warn', 'ignoring delete of an unknown resource type', { resourceType: event.ResourceType });
        return Promise.resolve({ PhysicalResourceId: event.PhysicalResourceId ?? event.LogicalResourceId });
      }
      return Promise.reject(new Error(`Unknown resource type ${event.ResourceType}`));
  }
}

/** Logs the failure and returns an error whose message (what CloudFormation shows) is redacted. */
function failure(err: unknown, fields: Record<string, unknown>): Error {
  const message = errorMessage(err);
  log('error', 'failed', { ...fields, error: message });
  const safe = new Error(message);
  safe.name = err instanceof Error ? err.name : 'Error';
  return safe;
}

function checkContractVersion(props: Record<string, unknown> | undefined): void {
  const version = props?.[CommonProps.CONTRACT_VERSION];
  if (version !== undefined && version !== CONTRACT_VERSION) {
    // Only a warning: a Delete of a resource deployed by an older library version must still work.
    log('warn', 'contract version mismatch between construct and handler', { construct: version, handler: CONTRACT_VERSION });
  }
}
