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
  resetSecrets();
  const invocation = startInvocation(context);
  beginSecretReads(invocation);
  log('info', 'custom resource event', {
    requestType: event.RequestType,
    resourceType: event.ResourceType,
    logicalResourceId: event.LogicalResourceId,
    physicalResourceId: event.PhysicalResourceId,
  });
  checkContractVersion(event.ResourceProperties);
  try {
    // Before any secret is read: the event's endpoints are where the credential would go.
    assertAllowedEndpoints(event.ResourceProperties);
    const response = await dispatch(event, invocation);
    log('info', 'custom resource done', { requestType: event.RequestType, physicalResourceId: response.PhysicalResourceId });
    return response;
  } catch (err) {
    throw failure(err, { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId });
  }
}

/**
 * Scheduled (EventBridge) session-token refresh of an S3 source connection. The event holds the
 * contract's `CommonProps` and `RefreshEventKeys`.
 */
export async function refreshHandler(event: Record<string, unknown>, context?: LambdaContext): Promise<{ ConnectionId: string; Etag: string }> {
  resetSecrets();
  const invocation = startInvocation(context);
  beginSecretReads(invocation);
  checkContractVersion(event);
  try {
    assertAllowedEndpoints(event);
    assertPinnedRefreshTarget(event);
    const ref = await refreshSessionToken(event, invocation);
    return { ConnectionId: ref.id, Etag: ref.etag };
  } catch (err) {
    throw failure(err, { connectionId: event[RefreshEventKeys.CONNECTION_ID] });
  }
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
  resetSecrets();
  const invocation = startInvocation(context);
  beginSecretReads(invocation);
  const target = pinnedKeyWatchTarget();
  checkContractVersion(target);
  try {
    assertAllowedEndpoints(target);
    const result = await watchAccessKey(target, invocation);
    return { AccessKeyId: result.accessKeyId, Rotated: result.rotated, AgeDays: result.ageDays };
  } catch (err) {
    throw failure(err, { connectionId: target.ConnectionId });
  }
}

/**
 * Scheduled (EventBridge) health check of one dataflow: reads the flow and its recent runs
 * (read-only, bounded) and emits its health metrics. The event holds the contract's
 * `CommonProps` and `HealthEventKeys`.
 */
export async function healthCheckHandler(event: Record<string, unknown>, context?: LambdaContext): Promise<HealthReport> {
  resetSecrets();
  const invocation = startInvocation(context);
  beginSecretReads(invocation);
  checkContractVersion(event);
  try {
    assertAllowedEndpoints(event);
    return await checkDataflowHealth(event, invocation);
  } catch (err) {
    throw failure(err, { flowId: event[HealthEventKeys.FLOW_ID] });
  }
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
