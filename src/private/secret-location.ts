import { Stack, Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { invalid } from './validation';

/**
 * Checks at synth time that the handler of `scope`'s stack can read `secret`, and says what to do
 * otherwise: the handler calls Secrets Manager in its own region and is granted access in its own
 * account. Unknown regions or accounts (environment-agnostic stacks, token ARNs) are not checked.
 *
 * @param property the prop that names the secret, for the message
 * @param what what the secret holds ("the AEP credential"), for the fix
 */
export function checkSecretReadableFrom(scope: IConstruct, secret: secretsmanager.ISecret, property: string, what: string): void {
  const stack = Stack.of(scope);
  const known = (v: string) => !Token.isUnresolved(v);
  const where = secret.env;
  if (known(where.region) && known(stack.region) && where.region !== stack.region) {
    invalid(property, secret.secretArn,
      `is a secret in region ${where.region}, but stack ${stack.stackName} deploys to ${stack.region} and its handler reads `
      + `secrets in its own region: replicate the secret to ${stack.region} (Secrets Manager replica regions) and pass the `
      + 'replica\'s ARN, or deploy the stack to the secret\'s region');
  }
  if (known(where.account) && known(stack.account) && where.account !== stack.account) {
    // CDK's grant of kms:Decrypt for a secret's key goes to the key policy, which an imported key
    // (the only kind another account's secret can have here) ignores: the handler could not
    // decrypt. Say so now rather than fail the first deployment.
    invalid(property, secret.secretArn,
      `is a secret in account ${where.account}, but stack ${stack.stackName} deploys to account ${stack.account} and its `
      + `handler reads secrets of its own account: store ${what} in a secret of account ${stack.account} `
      + `(region ${stack.region}) and pass that`);
  }
}
