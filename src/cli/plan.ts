/**
 * `cdk-aep-s3 plan`: what the handler will do in AEP when a synthesized app is deployed over what
 * is deployed now. Decides with the same pure functions as the handler (src/decisions), never
 * with the HTTP performers; reads AEP (when a sandbox and credential are given) only to list the
 * objects the stacks own, by marker.
 */
import { existsSync, readFileSync, statSync } from 'fs';
import { basename, join } from 'path';
import { CloudFormationClient, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { AepClient } from '../aep/aep-client';
import { readAepCredentials } from '../aws/secrets';
import { decideChange, PLANNED_TYPES, type PlannedChange } from '../decisions/change';
import type { FlowItem } from '../decisions/decision';
import { loadConfig, startInvocation } from '../plumbing/config';
import { errorMessage, registerSecret } from '../plumbing/log';
import { type RawProps } from '../plumbing/props';
import { DEFAULT_IMS_SCOPES, parseMarker } from '../private/contract';

/** Exit codes a pipeline gates on. */
export const PlanExitCodes = {
  /** Nothing replaced or deleted in AEP. */
  OK: 0,
  /** At least one AEP object is replaced or deleted. */
  DESTRUCTIVE: 1,
  USAGE: 2,
  /** An input (cdk.out, template) could not be read. */
  INPUT: 3,
} as const;

/** What `plan` was asked to do. */
export interface PlanOptions {
  /** cdk.out directory or one template file. */
  readonly app: string;
  /** Previous cdk.out or template; unset = CloudFormation GetTemplate (when a region is known). */
  readonly previous?: string;
  /** Stack name for a single template file (default: the file name without `.template.json`). */
  readonly stackName?: string;
  readonly region?: string;
  /** AEP sandbox to read live objects from; unset = AEP not read. */
  readonly sandbox?: string;
  readonly credentialsSecret?: string;
  readonly imsUrl?: string;
  readonly flowServiceUrl?: string;
  readonly json: boolean;
}

/** One AEP object's line in the plan. */
export interface PlanEntry extends PlannedChange {
  readonly stack: string;
  readonly logicalId: string;
  /** The construct path (`aws:cdk:path`), when the template carries it. */
  readonly path?: string;
  readonly resourceType: string;
  /** The live object's id, when AEP was read and it exists. */
  readonly aepId?: string;
}

/** The whole plan. */
export interface PlanReport {
  readonly entries: PlanEntry[];
  /** What the plan could not see, in sentences. */
  readonly notSeen: string[];
  readonly exitCode: number;
}

interface Template {
  readonly Resources?: Record<string, { Type?: string; Properties?: RawProps; Metadata?: Record<string, unknown> }>;
}

/** Stack name → template. */
type Templates = Map<string, Template>;

/** Reads a cdk.out directory (its manifest's stacks) or one template file. */
export function loadTemplates(path: string, stackName?: string): Templates {
  const out: Templates = new Map();
  if (statSync(path).isDirectory()) {
    const manifest = JSON.parse(readFileSync(join(path, 'manifest.json'), 'utf8')) as {
      artifacts?: Record<string, { type?: string; properties?: { templateFile?: string; stackName?: string } }>;
    };
    for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
      if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
      out.set(artifact.properties.stackName ?? id, JSON.parse(readFileSync(join(path, artifact.properties.templateFile), 'utf8')) as Template);
    }
    return out;
  }
  out.set(stackName ?? basename(path).replace(/\.template\.json$|\.json$/, ''), JSON.parse(readFileSync(path, 'utf8')) as Template);
  return out;
}

/** Runs the plan; never throws for AWS/AEP failures (they become what the plan could not see). */
export async function runPlan(options: PlanOptions, env: Record<string, string | undefined> = process.env): Promise<PlanReport> {
  const notSeen: string[] = [];
  const desired = loadTemplates(options.app, options.stackName);
  let previous: Templates;
  if (options.previous) {
    previous = loadTemplates(options.previous, options.stackName);
    // Two single templates are one stack before and after, whatever their file names.
    if (desired.size === 1 && previous.size === 1 && !statSync(options.previous).isDirectory()) {
      previous = new Map([[[...desired.keys()][0], [...previous.values()][0]]]);
    }
  } else {
    previous = await deployedTemplates([...desired.keys()], options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION, notSeen);
  }
  const live = options.sandbox ? await liveObjects(options, env, notSeen) : undefined;
  if (!live) notSeen.push('AEP was not read (no --sandbox): drift and objects changed outside CloudFormation are not shown; decisions come from the templates alone');
  const entries: PlanEntry[] = [];
  for (const stack of [...new Set([...desired.keys(), ...previous.keys()])].sort()) {
    entries.push(...planStack(stack, desired.get(stack), previous.get(stack), live));
  }
  const destructive = entries.some((e) => e.action === 'replace' || e.action === 'delete');
  return { entries, notSeen, exitCode: destructive ? PlanExitCodes.DESTRUCTIVE : PlanExitCodes.OK };
}

/** Live objects by `<stack>/<logical id>/<collection>`. */
type LiveObjects = Map<string, FlowItem>;

const LIVE_COLLECTIONS = ['/connections', '/targetConnections', '/sourceConnections', '/flows'] as const;

/** Which collection holds the object a `Fn::GetAtt` attribute names, and the object a resource type stands for. */
const ATTRIBUTE_COLLECTION: Record<string, string> = {
  ConnectionId: '/connections', TargetConnectionId: '/targetConnections', SourceConnectionId: '/sourceConnections', FlowId: '/flows',
};
const TYPE_COLLECTION: Record<string, string> = {
  'Custom::AepConnection': '/connections',
  'Custom::AepDestinationConnection': '/connections',
  'Custom::AepTargetConnection': '/targetConnections',
  'Custom::AepSourceConnection': '/sourceConnections',
  'Custom::AepDatasetTargetConnection': '/targetConnections',
  'Custom::AepFlow': '/flows',
};

/** Properties the Provider framework reads, never the handler. */
const FRAMEWORK_PROPS = ['ServiceToken'];

function planStack(stack: string, desired: Template | undefined, previous: Template | undefined, live: LiveObjects | undefined): PlanEntry[] {
  const now = desired?.Resources ?? {};
  const before = previous?.Resources ?? {};
  const ids = [...new Set([...Object.keys(now), ...Object.keys(before)])]
    .filter((id) => PLANNED_TYPES.includes(now[id]?.Type ?? before[id]?.Type ?? '')).sort();
  const decided = new Map<string, PlanEntry>();
  const liveOf = (id: string, collection: string | undefined) => (collection ? live?.get(`${stack}/${id}/${collection}`) : undefined);
  const decide = (id: string, seen: Set<string>): PlanEntry => {
    const done = decided.get(id);
    if (done) return done;
    const resource = now[id] ?? before[id];
    const type = resource.Type!;
    // A reference to a resource this plan creates or replaces is a value that changes.
    const isNew = (ref: string) => {
      if (!ids.includes(ref) || seen.has(ref) || !now[ref]) return false;
      const a = decide(ref, new Set([...seen, id])).action;
      return a === 'create' || a === 'replace';
    };
    const liveId = (ref: string, attribute: string) => liveOf(ref, ATTRIBUTE_COLLECTION[attribute])?.id;
    const props = (t: Template['Resources'], fresh: boolean) => {
      const raw = t?.[id]?.Properties;
      if (!raw || !t?.[id] || !PLANNED_TYPES.includes(t[id].Type ?? '')) return undefined;
      const out: RawProps = {};
      for (const [k, v] of Object.entries(raw)) {
        if (!FRAMEWORK_PROPS.includes(k)) out[k] = resolve(v, fresh ? isNew : () => false, live ? liveId : undefined);
      }
      return out;
    };
    const current = live === undefined ? undefined : liveOf(id, TYPE_COLLECTION[type]) ?? null;
    const change = decideChange({ resourceType: type, previous: props(before, false), desired: props(now, true), current });
    const path = (resource.Metadata?.['aws:cdk:path'] as string | undefined);
    const entry: PlanEntry = {
      stack, logicalId: id, resourceType: type, ...(path ? { path } : {}), ...(current ? { aepId: current.id } : {}), ...change,
    };
    decided.set(id, entry);
    return entry;
  };
  return ids.map((id) => decide(id, new Set()));
}

/**
 * A template value as text both templates can be compared on: a reference to a resource this
 * plan creates or replaces becomes "a new value", one to a live object its id (when AEP was
 * read), anything else the canonical text of the expression.
 */
function resolve(value: unknown, isNew: (ref: string) => boolean, liveId?: (ref: string, attribute: string) => string | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, isNew, liveId));
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) {
    const [fn, arg] = entries[0];
    if (fn === 'Fn::GetAtt' || fn === 'Ref') {
      const [ref, attribute] = fn === 'Ref' ? [String(arg), 'Ref'] : Array.isArray(arg) ? [String(arg[0]), String(arg[1])] : String(arg).split('.');
      if (isNew(ref)) return `«new ${ref}.${attribute}»`;
      return liveId?.(ref, attribute) ?? `«${ref}.${attribute}»`;
    }
    return `«${fn} ${JSON.stringify(resolve(arg, isNew, liveId))}»`;
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v, isNew, liveId)]));
}

async function deployedTemplates(stacks: string[], region: string | undefined, notSeen: string[]): Promise<Templates> {
  const out: Templates = new Map();
  if (!region) {
    notSeen.push('no --previous and no AWS region: the deployed templates were not read, so every AEP object shows as a create');
    return out;
  }
  const cfn = new CloudFormationClient({ region });
  for (const stack of stacks) {
    try {
      const res = await cfn.send(new GetTemplateCommand({ StackName: stack, TemplateStage: 'Original' }));
      out.set(stack, JSON.parse(res.TemplateBody ?? '{}') as Template);
    } catch (err) {
      const missing = /does not exist/i.test(errorMessage(err));
      if (!missing) notSeen.push(`CloudFormation GetTemplate for stack ${stack} failed (${errorMessage(err)}): its AEP objects show as creates`);
    }
  }
  return out;
}

async function liveObjects(options: PlanOptions, env: Record<string, string | undefined>, notSeen: string[]): Promise<LiveObjects | undefined> {
  try {
    let ims: { clientId: string; clientSecret: string; scopes: string; orgId: string };
    if (options.credentialsSecret) {
      ims = (await readAepCredentials(options.credentialsSecret)).credentials;
    } else {
      const [clientId, clientSecret, orgId] = [env.AEP_CLIENT_ID, env.AEP_CLIENT_SECRET, env.AEP_ORG_ID];
      registerSecret(clientSecret);
      if (!clientId || !clientSecret || !orgId) throw new Error('no AEP credential: pass --credentials-secret, or set AEP_CLIENT_ID, AEP_CLIENT_SECRET and AEP_ORG_ID');
      ims = { clientId, clientSecret, orgId, scopes: env.AEP_SCOPES || DEFAULT_IMS_SCOPES };
    }
    const invocation = startInvocation(undefined, loadConfig(env));
    const client = new AepClient({
      flowServiceUrl: options.flowServiceUrl!,
      sandboxName: options.sandbox!,
      identity: { ims: { imsUrl: options.imsUrl!, ...ims }, orgId: ims.orgId, reread: true },
      invocation,
    });
    const out: LiveObjects = new Map();
    for (const collection of LIVE_COLLECTIONS) {
      for (const item of await listAll(client, collection)) {
        const marker = typeof item.description === 'string' ? parseMarker(item.description) : undefined;
        if (!marker || marker.retired) continue;
        const key = `${marker.stackName}/${marker.logicalId}/${collection}`;
        const held = out.get(key);
        // Two of ours: the oldest is the one the handler keeps (the other is a twin it removes).
        if (!held || Number(item.createdAt ?? Infinity) < Number(held.createdAt ?? Infinity)) out.set(key, item);
      }
    }
    return out;
  } catch (err) {
    notSeen.push(`AEP sandbox ${options.sandbox} could not be read (${errorMessage(err)}): decisions come from the templates alone`);
    return undefined;
  }
}

async function listAll(client: AepClient, collection: string): Promise<FlowItem[]> {
  const items: FlowItem[] = [];
  let token: string | undefined;
  for (let page = 0; page < 50; page++) {
    const res = await client.request('GET', collection, { query: token ? [['continuationToken', token]] : [] });
    const data = res.data as { items?: unknown[]; _links?: { next?: { href?: string } } } | undefined;
    items.push(...(data?.items ?? []).filter((i): i is FlowItem => !!i && typeof i === 'object' && typeof (i as FlowItem).id === 'string'));
    const next = data?._links?.next?.href;
    token = next ? new URL(next, 'http://x').searchParams.get('continuationToken') ?? undefined : undefined;
    if (!token) break;
  }
  return items;
}

const NOUNS: Record<string, string> = {
  'Custom::AepConnection': 'connection',
  'Custom::AepDestinationConnection': 'destination connection (base + target)',
  'Custom::AepTargetConnection': 'target connection',
  'Custom::AepSourceConnection': 'source connection',
  'Custom::AepDatasetTargetConnection': 'dataset target connection',
  'Custom::AepMappingSet': 'mapping set',
  'Custom::AepProfileMapping': 'profile mapping set',
  'Custom::AepFlow': 'dataflow',
};

const ACTION_TEXT: Record<string, string> = {
  create: 'create', patch: 'patch in place', replace: '**replace**', delete: '**delete**', retain: 'retain (left in AEP)', none: 'no change',
};

/** Markdown for a pull-request comment. */
export function renderPlanMarkdown(report: PlanReport): string {
  const count = (a: string) => report.entries.filter((e) => e.action === a).length;
  const lines = ['## cdk-aep-s3 plan', ''];
  const summary = `${count('create')} to create, ${count('patch')} to patch in place, ${count('replace')} to replace, `
    + `${count('delete')} to delete, ${count('retain')} retained, ${count('none')} unchanged`;
  lines.push(report.exitCode === PlanExitCodes.DESTRUCTIVE ? `**${summary}**: a replacement or deletion is planned.` : summary, '');
  const shown = report.entries.filter((e) => e.action !== 'none' || (e.drift?.length ?? 0) > 0);
  if (shown.length) {
    lines.push('| AEP object | Action | Details |', '|---|---|---|');
    for (const e of shown) {
      const details = [
        e.action === 'patch' ? `fields: ${e.fields.join(', ')}` : '',
        e.reason ?? '',
        e.drift?.length ? `drift (AEP differs from the last deploy): ${e.drift.join(', ')}` : '',
      ].filter(Boolean).join('; ');
      lines.push(`| \`${e.path ?? `${e.stack}/${e.logicalId}`}\` (${NOUNS[e.resourceType] ?? e.resourceType}) | ${ACTION_TEXT[e.action]} | ${escape(details)} |`);
    }
    lines.push('');
  }
  if (report.notSeen.length) {
    lines.push('What this plan could not see:', '', ...report.notSeen.map((n) => `- ${n}`), '');
  }
  return lines.join('\n');
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** Whether `path` can be read as an app or template. */
export function readable(path: string): boolean {
  return existsSync(path);
}
