import { CustomResource } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AepIds, Attributes, IamRoleLookupProps, ResourceTypes } from './contract';
import { AepProvider } from './provider';
import type { AepSandbox } from '../aep-sandbox';

/** Properties of {@link AepIamRoleLookup}. */
export interface AepIamRoleLookupProps {
  /** Sandbox (credential, name, endpoints) whose AEP configs are read. */
  readonly sandbox: AepSandbox;
}

/**
 * Reads the IAM role Experience Platform on AWS uses to read S3 sources
 * (`GET /connectionSpecs/{S3 source}/configs?authType=IamBasedAuthentication`).
 *
 * A custom resource rather than a synth-time context lookup: the value may differ per org and
 * sandbox, and the API credential lives in Secrets Manager, out of reach of `cdk synth`.
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
    this.resource = AepProvider.of(this).addResource(this, 'Resource', {
      resourceType: ResourceTypes.IAM_ROLE_LOOKUP,
      sandbox: props.sandbox,
      properties: {
        [IamRoleLookupProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
      },
    });
    this.roleArn = this.resource.getAttString(Attributes.IAM_ROLE_ARN);
  }
}
