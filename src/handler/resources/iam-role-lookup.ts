import { AepClient } from '../../aep/aep-client';
import type { Invocation } from '../../plumbing/config';
import type { CustomResourceEvent, CustomResourceResponse } from '../../plumbing/events';
import { requireString } from '../../plumbing/props';
import { Attributes, CommonProps, IAM_ROLE_ARN, IamRoleLookupProps } from '../../private/contract';


/**
 * Handles `Custom::AepIamRoleLookup`: reads the IAM role AEP uses to read the bucket of an
 * AWS-hosted S3 source (API-NOTES §4.2). Nothing is created, so Delete does nothing; the
 * physical id is derived from the inputs so a changed sandbox or spec reads as a replacement.
 */
export async function onIamRoleLookupEvent(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  // Nothing exists in AEP for a lookup: Delete never needs (or fails on) its properties.
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? event.LogicalResourceId };
  const props = event.ResourceProperties;
  const specId = requireString(props, IamRoleLookupProps.CONNECTION_SPEC_ID);
  const physicalId = `aep-iam-role:${requireString(props, CommonProps.SANDBOX_NAME).toLowerCase()}:${specId}`;

  const client = await AepClient.fromProps(props, invocation);
  const res = await client.request('GET', `/connectionSpecs/${encodeURIComponent(specId)}/configs`, {
    query: [['authType', 'IamBasedAuthentication']],
  });
  const role = (res.data as { configParams?: { IAMRole?: unknown } } | undefined)?.configParams?.IAMRole;
  if (typeof role !== 'string' || !IAM_ROLE_ARN.test(role)) {
    // A role ARN is not a secret, and quoting it is what makes the failure diagnosable.
    const quoted = JSON.stringify(role)?.slice(0, 300);
    throw new Error(
      `AEP returned ${role === undefined ? 'no configParams.IAMRole' : `${quoted} as configParams.IAMRole, which is not an IAM role ARN`} ` +
      `for connection spec ${specId} (GET /connectionSpecs/${specId}/configs?authType=IamBasedAuthentication)`,
    );
  }
  return { PhysicalResourceId: physicalId, Data: { [Attributes.IAM_ROLE_ARN]: role } };
}
