import { createHash } from 'crypto';
import { CustomResource, SecretValue, Stack, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ACCESS_KEY_CLEANUP_TAG, AccessKeyCleanupProps, CommonProps, CONTRACT_VERSION, ResourceTypes } from './contract';
import { suppressNag } from './nag';
import { ownedSecret } from './owned-secret';
import { AepProvider, CUSTOM_RESOURCE_SERVICE_TIMEOUT } from './provider';

/** JSON keys of the access-key secrets this library writes (and reads by default). */
export const ACCESS_KEY_FIELDS = {
  ACCESS_KEY_ID: 'accessKeyId',
  SECRET_ACCESS_KEY: 'secretAccessKey',
} as const;

/** The AEP `Access Key` params (source and destination) read from an access-key secret. */
export function accessKeyAuthFields(
  idField: string = ACCESS_KEY_FIELDS.ACCESS_KEY_ID, secretField: string = ACCESS_KEY_FIELDS.SECRET_ACCESS_KEY,
): { [param: string]: string } {
  return { s3AccessKey: idField, s3SecretKey: secretField };
}

/** Options of {@link ManagedAccessKey}. */
export interface ManagedAccessKeyProps {
  /** Bump to rotate: CloudFormation creates the new key, AEP is patched, then the old key goes. */
  readonly serial?: number;
  /** Description of the secret. */
  readonly description: string;
  /**
   * Delete the keys made outside CloudFormation (scheduled rotation) before the user is deleted.
   * Set with `keyLifecycle`: without it no key is made outside the stack, and each plain
   * access-key connection keeps its 4 resources.
   */
  readonly cleanupKeys?: boolean;
}

/**
 * An IAM user for AEP with one access key whose id and secret live in a Secrets Manager secret.
 *
 * The secret access key reaches Secrets Manager through `Fn::GetAtt` and never appears in the
 * template; the access key id (not secret) is the change token that makes a rotation an update.
 * CloudFormation replaces an `AWS::IAM::AccessKey` when its serial changes and deletes the old
 * key only in the cleanup phase, i.e. after the AEP connection was patched with the new one.
 */
export class ManagedAccessKey extends Construct {
  public readonly user: iam.User;
  public readonly secret: secretsmanager.Secret;
  /** Non-secret access key id, used as the connection's change token. */
  public readonly accessKeyId: string;

  constructor(scope: Construct, id: string, props: ManagedAccessKeyProps) {
    super(scope, id);
    this.user = new iam.User(this, 'User');
    const key = new iam.CfnAccessKey(this, 'AccessKey', {
      userName: this.user.userName,
      serial: props.serial,
      status: 'Active',
    });
    if (props.cleanupKeys) {
      Tags.of(this.user).add(ACCESS_KEY_CLEANUP_TAG.KEY, ACCESS_KEY_CLEANUP_TAG.VALUE);
      // The key (and the AEP connection, reading the key's secret) is deleted before the cleanup
      // runs: the cleanup finds only the keys made outside CloudFormation.
      key.node.addDependency(accessKeyCleanup(this, this.user));
    }
    this.accessKeyId = key.ref;
    this.secret = ownedSecret(this, 'Secret', {
      description: props.description,
      // The key id: not secret (it is the change token too), new with every rotation.
      uniqueSuffix: key.ref,
      secretObjectValue: {
        [ACCESS_KEY_FIELDS.ACCESS_KEY_ID]: SecretValue.unsafePlainText(key.ref),
        [ACCESS_KEY_FIELDS.SECRET_ACCESS_KEY]: SecretValue.resourceAttribute(key.attrSecretAccessKey),
      },
    });
    suppressNag(this.secret, [
      { id: 'AwsSolutions-SMG4', reason: 'The secret holds an IAM access key rotated by bumping `serial` (a CloudFormation update that also re-registers the key with AEP); Secrets Manager rotation would desynchronise AEP.' },
    ]);
  }
}

/**
 * The custom resource that deletes the user's remaining access keys right before CloudFormation
 * deletes the user: a scheduled rotation makes keys outside CloudFormation, and IAM refuses to
 * delete a user that still has one (`DeleteConflict`), which would leave the stack DELETE_FAILED.
 * Its Delete acts only while the user carries the cleanup tag (see the handler's
 * `onAccessKeyCleanupEvent`). The handler may read the tags and list and delete the keys of this
 * user only, by a policy created before the resource and deleted after its Delete.
 */
function accessKeyCleanup(scope: Construct, user: iam.User): CustomResource {
  const provider = AepProvider.of(scope);
  // Under the provider, not `scope`: a RETAIN of the construct retains the user, its key and the
  // cleanup resource (which then gets no Delete, so AEP keeps its key), but a grant left on a
  // deleted role would be an orphan. Named after the construct's path, stable across deploys.
  const path = scope.node.path.slice(Stack.of(scope).node.path.length + 1);
  const grantId = `KeyCleanup${path.replace(/[^A-Za-z0-9]/g, '').slice(0, 80)}${createHash('sha256').update(path).digest('hex').slice(0, 8)}`;
  const grant = new iam.Policy(provider, grantId, {
    roles: [provider.role],
    statements: [new iam.PolicyStatement({ actions: ['iam:ListUserTags', 'iam:ListAccessKeys', 'iam:DeleteAccessKey'], resources: [user.userArn] })],
  });
  const cleanup = new CustomResource(scope, 'KeyCleanup', {
    serviceToken: provider.serviceToken,
    resourceType: ResourceTypes.ACCESS_KEY_CLEANUP,
    serviceTimeout: CUSTOM_RESOURCE_SERVICE_TIMEOUT,
    properties: { [CommonProps.CONTRACT_VERSION]: CONTRACT_VERSION, [AccessKeyCleanupProps.USER_NAME]: user.userName },
  });
  cleanup.node.addDependency(grant);
  return cleanup;
}
