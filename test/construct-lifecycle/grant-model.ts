import { runSimulation } from '@cloud-copilot/iam-simulate';
import { deploymentOrder, resolve } from '../../offline-world/cloudformation/intrinsics';
import { AccessKeyCleanupProps, CommonProps, ConnectionProps, RemovalPolicies, TargetConnectionProps } from '../../src/private/contract';

/**
 * A small model of what the custom-resource handler may read at each CloudFormation event of a
 * stack update, from the templates alone (the offline CloudFormation simulator runs the handler
 * but does not evaluate IAM; this model evaluates IAM but runs no handler).
 *
 * CloudFormation update, as documented: in the new template's dependency order it creates new
 * resources and updates changed ones (a custom resource whose handler returns a new physical id
 * is replaced); then, in the cleanup phase, it deletes the replaced physical resources (Delete
 * with their OLD properties) and the removed resources, in reverse dependency order of the OLD
 * template. Each AEP custom-resource event reads the sandbox credential (and, for Create/Update,
 * the auth secret); the model checks that the IAM policies live at that moment, inline on the handler
 * role or policy resources attached to it, allow `secretsmanager:GetSecretValue` on it, evaluated
 * by @cloud-copilot/iam-simulate with the secret's tags (from the template) as
 * `aws:ResourceTag/<key>`. The access-key cleanup's Delete must be allowed `iam:ListUserTags`,
 * `iam:ListAccessKeys` and `iam:DeleteAccessKey` on its user (in `read`/`denied` as `<action> <user ARN>`). A template can be deployed under any stack name ({@link Deployment}).
 */

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
const SUFFIX = 'AbCdEf';

/** Where a template is deployed: CloudFormation resolves `AWS::StackName` / `AWS::StackId` to these. */
export interface Deployment {
  readonly stackName: string;
  readonly stackId: string;
}

/** The name the scenarios synthesize their stack with, deployed under that same name. */
export const DEFAULT_DEPLOYMENT: Deployment = deployment('Grants');

/** A deployment of a template under `stackName` (each call a new stack id, as each create is). */
export function deployment(stackName: string, uuid = '00000000-0000-4000-8000-000000000001'): Deployment {
  return { stackName, stackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stackName}/${uuid}` };
}

/** Both handlers replace on these (src/handler/connection.ts, target-connection.ts REPLACING_PROPS). */
const REPLACING = [
  CommonProps.SANDBOX_NAME,
  ConnectionProps.CONNECTION_SPEC_ID,
  ConnectionProps.AUTH_SPEC_NAME,
  TargetConnectionProps.BASE_CONNECTION_ID,
];

export interface GrantCheck {
  readonly phase: 'update' | 'cleanup' | 'delete';
  readonly logicalId: string;
  readonly requestType: 'Create' | 'Update' | 'Delete';
  /** Secret ARNs the event reads. */
  readonly read: string[];
  /** Secret ARNs the event reads that no live policy of the handler role lets it read. */
  readonly denied: string[];
}

type Resources = Record<string, any>;

/** Runs an update from `oldT` to `newT` (then optionally deletes the stack) and checks every AEP event. */
export async function checkUpdate(oldT: any, newT: any, where: Deployment = DEFAULT_DEPLOYMENT): Promise<GrantCheck[]> {
  const all: Resources = { ...oldT.Resources, ...newT.Resources };
  const live = new Map<string, any>(Object.entries(oldT.Resources));
  const pending: Array<Promise<GrantCheck>> = [];
  const event = (phase: GrantCheck['phase'], logicalId: string, requestType: GrantCheck['requestType'], def: any) => {
    if (!String(def.Type).startsWith('Custom::Aep')) return;
    // The policies live NOW (a copy: the walk goes on changing `live`).
    pending.push(check(new Map(live), all, where, { phase, logicalId, requestType }, resolveProps(def, all, where)));
  };

  const replaced: string[] = [];
  for (const id of deploymentOrder(newT.Resources)) {
    const next = newT.Resources[id];
    const current = live.get(id);
    if (!current) {
      live.set(id, next);
      event('update', id, 'Create', next);
    } else if (JSON.stringify(current) !== JSON.stringify(next)) {
      live.set(id, next);
      const oldProps = resolveProps(current, all, where);
      const newProps = resolveProps(next, all, where);
      if (String(next.Type).startsWith('Custom::')) {
        event('update', id, 'Update', next);
        if (REPLACING.some((p) => JSON.stringify(oldProps[p]) !== JSON.stringify(newProps[p]))) replaced.push(id);
      }
    }
  }
  const removed = Object.keys(oldT.Resources).filter((id) => !(id in newT.Resources));
  for (const id of deploymentOrder(oldT.Resources).reverse()) {
    if (replaced.includes(id)) event('cleanup', id, 'Delete', oldT.Resources[id]);
    if (removed.includes(id)) {
      event('cleanup', id, 'Delete', oldT.Resources[id]);
      live.delete(id);
    }
  }
  return Promise.all(pending);
}

/** Deletes the whole stack (reverse dependency order) and checks every AEP event. */
export async function checkStackDelete(t: any, where: Deployment = DEFAULT_DEPLOYMENT): Promise<GrantCheck[]> {
  const live = new Map<string, any>(Object.entries(t.Resources));
  const pending: Array<Promise<GrantCheck>> = [];
  for (const id of deploymentOrder(t.Resources).reverse()) {
    const def = t.Resources[id];
    if (String(def.Type).startsWith('Custom::Aep')) {
      pending.push(check(new Map(live), t.Resources, where, { phase: 'delete', logicalId: id, requestType: 'Delete' }, resolveProps(def, t.Resources, where)));
    }
    live.delete(id);
  }
  return Promise.all(pending);
}

async function check(
  live: Map<string, any>, all: Resources, where: Deployment, event: Omit<GrantCheck, 'read' | 'denied'>, props: any,
): Promise<GrantCheck> {
  // A retained connection's Delete never calls AEP (src/handler/flow-resource.ts), so it needs no secret.
  if (event.requestType === 'Delete' && props[ConnectionProps.REMOVAL_POLICY] === RemovalPolicies.RETAIN) return { ...event, read: [], denied: [] };
  const cleanupUser = props[AccessKeyCleanupProps.USER_NAME];
  // The access-key cleanup reads no secret; only its Delete calls IAM (the user's tags, then its keys).
  if (cleanupUser !== undefined && event.requestType !== 'Delete') return { ...event, read: [], denied: [] };
  const needed = cleanupUser !== undefined ? [] : [props[CommonProps.CREDENTIALS_SECRET_ARN]];
  if (cleanupUser === undefined && event.requestType !== 'Delete' && props[ConnectionProps.AUTH_SECRET_ARN]) needed.push(props[ConnectionProps.AUTH_SECRET_ARN]);
  const roleId = handlerRoleId(all);
  const documents: any[] = [];
  for (const [id, def] of live.entries()) {
    // The role's own inline policies, as live as the role itself.
    if (id === roleId) documents.push(...(def.Properties.Policies ?? []).map((p: any) => p.PolicyDocument));
    if (def.Type !== 'AWS::IAM::Policy') continue;
    const roles = resolve(def.Properties.Roles ?? [], context(all, where)) as string[];
    if (roles.includes(roleId)) documents.push(def.Properties.PolicyDocument);
  }
  const policies = documents.map((d, i) => ({ name: `p${i}`, policy: resolve(d, context(all, where)) }));
  const read = needed.map(fullArn);
  const denied: string[] = [];
  for (const arn of read) {
    if (!(await allowed(policies, arn, tagsOf(all, where, arn)))) denied.push(arn);
  }
  if (cleanupUser !== undefined) {
    const userArn = `arn:aws:iam::${ACCOUNT}:user/${cleanupUser}`;
    for (const action of ['iam:ListUserTags', 'iam:ListAccessKeys', 'iam:DeleteAccessKey']) {
      read.push(`${action} ${userArn}`);
      if (!(await allowed(policies, userArn, {}, action))) denied.push(`${action} ${userArn}`);
    }
  }
  return { ...event, read, denied };
}

/** IAM's decision on `action` (GetSecretValue by default) of `arn` (tagged `tags`) by the handler role with `policies`. */
async function allowed(policies: Array<{ name: string; policy: any }>, arn: string, tags: Record<string, string>, action = 'secretsmanager:GetSecretValue'): Promise<boolean> {
  const contextVariables: Record<string, string> = { 'aws:SecureTransport': 'true' };
  for (const [k, v] of Object.entries(tags)) contextVariables[`aws:ResourceTag/${k}`] = v;
  const result = await runSimulation({
    request: {
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/handler-role/handler`,
      action,
      resource: { resource: arn, accountId: arn.split(':')[4] },
      contextVariables,
    },
    identityPolicies: policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  }, { simulationMode: 'Strict' });
  if (result.resultType === 'error') throw new Error(`model: IAM simulation error: ${JSON.stringify(result.errors)}`);
  return result.overallResult === 'Allowed';
}

/** The tags of the template's secret whose ARN is `arn` (none for a secret made outside the stack). */
function tagsOf(all: Resources, where: Deployment, arn: string): Record<string, string> {
  for (const [id, def] of Object.entries(all)) {
    if (def.Type !== 'AWS::SecretsManager::Secret' || context(all, where).ref(id) !== arn) continue;
    const tags = resolve(def.Properties?.Tags ?? [], context(all, where)) as Array<{ Key: string; Value: string }>;
    return Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
  }
  return {};
}

function handlerRoleId(all: Resources): string {
  const ids = Object.keys(all).filter((id) => all[id].Type === 'AWS::IAM::Role' && id.startsWith('CdkAepS3ProviderHandlerRole'));
  if (ids.length !== 1) throw new Error(`model: expected one handler role, found ${ids.join(', ')}`);
  return ids[0];
}

function resolveProps(def: any, all: Resources, where: Deployment): any {
  return resolve(def.Properties ?? {}, context(all, where));
}

/** Secrets get full ARNs (with Secrets Manager's 6-character suffix); other Refs resolve to the logical id. */
function context(all: Resources, where: Deployment) {
  return {
    ref(id: string): string {
      switch (id) {
        case 'AWS::Partition': return 'aws';
        case 'AWS::Region': return REGION;
        case 'AWS::AccountId': return ACCOUNT;
        case 'AWS::URLSuffix': return 'amazonaws.com';
        case 'AWS::StackName': return where.stackName;
        case 'AWS::StackId': return where.stackId;
      }
      // Secrets Manager names the ARN after the secret's Name; without one, CloudFormation
      // generates a name from the logical id.
      if (all[id]?.Type === 'AWS::SecretsManager::Secret') {
        const name = resolve(all[id].Properties?.Name ?? id, context(all, where)) as string;
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${SUFFIX}`;
      }
      return id;
    },
    getAtt(id: string, attr: string): string {
      // A user's name is its logical id here (Ref above), so its ARN follows from it.
      if (all[id]?.Type === 'AWS::IAM::User' && attr === 'Arn') return `arn:aws:iam::${ACCOUNT}:user/${id}`;
      return `${id}.${attr}`;
    },
  };
}

/** A secret imported by name is referenced by its partial ARN; IAM sees the full one. */
function fullArn(arn: string): string {
  return /-[A-Za-z0-9]{6}$/.test(arn) ? arn : `${arn}-${SUFFIX}`;
}
