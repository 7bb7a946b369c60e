import { Aws, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** First segment of the name of every secret the library creates. */
export const OWNED_SECRET_ROOT = 'cdk-aep-s3';

/** Secrets created through {@link ownedSecret}, i.e. named under their stack's prefix. */
const owned = new WeakSet<secretsmanager.ISecret>();

/**
 * Tag every library-made secret carries, valued with the id of the stack deployment that made it
 * (`AWS::StackId`): the handler's prefix grant requires it, so a secret under the prefix that this
 * deployment did not make (created by hand, or left by a RETAIN of an earlier stack of the same
 * name, whose id differs) is not readable.
 */
export const OWNED_SECRET_OWNER_TAG = 'cdk-aep-s3:owner';

/**
 * `cdk-aep-s3/<deployed stack name>/`: the name prefix of the secrets the library creates in a
 * stack. The name is `Ref AWS::StackName`, resolved by CloudFormation the same way in the secret's
 * name and in the handler's grant: one template deployed under several names (`--stack-name`,
 * per-tenant copies, Service Catalog) gives each copy its own prefix, where a name written at
 * synth would give them all the same one. Stack names are unique per account and region.
 */
export function ownedSecretPrefix(): string {
  return `${OWNED_SECRET_ROOT}/${Aws.STACK_NAME}/`;
}

/** Properties of {@link ownedSecret}: a secret of the library, encrypted with Secrets Manager's own key. */
export interface OwnedSecretProps {
  readonly description: string;
  readonly secretObjectValue: secretsmanager.SecretProps['secretObjectValue'];
  /**
   * A deploy-time value unique to what the secret holds (the access key id, the role's id),
   * appended to the name: a new key or role gets a new secret, and a secret a RETAIN removal left
   * behind never blocks the name of its successor. Never something confidential: the name is in
   * the ARN every custom resource receives.
   */
  readonly uniqueSuffix: string;
}

/**
 * A secret the library creates, named `cdk-aep-s3/<deployed stack name>/<logical id>-<unique suffix>`
 * and tagged {@link OWNED_SECRET_OWNER_TAG} with the deployment's stack id.
 *
 * Why a name: the handler role reads every such secret through ONE constant statement on the
 * prefix (see `AepProvider`), instead of a policy resource per connection. The statement never
 * changes while the stack exists, so it outlives every event that reads one of these secrets,
 * including the cleanup Delete of a removed connection. The last segment is the logical id plus
 * a deploy-time suffix unique to the content (a rotated key gets a new secret, created before
 * the connection moves to it and deleted in cleanup after), so a secret kept by a RETAIN
 * removal never collides with the one a re-added construct creates.
 */
export function ownedSecret(scope: Construct, id: string, props: OwnedSecretProps): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, {
    description: props.description,
    secretObjectValue: props.secretObjectValue,
  });
  // The logical id: unique in the stack, stable, and the name a reader finds in the template.
  const cfn = secret.node.defaultChild as secretsmanager.CfnSecret;
  const stack = Stack.of(secret);
  cfn.name = `${ownedSecretPrefix()}${stack.getLogicalId(cfn)}-${props.uniqueSuffix}`;
  // Above any `Tags.of(...)` an app applies (priority 100 by default): the grant depends on it.
  cfn.tags.setTag(OWNED_SECRET_OWNER_TAG, Aws.STACK_ID, 1000);
  owned.add(secret);
  return secret;
}

/** True when `secret` was created by {@link ownedSecret} in `stack` (and so is under its prefix). */
export function isOwnedSecretOf(secret: secretsmanager.ISecret, stack: Stack): boolean {
  return owned.has(secret) && Stack.of(secret) === stack;
}
