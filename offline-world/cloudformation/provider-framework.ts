import {
  CfnResponse, clone, CREATE_FAILED_PHYSICAL_ID_MARKER, FunctionError, InvocationRecord, LiveResource, NO_RESPONSE, TIMED_OUT, withTimeout,
} from './model';

/**
 * Custom resources: the request CloudFormation sends to a ServiceToken (ServiceTimeout, response
 * size limit) and the aws-cdk-lib Provider framework function that answers it by invoking the
 * user's onEvent function.
 */

/** What the custom-resource model needs from the stack it runs in. */
export interface CustomResourceHost {
  readonly region: string;
  readonly stackId: string;
  readonly timeScale: number;
  readonly invocations: InvocationRecord[];
  nextSerial(): number;
  aepCount(): number;
  functionByArn(arn: unknown): string | undefined;
  live(logicalId: string): LiveResource;
  track(type: string, props: Record<string, unknown>): Record<string, unknown>;
  invokeFunction(logicalId: string, event: any): Promise<{ payload?: unknown; functionError?: FunctionError }>;
}

/**
 * One custom-resource request as CloudFormation sends it to the ServiceToken, bounded by the
 * resource's ServiceTimeout; returns what CloudFormation received.
 */
export async function customResource(
  host: CustomResourceHost,
  id: string, type: string, requestType: 'Create' | 'Update' | 'Delete', phase: string,
  props: any, physicalId?: string, oldProps?: any,
): Promise<CfnResponse> {
  const requestId = `00000000-0000-4000-8000-${String(host.nextSerial()).padStart(12, '0')}`;
  const event: any = {
    RequestType: requestType,
    ServiceToken: props.ServiceToken,
    ResponseURL: `https://cloudformation-custom-resource-response-${host.region}.s3.amazonaws.com/sim/${requestId}`,
    StackId: host.stackId,
    RequestId: requestId,
    LogicalResourceId: id,
    ResourceType: type,
    ResourceProperties: props,
  };
  if (physicalId !== undefined) event.PhysicalResourceId = physicalId;
  if (requestType === 'Update') event.OldResourceProperties = oldProps;
  const request = clone({ PhysicalResourceId: physicalId, ResourceProperties: props, OldResourceProperties: oldProps });
  const before = host.aepCount();
  const serviceTimeoutMs = Number(props.ServiceTimeout ?? 3600) * 1000 * host.timeScale;
  let answeredByFramework = false;
  const work = providerFramework(host, event, type, () => { answeredByFramework = true; });
  let response = await withTimeout(work, serviceTimeoutMs);
  if (response === TIMED_OUT || response === NO_RESPONSE) {
    response = {
      status: 'FAILED',
      physicalId: requestType === 'Create' ? undefined : physicalId,
      reason: `CloudFormation did not receive a response from your Custom Resource. Please check your logs for requestId [${requestId}].`,
    };
  } else if (JSON.stringify(response).length > 4096) {
    response = { status: 'FAILED', physicalId: requestType === 'Create' ? undefined : physicalId, reason: 'Response object is too long.' };
  }
  const r = response as CfnResponse;
  host.invocations.push({
    phase,
    requestType,
    logicalId: id,
    resourceType: type,
    physicalId: r.physicalId ?? physicalId,
    aepRequests: host.aepCount() - before,
    error: r.status === 'FAILED' ? r.reason : undefined,
    response: r.status === 'SUCCESS' ? { PhysicalResourceId: r.physicalId, Data: r.data } : undefined,
    request,
    answeredByFramework: answeredByFramework || undefined,
  });
  return r;
}

/**
 * The aws-cdk-lib Provider framework's onEvent function (custom-resources/lib/provider-framework/
 * runtime/framework.ts, cfn-response.ts, outbound.ts, aws-cdk-lib 2.180), run as its own
 * Lambda (bounded by its own Timeout: if it dies, no response reaches CloudFormation):
 * - safeHandler: a Delete of the CREATE_FAILED marker is answered SUCCESS without calling the
 *   user function; any error → FAILED, with the marker as physical id when a Create had none.
 * - invokeUserFunction: synchronous Lambda Invoke; a FunctionError (throw, timeout) becomes
 *   `<errorMessage>\n\nLogs: /aws/lambda/<name>\n` — NOT re-invoked. Only an Invoke API error
 *   (e.g. the function does not exist) is retried, once, after `waitUntilFunctionActiveV2`.
 * - createResponseEvent: missing PhysicalResourceId → RequestId (Create) or the request's id
 *   (Update/Delete); a Delete that changes the id is an error.
 */
async function providerFramework(
  host: CustomResourceHost, event: any, trackType: string, onSelfAnswer: () => void,
): Promise<CfnResponse | typeof NO_RESPONSE> {
  const frameworkId = host.functionByArn(event.ServiceToken);
  if (!frameworkId) {
    return { status: 'FAILED', physicalId: event.PhysicalResourceId, reason: `Invalid service token: ${event.ServiceToken}` };
  }
  const frameworkProps = host.live(frameworkId).properties;
  const userArn = frameworkProps.Environment?.Variables?.USER_ON_EVENT_FUNCTION_ARN;
  if (!userArn) throw new Error(`simulator: ${frameworkId} is not an aws-cdk-lib Provider framework function (no USER_ON_EVENT_FUNCTION_ARN)`);
  if (frameworkProps.Environment?.Variables?.USER_IS_COMPLETE_FUNCTION_ARN) throw new Error('simulator: isComplete providers are not modelled');
  if (event.RequestType === 'Delete' && event.PhysicalResourceId === CREATE_FAILED_PHYSICAL_ID_MARKER) {
    onSelfAnswer();
    return { status: 'SUCCESS', physicalId: event.PhysicalResourceId };
  }
  const frameworkTimeoutMs = Number(frameworkProps.Timeout ?? 3) * 1000 * host.timeScale;
  const run = async (): Promise<CfnResponse> => {
    try {
      let userId = host.functionByArn(userArn);
      if (!userId) {
        // outbound.ts: a thrown Invoke is retried once after waiting for the function to be active.
        userId = host.functionByArn(userArn);
        if (!userId) throw new Error(`Function not found: ${userArn}`);
      }
      const payload = JSON.parse(JSON.stringify(event));
      payload.ResourceProperties = host.track(trackType, payload.ResourceProperties ?? {});
      const result = await host.invokeFunction(userId, payload);
      if (result.functionError) {
        const name = userArn.split(':').pop();
        throw new Error([result.functionError.errorMessage || 'error', '', `Logs: /aws/lambda/${name}`, ''].join('\n'));
      }
      const out = (result.payload ?? {}) as any;
      const physicalId = out.PhysicalResourceId || (event.RequestType === 'Create' ? event.RequestId : event.PhysicalResourceId);
      if (event.RequestType === 'Delete' && physicalId !== event.PhysicalResourceId) {
        throw new Error(`DELETE: cannot change the physical resource ID from "${event.PhysicalResourceId}" to "${out.PhysicalResourceId}" during deletion`);
      }
      return { status: 'SUCCESS', physicalId, data: out.Data };
    } catch (e) {
      const physicalId = event.PhysicalResourceId ?? (event.RequestType === 'Create' ? CREATE_FAILED_PHYSICAL_ID_MARKER : undefined);
      return { status: 'FAILED', physicalId, reason: (e as Error).message };
    }
  };
  const outcome = await withTimeout(run(), frameworkTimeoutMs);
  return outcome === TIMED_OUT ? NO_RESPONSE : outcome;
}
