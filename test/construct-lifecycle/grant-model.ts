import { deploymentOrder, resolve } from '../../offline-world/cloudformation/intrinsics';
import { CommonProps, ConnectionProps, RemovalPolicies, TargetConnectionProps } from '../../src/private/contract';

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
 * the auth secret); the model checks that an IAM policy live at that moment, inline on the handler
 * role or a policy resource attached to it, allows `secretsmanager:GetSecretValue` on it.
 */

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
const SUFFIX = 'AbCdEf';
/** The stack every scenario synthesizes. */
const STACK_NAME = 'Grants';

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
  /** Secret ARNs the event reads that no live policy of the handler role lets it read. */
  readonly denied: string[];
}

type Resources = Record<string, any>;

/** Runs an update from `oldT` to `newT` (then optionally deletes the stack) and checks every AEP event. */
export function checkUpdate(oldT: any, newT: any): GrantCheck[] {
  const all: Resources = { ...oldT.Resources, ...newT.Resources };
  const live = new Map<string, any>(Object.entries(oldT.Resources));
  const checks: GrantCheck[] = [];
  const event = (phase: GrantCheck['phase'], logicalId: string, requestType: GrantCheck['requestType'], def: any) => {
    if (!String(def.Type).startsWith('Custom::Aep')) return;
    checks.push({ phase, logicalId, requestType, denied: denied(live, all, requestType, resolveProps(def, all)) });
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
      const oldProps = resolveProps(current, all);
      const newProps = resolveProps(next, all);
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
  return checks;
}

/** Deletes the whole stack (reverse dependency order) and checks every AEP event. */
export function checkStackDelete(t: any): GrantCheck[] {
  const live = new Map<string, any>(Object.entries(t.Resources));
  const checks: GrantCheck[] = [];
  for (const id of deploymentOrder(t.Resources).reverse()) {
    const def = t.Resources[id];
    if (String(def.Type).startsWith('Custom::Aep')) {
      checks.push({ phase: 'delete', logicalId: id, requestType: 'Delete', denied: denied(live, t.Resources, 'Delete', resolveProps(def, t.Resources)) });
    }
    live.delete(id);
  }
  return checks;
}

function denied(live: Map<string, any>, all: Resources, requestType: string, props: any): string[] {
  // A retained connection's Delete never calls AEP (src/handler/flow-resource.ts), so it needs no secret.
  if (requestType === 'Delete' && props[ConnectionProps.REMOVAL_POLICY] === RemovalPolicies.RETAIN) return [];
  const needed = [props[CommonProps.CREDENTIALS_SECRET_ARN]];
  if (requestType !== 'Delete' && props[ConnectionProps.AUTH_SECRET_ARN]) needed.push(props[ConnectionProps.AUTH_SECRET_ARN]);
  const roleId = handlerRoleId(all);
  const documents: any[] = [];
  for (const [id, def] of live.entries()) {
    // The role's own inline policies, as live as the role itself.
    if (id === roleId) documents.push(...(def.Properties.Policies ?? []).map((p: any) => p.PolicyDocument));
    if (def.Type !== 'AWS::IAM::Policy') continue;
    const roles = resolve(def.Properties.Roles ?? [], context(all)) as string[];
    if (roles.includes(roleId)) documents.push(def.Properties.PolicyDocument);
  }
  const allowed: string[] = [];
  for (const document of documents) {
    const doc = resolve(document, context(all)) as any;
    for (const s of doc.Statement) {
      if (s.Effect !== 'Allow' || s.Condition) continue;
      if (![s.Action].flat().includes('secretsmanager:GetSecretValue')) continue;
      allowed.push(...[s.Resource].flat());
    }
  }
  return needed.map(fullArn).filter((arn) => !allowed.some((pattern) => iamMatch(pattern, arn)));
}

function handlerRoleId(all: Resources): string {
  const ids = Object.keys(all).filter((id) => all[id].Type === 'AWS::IAM::Role' && id.startsWith('CdkAepS3ProviderHandlerRole'));
  if (ids.length !== 1) throw new Error(`model: expected one handler role, found ${ids.join(', ')}`);
  return ids[0];
}

function resolveProps(def: any, all: Resources): any {
  return resolve(def.Properties ?? {}, context(all));
}

/** Secrets get full ARNs (with Secrets Manager's 6-character suffix); other Refs resolve to the logical id. */
function context(all: Resources) {
  return {
    ref(id: string): string {
      switch (id) {
        case 'AWS::Partition': return 'aws';
        case 'AWS::Region': return REGION;
        case 'AWS::AccountId': return ACCOUNT;
        case 'AWS::URLSuffix': return 'amazonaws.com';
        case 'AWS::StackName': return STACK_NAME;
      }
      // Secrets Manager names the ARN after the secret's Name; without one, CloudFormation
      // generates a name from the logical id.
      if (all[id]?.Type === 'AWS::SecretsManager::Secret') {
        const name = resolve(all[id].Properties?.Name ?? id, context(all)) as string;
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${SUFFIX}`;
      }
      return id;
    },
    getAtt(id: string, attr: string): string {
      return `${id}.${attr}`;
    },
  };
}

/** A secret imported by name is referenced by its partial ARN; IAM sees the full one. */
function fullArn(arn: string): string {
  return /-[A-Za-z0-9]{6}$/.test(arn) ? arn : `${arn}-${SUFFIX}`;
}

/** IAM resource matching: `*` any run of characters, `?` exactly one. */
export function iamMatch(pattern: string, arn: string): boolean {
  const re = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${re}$`).test(arn);
}
