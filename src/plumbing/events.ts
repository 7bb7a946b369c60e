/**
 * The minimal CloudFormation custom-resource event and response shapes used by the
 * aws-cdk-lib `custom-resources` Provider framework (its onEvent contract).
 */

/** Request types CloudFormation sends. */
export type RequestType = 'Create' | 'Update' | 'Delete';

/** What the Provider framework passes to onEvent. */
export interface CustomResourceEvent {
  readonly RequestType: RequestType;
  readonly ResourceType: string;
  readonly LogicalResourceId: string;
  readonly StackId: string;
  readonly RequestId?: string;
  /** Absent on Create. */
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  /** Present on Update only. */
  readonly OldResourceProperties?: Record<string, unknown>;
}

/** What onEvent returns: a new physical id replaces the resource (CloudFormation then deletes the old one). */
export interface CustomResourceResponse {
  readonly PhysicalResourceId: string;
  /** Attributes for `Fn::GetAtt`; never secret. */
  readonly Data?: Record<string, string>;
}

/** The physical id of an Update or Delete event (CloudFormation always sends one). */
export function requirePhysicalId(event: CustomResourceEvent): string {
  if (!event.PhysicalResourceId) throw new Error(`${event.RequestType} event for ${event.LogicalResourceId} has no PhysicalResourceId`);
  return event.PhysicalResourceId;
}
