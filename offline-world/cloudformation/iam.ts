import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { LiveResource } from './model';
import type { AuthorizationDecision, AuthorizationRequest } from '../stand-in/aws';

/** IAM: every AWS call a simulated function makes, decided against the policies of the account. */

/**
 * Evaluates one AWS call against the policies live NOW in the account (every simulator sharing
 * this AWS stand-in: IAM names are account-wide), with the request's context keys (a secret's
 * tags as `aws:ResourceTag/<key>`, from the stand-in): for a role session, the role's inline
 * `Policies`, the AWS::IAM::Policy / ManagedPolicy resources attached to it; for an IAM user
 * (or its session), the same for the user and its groups; the resource policy of a Secrets
 * Manager secret when the stack has one. AWS-managed policy ARNs are not modelled (the stack's
 * functions use AWSLambdaBasicExecutionRole, which grants CloudWatch Logs only).
 */
export async function authorize(request: AuthorizationRequest, account: string, live: LiveResource[]): Promise<AuthorizationDecision> {
  const role = /:assumed-role\/([^/]+)\//.exec(request.principalArn)?.[1];
  const user = /:user\/(?:.*\/)?([^/]+)$/.exec(request.principalArn)?.[1];
  const attached = (r: LiveResource, key: 'Roles' | 'Users' | 'Groups', name: string) => (r.properties[key] ?? []).includes(name);
  const policies: any[] = [];
  let principal: string;
  if (role) {
    const roleRes = live.find((r) => r.type === 'AWS::IAM::Role' && r.physicalId === role);
    if (!roleRes) return 'denied';
    principal = `arn:aws:sts::${account}:assumed-role/${role}/${request.principalArn.split('/').pop()}`;
    policies.push(...(roleRes.properties.Policies ?? []).map((p: any) => p.PolicyDocument));
    policies.push(...live.filter((r) => r.type === 'AWS::IAM::Policy' && attached(r, 'Roles', role)).map((r) => r.properties.PolicyDocument));
    policies.push(...live.filter((r) => r.type === 'AWS::IAM::ManagedPolicy' && (attached(r, 'Roles', role)
      || (roleRes.properties.ManagedPolicyArns ?? []).includes(r.physicalId))).map((r) => r.properties.PolicyDocument));
  } else if (user) {
    const userRes = live.find((r) => r.type === 'AWS::IAM::User' && r.physicalId === user);
    if (!userRes) return 'denied';
    principal = `arn:aws:iam::${account}:user/${user}`;
    const groups: string[] = userRes.properties.Groups ?? [];
    policies.push(...(userRes.properties.Policies ?? []).map((p: any) => p.PolicyDocument));
    for (const g of live.filter((r) => r.type === 'AWS::IAM::Group' && groups.includes(r.physicalId))) {
      policies.push(...(g.properties.Policies ?? []).map((p: any) => p.PolicyDocument));
    }
    policies.push(...live.filter((r) => (r.type === 'AWS::IAM::Policy' || r.type === 'AWS::IAM::ManagedPolicy')
      && (attached(r, 'Users', user) || groups.some((g) => attached(r, 'Groups', g)))).map((r) => r.properties.PolicyDocument));
  } else {
    return 'denied';
  }
  const resourcePolicy = live.find((r) => r.type === 'AWS::SecretsManager::ResourcePolicy' && r.properties.SecretId === request.resourceArn)?.properties.ResourcePolicy;
  const accountId = request.resourceArn.split(':')[4] || account;
  const result = await runSimulation({
    request: { principal, action: request.action, resource: { resource: request.resourceArn, accountId }, contextVariables: request.context },
    identityPolicies: policies.map((policy, i) => ({ name: `p${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy,
  }, { simulationMode: 'Strict' });
  if (result.resultType === 'error') throw new Error(`IAM simulation error for ${request.action}: ${JSON.stringify(result.errors)}`);
  const overall = result.overallResult;
  return overall === 'Allowed' ? 'allowed' : overall === 'ExplicitlyDenied' ? 'explicitly-denied' : 'denied';
}
