import { CustomResource } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AepIds, Attributes, IamRoleLookupProps, ResourceTypes } from './contract';
import { AepProvider, CUSTOM_RESOURCE_SERVICE_TIMEOUT } from './provider';
import { sandboxProperties } from './sandbox-properties';
import type { AepSandbox } from '../aep-sandbox';

/** Properties of {@link AepIamRoleLookup}. */
export interface AepIamRoleLookupProps {
  /** Sandbox (credential, name, endpoints) whose AEP configs are read. */
  readonly sandbox: AepSandbox;
}

/**
 * Reads the IAM role Experience Platform on AWS uses to read S3 sources
 * (`GET /connectionSpecs/{S3 source}/configs?authType=IamBasedAuthentication`, API-NOTES §4.2).
 *
 * A custom resource rather than a synth-time context lookup: the value may differ per org and
 * sandbox (§9.6), and the API credential lives in Secrets Manager, out of reach of `cdk synth`.
 * The handler validates the returned value as a role ARN, so a surprising answer fails the
 * deployment before any bucket policy names it.
 */
export class AepIamRoleLookup extends Construct {
  /** The role ARN (a `Fn::GetAtt` token). */
  public readonly roleArn: string;
  /** The custom resource. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: AepIamRoleLookupProps) {
    super(scope, id);
    const provider = AepProvider.of(this);
    const grant = provider.grantSecretRead(props.sandbox.credentials);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: ResourceTypes.IAM_ROLE_LOOKUP,
      serviceTimeout: CUSTOM_RESOURCE_SERVICE_TIMEOUT,
      properties: {
        ...sandboxProperties(props.sandbox),
        [IamRoleLookupProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
      },
    });
    // The handler reads the API credential on its first call.
    grant.applyBefore(this.resource);
    this.roleArn = this.resource.getAttString(Attributes.IAM_ROLE_ARN);
  }
}
