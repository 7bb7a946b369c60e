import { Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** First segment of the name of every secret the library creates. */
export const OWNED_SECRET_ROOT = 'cdk-aep-s3';

/** Secrets created through {@link ownedSecret}, i.e. named under their stack's prefix. */
const owned = new WeakSet<secretsmanager.ISecret>();

/**
 * `cdk-aep-s3/<stack name>/`: the name prefix of the secrets the library creates in `stack`.
 * Stack names are unique per account and region, so no other stack's secrets share it; a token
 * (nested stack) renders as `Ref AWS::StackName`, which CloudFormation resolves the same way in
 * the secret's name and in the handler's grant.
 */
export function ownedSecretPrefix(stack: Stack): string {
  return `${OWNED_SECRET_ROOT}/${stack.stackName}/`;
}

/** Properties of {@link ownedSecret}: a secret of the library, encrypted with Secrets Manager's own key. */
export interface OwnedSecretProps {
  readonly description: string;
  readonly secretObjectValue: secretsmanager.SecretProps['secretObjectValue'];
}

/**
 * A secret the library creates, named `cdk-aep-s3/<stack name>/<logical id>`.
 *
 * Why a name: the handler role reads every such secret through ONE constant statement on the
 * prefix (see `AepProvider`), instead of a policy resource per connection. The statement never
 * changes while the stack exists, so it outlives every event that reads one of these secrets,
 * including the cleanup Delete of a removed connection. The last segment is the logical id:
 * renaming the construct replaces the secret either way, and no other property change replaces
 * it. CloudFormation deletes secrets without a recovery window, so a removed and re-added
 * construct can take its name again, except after a RETAIN removal (the old secret keeps it).
 */
export function ownedSecret(scope: Construct, id: string, props: OwnedSecretProps): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, {
    description: props.description,
    secretObjectValue: props.secretObjectValue,
  });
  // The logical id: unique in the stack, stable, and the name a reader finds in the template.
  const cfn = secret.node.defaultChild as secretsmanager.CfnSecret;
  const stack = Stack.of(secret);
  cfn.name = `${ownedSecretPrefix(stack)}${stack.getLogicalId(cfn)}`;
  owned.add(secret);
  return secret;
}

/** True when `secret` was created by {@link ownedSecret} in `stack` (and so is under its prefix). */
export function isOwnedSecretOf(secret: secretsmanager.ISecret, stack: Stack): boolean {
  return owned.has(secret) && Stack.of(secret) === stack;
}
