import * as crypto from 'crypto';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { suppressNag } from './nag';

/** Construct id prefix of the secret-read policies (the hash of their secrets follows). */
export const SECRET_READ_POLICY_PREFIX = 'SecretRead';

/** What `grantRead` adds besides GetSecretValue; the handler never calls it. */
const UNUSED_SECRET_ACTIONS = ['secretsmanager:DescribeSecret'];

/**
 * A principal that is `role` for IAM but puts every statement granted to it into `policy`, so
 * `secret.grantRead` (partial ARNs for secrets imported by name, resource policies across
 * accounts) lands in one dedicated policy instead of the role's default policy, narrowed to the
 * one action the handlers use (GetSecretValue).
 */
class PolicyRoutedPrincipal implements iam.IPrincipal {
  public readonly grantPrincipal: iam.IPrincipal = this;
  public readonly assumeRoleAction: string;
  public readonly principalAccount?: string;

  constructor(private readonly role: iam.IRole, private readonly policy: iam.Policy) {
    this.assumeRoleAction = role.assumeRoleAction;
    this.principalAccount = role.principalAccount;
  }

  public get policyFragment(): iam.PrincipalPolicyFragment {
    return this.role.policyFragment;
  }

  public addToPolicy(statement: iam.PolicyStatement): boolean {
    return this.addToPrincipalPolicy(statement).statementAdded;
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    const actions = statement.actions.filter((a) => !UNUSED_SECRET_ACTIONS.includes(a));
    this.policy.addStatements(actions.length === statement.actions.length ? statement : statement.copy({ actions }));
    return { statementAdded: true, policyDependable: this.policy };
  }
}

/**
 * What, besides its logical id, makes a secret created in this stack another physical secret: its
 * `Name` (CloudFormation replaces an AWS::SecretsManager::Secret whose Name changes, keeping the
 * logical id and so the `Ref` the policy names). Empty for an imported secret or one without a Name.
 */
function physicalIdentity(stack: Stack, secret: secretsmanager.ISecret): string {
  const cfn = secret.node.defaultChild;
  if (!(cfn instanceof secretsmanager.CfnSecret) || cfn.name === undefined) return '';
  return `\nName=${JSON.stringify(stack.resolve(cfn.name))}`;
}

/**
 * A secret's ARN as its stack's template spells it, resolved once per secret and stack: every
 * custom resource asks for its read policy, and resolving the sandbox credential's ARN again each
 * time was a measurable part of construct time (issue 19). The ARN of a secret never changes
 * after construction (a new name of an owned secret is behind the same `Ref`).
 */
function resolvedArn(stack: Stack, secret: secretsmanager.ISecret): string {
  const byStack = resolvedArns.get(secret) ?? new Map<Stack, string>();
  resolvedArns.set(secret, byStack);
  let arn = byStack.get(stack);
  if (arn === undefined) {
    arn = JSON.stringify(stack.resolve(secret.secretArn));
    byStack.set(stack, arn);
  }
  return arn;
}

const resolvedArns = new WeakMap<secretsmanager.ISecret, Map<Stack, string>>();

/**
 * The policy letting `role` read exactly `secrets`, one per distinct set of secrets in `scope`.
 *
 * Why a policy of its own whose construct id hashes the secrets: a resource that reads a secret
 * depends on this policy, so CloudFormation creates it first, and a changed set of secrets gives
 * a NEW logical id (a secret of this stack replaced under the same logical id, by a new Name,
 * counts as another secret: its ARN changes behind the same `Ref`). The old policy then leaves the stack and CloudFormation deletes it in the
 * cleanup phase in reverse dependency order of the old template, i.e. only after the old custom
 * resource (replaced or removed) was deleted with its old properties, which still name the old
 * secrets. A role's default policy would instead be updated in place before that Delete runs.
 *
 * Resources with the same set share one policy (the sandbox credential alone is the common case).
 */
export function secretReadPolicy(scope: Construct, role: iam.IRole, secrets: secretsmanager.ISecret[]): iam.Policy {
  const stack = Stack.of(scope);
  const byArn = new Map<string, secretsmanager.ISecret>();
  for (const secret of secrets) byArn.set(resolvedArn(stack, secret), secret);
  const arns = [...byArn.keys()].sort();
  const identities = arns.map((arn) => arn + physicalIdentity(stack, byArn.get(arn)!));
  const hash = crypto.createHash('sha256').update(identities.join('\n')).digest('hex').substring(0, 8).toUpperCase();
  const id = `${SECRET_READ_POLICY_PREFIX}${hash}`;
  const existing = scope.node.tryFindChild(id) as iam.Policy | undefined;
  if (existing) return existing;

  const policy = new iam.Policy(scope, id, { roles: [role] });
  const principal = new PolicyRoutedPrincipal(role, policy);
  for (const arn of arns) {
    const secret = byArn.get(arn)!;
    // grantRead would hand the KMS half to a ViaServicePrincipal, which lands in the key's own
    // policy (updated in place, like a default policy) or nowhere for an imported key. Grant
    // the secret without its key, then Decrypt through Secrets Manager in this same policy.
    const withoutKey = Object.create(secret, { encryptionKey: { value: undefined } }) as secretsmanager.ISecret;
    withoutKey.grantRead(principal);
    if (secret.encryptionKey) {
      policy.addStatements(new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [secret.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(secret).region}.amazonaws.com` } },
      }));
    }
  }
  const resolved = JSON.stringify(stack.resolve(policy.document));
  if (/[*?]/.test(resolved)) {
    suppressNag(policy, [{
      id: 'AwsSolutions-IAM5',
      reason: 'Secrets imported by name are matched by their partial ARN plus Secrets Manager\'s 6-character suffix (-??????), the narrowest ARN known at synth time.',
    }]);
  }
  return policy;
}
