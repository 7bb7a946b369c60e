import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IDependable } from 'constructs';
import type { KeyWatchBinding } from './key-watch';
import { S3GrantSpec } from './s3-scope';

/**
 * What a destination hands its auth when binding it. Internal: the public `S3DestinationAuth`
 * only exposes factories, so the binding can evolve without a breaking change.
 */
export interface DestinationAuthBindOptions {
  /** The folder, bucket and key AEP must be able to write to. */
  readonly grant: S3GrantSpec;
  /** Description of any secret the auth creates. */
  readonly secretDescription: string;
  /** The sandbox's IMS org id, when known (the default org an assumed role trusts). */
  readonly sandboxImsOrgId?: string;
}

/** What the destination needs back to register the base connection. */
export interface DestinationAuthBinding {
  /** AEP auth spec name (`Access Key`, `Assumed Role`). */
  readonly authSpecName: string;
  /** Non-secret auth params (inline in the template). */
  readonly authParams?: { [param: string]: string };
  /** Secret holding the secret auth params. */
  readonly authSecret?: secretsmanager.ISecret;
  /** `{ aepParam: jsonKeyInSecret }`. */
  readonly authSecretFields?: { [param: string]: string };
  /** Changes whenever the credential changes. */
  readonly changeToken?: string;
  /** Probe the AWS key with STS before registering it. */
  readonly verifyAwsKey: boolean;
  /** The principal AEP acts as, when the library knows it. */
  readonly grantee?: iam.IGrantable;
  /** The IAM user, for key-based auth. */
  readonly user?: iam.IUser;
  /** The IAM role, for the assumed-role auth. */
  readonly role?: iam.IRole;
  /** The IMS org id the role's trust requires as `sts:ExternalId` (the deploy checks the credential's org against it). */
  readonly trustedImsOrgId?: string;
  /** Where the key lives, when there is a key. */
  readonly credentialsSecret?: secretsmanager.ISecret;
  /** Must exist before AEP is told about the credential (AEP may test it right away). */
  readonly dependables: IDependable[];
  /** Set when the library made the key and the user asked for its age alarm or rotation. */
  readonly keyWatch?: KeyWatchBinding;
}
