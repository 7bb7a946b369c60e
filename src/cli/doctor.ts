// Bundled with esbuild into assets/cli/index.js (the SDK clients and axios are inlined there).
// eslint-disable-next-line import/no-extraneous-dependencies
import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
// eslint-disable-next-line import/no-extraneous-dependencies
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DoctorOptions } from './args';
import { flowSpecFindings } from './doctor-flow-specs';
import { getRoleTrust, IamError } from './iam';
import { AepClient } from '../aep/aep-client';
import {
  authSpecOf, encryptionBlock, LiveConnectionSpec, LiveSpecMismatchError, parseConnectionSpec, replaceableParams,
} from '../aep/connection-specs';
import { AepError } from '../aep/errors';
import { getImsToken, type ImsClientCredentials } from '../aep/ims';
import { readAepCredentials } from '../aws/secrets';
import { loadConfig, startInvocation } from '../plumbing/config';
import { errorMessage, redact, registerSecret } from '../plumbing/log';
import { RetryExhaustedError } from '../plumbing/retry';
import { ADOPTION_MARKER_PREFIX, AepIds, DEFAULT_IMS_SCOPES, IAM_ROLE_ARN, parseMarker, RETIRED_MARKER_PREFIX } from '../private/contract';

/**
 * `cdk-aep-s3 doctor`: read-only checks of an AEP sandbox from the machine of the person who
 * deploys. Every AEP call goes through the handler's own client (same headers, retries, error
 * parsing and redaction), so what the doctor sees is what a deploy would see.
 */

/** Exit codes (documented in the usage text and the README). */
export const ExitCodes = { OK: 0, PROBLEMS: 1, USAGE: 2, CANNOT_AUTHENTICATE: 3 } as const;

/** Severity of one finding. */
export type CheckStatus = 'ok' | 'info' | 'warning' | 'problem';

/** One finding of the doctor. */
export interface Check {
  readonly id: string;
  readonly status: CheckStatus;
  readonly message: string;
}

/** One auth or encryption param as the live spec declares it. */
export interface ParamReport {
  readonly name: string;
  readonly required: boolean;
  readonly secret: boolean;
  readonly readOnly: boolean;
  readonly enum?: readonly unknown[];
}

/** What the live AEP declares for one S3 connection spec. */
export interface SpecReport {
  readonly id: string;
  readonly name?: string;
  readonly authSpecs: ReadonlyArray<{ readonly name: string; readonly type?: string; readonly params: readonly ParamReport[] }>;
  readonly encryption?: {
    readonly name: string;
    readonly encryptionAlgo: readonly unknown[];
    readonly requestKey?: string;
    readonly problem?: string;
  };
  /** `permissionsInfo` (Adobe permissions the spec needs), as `manage: EnterpriseSource write`. */
  readonly permissions: readonly string[];
}

/** An AEP object carrying a cdk-aep-s3 marker. */
export interface MarkedItem {
  readonly collection: string;
  readonly id: string;
  readonly name?: string;
  readonly logicalId: string;
  readonly stackName: string;
  readonly stackUuid: string;
  /** The stack's region and account, from the marker (absent in markers of earlier versions). */
  readonly stackRegion?: string;
  readonly stackAccount?: string;
  readonly connectionSpecId?: string;
  /** The marker was retired: kept on purpose by `RemovalPolicy.RETAIN`. */
  readonly retained: boolean;
  /** Secret auth params in the listing: `masked` or `clear` (the value itself is never kept). */
  readonly secretParams?: Readonly<Record<string, 'masked' | 'clear'>>;
  /** Base connections: the auth spec (`Access Key`, `Assumed Role`, …). */
  readonly authSpecName?: string;
}

/** The trust of one role of a stack that Adobe's destinations account may assume. */
export interface DestinationRoleReport {
  readonly stackName: string;
  /** The role's logical id (its name is not reported: Adobe asks to keep it confidential). */
  readonly logicalId: string;
  /** The assumed-role destination connection(s) of the stack the role belongs to, when the logical ids tell. */
  readonly connectionIds: readonly string[];
  /** `sts:ExternalId` values the trust requires (empty: no condition). */
  readonly externalIds: readonly string[];
  /** `locked` to the credential's org, `any-org` (no condition), `other-org`, or `unreadable`. */
  readonly verdict: 'locked' | 'any-org' | 'other-org' | 'unreadable';
}

/** The objects of one stack and what CloudFormation says about it. */
export interface StackReport {
  readonly stackName: string;
  /** The stack id's last part (uuid) from the marker. */
  readonly stackUuid: string;
  /** The stack's region and account, from the marker (absent in markers of earlier versions). */
  readonly region?: string;
  readonly account?: string;
  /**
   * `exists`; `deleted` and `recreated` mean orphaned objects; `other-account` when the marker
   * names an account other than the doctor's credentials' (not checked: only that account's
   * CloudFormation can tell); `unknown` when CloudFormation could not say.
   */
  readonly state: 'exists' | 'deleted' | 'recreated' | 'other-account' | 'unknown';
  readonly detail: string;
  readonly items: readonly MarkedItem[];
}

/** A request detail Adobe's docs leave open (or contradict), and what the live data says. */
export interface Finding {
  readonly question: string;
  readonly topic: string;
  readonly settled: boolean;
  readonly answer: string;
}

/** The whole report (the `--json` output). */
export interface DoctorReport {
  readonly sandbox: string;
  readonly flowServiceUrl: string;
  readonly imsUrl: string;
  readonly region?: string;
  readonly credential: { readonly source: string; readonly clientId?: string; readonly orgId?: string };
  readonly checks: Check[];
  readonly connectionSpecs: { destination?: SpecReport; source?: SpecReport };
  readonly iamRole?: string;
  readonly openQuestions: Finding[];
  readonly stacks: StackReport[];
  /** Roles of the listed live stacks that trust Adobe's destinations account, with their external-id verdict. */
  readonly destinationRoles: DestinationRoleReport[];
  exitCode: number;
}

/** Where the doctor gets its AWS clients and environment (tests and the CLI pass the real ones). */
export interface DoctorEnvironment {
  readonly env: Record<string, string | undefined>;
}

const SPECS = [
  { key: 'destination', id: AepIds.S3_DESTINATION_CONNECTION_SPEC, label: 'S3 destination' },
  { key: 'source', id: AepIds.S3_SOURCE_CONNECTION_SPEC, label: 'S3 source' },
] as const;

/** Collections whose descriptions carry markers (mapping sets carry theirs in the name, and cannot be deleted). */
const MARKED_COLLECTIONS = ['/connections', '/targetConnections', '/sourceConnections', '/flows'] as const;

/** `[cdk-aep-s3:<stack name>/<stack uuid>/<logical id>]` or its retired form. */
/** Secret auth params AEP may or may not mask in reads (undocumented). */
const SECRET_AUTH_PARAMS = ['s3SecretKey', 's3SessionToken', 's3Role'];

const SESSION_REFRESH_PARAMS = ['s3AccessKey', 's3SecretKey', 's3SessionToken'];

type AddCheck = (id: string, status: CheckStatus, message: string) => void;

/** Stops the run with exit code 3 (the credential cannot be used at all). */
class CannotAuthenticate extends Error {}

/** Runs every check; never throws for AEP/AWS failures (they become findings and an exit code). */
export async function runDoctor(options: DoctorOptions, environment: DoctorEnvironment): Promise<DoctorReport> {
  const env = environment.env;
  const report: DoctorReport = {
    sandbox: options.sandbox,
    flowServiceUrl: options.flowServiceUrl,
    imsUrl: options.imsUrl,
    region: options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    credential: { source: options.credentialsSecret ? `Secrets Manager secret ${options.credentialsSecret}` : 'environment (AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_ORG_ID)' },
    checks: [],
    connectionSpecs: {},
    openQuestions: [],
    stacks: [],
    destinationRoles: [],
    exitCode: ExitCodes.OK,
  };
  const add = (id: string, status: CheckStatus, message: string) => report.checks.push({ id, status, message: redact(message) });
  try {
    const ims = await credential(options, env, report);
    const invocation = startInvocation(undefined, loadConfig(env));
    try {
      await getImsToken(ims, {
        timeoutMs: invocation.config.httpTimeoutMs,
        baseDelayMs: invocation.config.retryBaseMs,
        maxAttempts: invocation.config.retryMaxAttempts,
        deadline: invocation.deadline,
      });
    } catch (err) {
      throw new CannotAuthenticate(`IMS did not issue a token at ${options.imsUrl}: ${errorMessage(err)}. ${imsHint(err)}`);
    }
    add('ims-token', 'ok', `IMS issued an access token for client ${ims.clientId} (scopes ${ims.scopes})`);
    const client = new AepClient({
      flowServiceUrl: options.flowServiceUrl,
      sandboxName: options.sandbox,
      identity: { ims, orgId: report.credential.orgId!, reread: true },
      invocation,
    });

    const specs: Partial<Record<'source' | 'destination', LiveConnectionSpec>> = {};
    for (const spec of SPECS) {
      try {
        const res = await client.request('GET', `/connectionSpecs/${spec.id}`);
        const live = parseConnectionSpec(res.data, spec.id);
        specs[spec.key] = live;
        report.connectionSpecs[spec.key] = specReport(live, res.data);
        add(`spec-${spec.key}`, 'ok', `read the ${spec.label} connection spec ${spec.id} (GET /connectionSpecs/${spec.id})`);
      } catch (err) {
        flowServiceFailure(err, add, `spec-${spec.key}`, `read the ${spec.label} connection spec (GET /connectionSpecs/${spec.id})`, options.sandbox);
      }
    }

    try {
      const res = await client.request('GET', `/connectionSpecs/${AepIds.S3_SOURCE_CONNECTION_SPEC}/configs`, { query: [['authType', 'IamBasedAuthentication']] });
      const role = (res.data as { configParams?: { IAMRole?: unknown } } | undefined)?.configParams?.IAMRole;
      if (typeof role === 'string' && IAM_ROLE_ARN.test(role)) {
        (report as { iamRole?: string }).iamRole = role;
        add('iam-role', 'ok', `AEP on AWS: AEP reads 'IAMRole Based' source buckets as ${role} (GET …/configs?authType=IamBasedAuthentication)`);
      } else {
        add('iam-role', 'warning', `the configs API answered without an IAM role ARN (configParams.IAMRole = ${JSON.stringify(role)?.slice(0, 200)}); `
          + "an 'IAMRole Based' source (AepS3Source with AEP on AWS) would fail its role lookup");
      }
    } catch (err) {
      if (err instanceof AepError && isGatewayRejection(err)) throw new CannotAuthenticate(gatewayMessage(err, options.sandbox));
      add('iam-role', 'info', `no AEP IAM role from the configs API (${errorMessage(err)}): this org is probably not AEP on AWS; `
        + "only an 'IAMRole Based' source needs it, access-key sources and all destinations do not");
    }

    const items = await markedItems(client, add, options.sandbox);
    if (items) {
      report.stacks.push(...await stackReports(items, options.region, add));
      report.destinationRoles.push(...await destinationRoles(report, options.region, env, add));
    }
    report.openQuestions.push(...openQuestions(specs, report, items));
    report.openQuestions.push(...await flowSpecFindings(client, add));
  } catch (err) {
    if (!(err instanceof CannotAuthenticate)) throw err;
    add('authenticate', 'problem', err.message);
    report.exitCode = ExitCodes.CANNOT_AUTHENTICATE;
    return report;
  }
  report.exitCode = report.checks.some((c) => c.status === 'problem') ? ExitCodes.PROBLEMS : ExitCodes.OK;
  return report;
}

/** The IMS client credential from the secret or the environment; registers the secret with the redactor first. */
async function credential(options: DoctorOptions, env: Record<string, string | undefined>, report: DoctorReport): Promise<ImsClientCredentials> {
  if (options.credentialsSecret) {
    try {
      const { credentials } = await readAepCredentials(options.credentialsSecret);
      Object.assign(report.credential, { clientId: credentials.clientId, orgId: credentials.orgId });
      return { imsUrl: options.imsUrl, clientId: credentials.clientId, clientSecret: credentials.clientSecret, scopes: credentials.scopes };
    } catch (err) {
      throw new CannotAuthenticate(`cannot read the AEP credential from Secrets Manager secret ${options.credentialsSecret}: ${errorMessage(err)}`
        + ' (check the secret name or ARN, --region, and that your AWS identity may secretsmanager:GetSecretValue on it)');
    }
  }
  const clientId = env.AEP_CLIENT_ID;
  const clientSecret = env.AEP_CLIENT_SECRET;
  const orgId = env.AEP_ORG_ID;
  registerSecret(clientSecret);
  if (!clientId || !clientSecret || !orgId) {
    throw new CannotAuthenticate('no AEP credential: pass --credentials-secret <arn|name>, or set AEP_CLIENT_ID, AEP_CLIENT_SECRET and AEP_ORG_ID (AEP_SCOPES optional)');
  }
  Object.assign(report.credential, { clientId, orgId });
  return { imsUrl: options.imsUrl, clientId, clientSecret, scopes: env.AEP_SCOPES || DEFAULT_IMS_SCOPES };
}

function imsHint(err: unknown): string {
  const status = aepErrorOf(err)?.status;
  if (status === 400 || status === 401) {
    return 'IMS refused the credential: check clientId and clientSecret against the OAuth Server-to-Server credential in the Adobe Developer Console (a rotated secret must be stored again), and the scopes.';
  }
  return 'IMS could not be reached or failed: check --ims-url and the network path (proxy, firewall).';
}

/** Gateway refusals that no permission change in a product profile fixes: wrong org, API key or token. */
function isGatewayRejection(err: AepError): boolean {
  return err.status === 401 || (err.status === 403 && (err.code === '403000' || err.code === '403025'));
}

function gatewayMessage(err: AepError, sandbox: string): string {
  const why = err.code === '403025'
    ? 'the org id does not match the credential, or the credential has no product profile in this org'
    : err.code === '403000' ? 'the API key (client id) is not enabled for Experience Platform APIs' : 'the token was not accepted';
  return `the AEP gateway refused the credential for sandbox ${sandbox}: ${err.message} (${why}; add the Experience Platform API to the project in the Adobe Developer Console and check orgId)`;
}

/**
 * AEP permission errors (Flow Service error catalog): `2118-403` "The permission write is
 * missing", `2121-403` "The permission manage is denied on resource Enterprise Source", `2120-403`.
 */
function permissionMeaning(err: AepError, sandbox: string): string | undefined {
  const text = `${err.code ?? ''} ${err.detail}`;
  if (err.status !== 403 || !/21(18|20|21)-403|permission/i.test(text)) return undefined;
  const named = /permission (\w+) is (?:missing|denied)(?: on resource ([\w ]+))?/i.exec(err.detail);
  const what = named ? `the '${named[1]}' permission${named[2] ? ` on '${named[2].trim()}'` : ''}` : 'a permission';
  return `the credential lacks ${what} in sandbox ${sandbox} (AEP ${err.code ?? '403'}: ${err.detail}). Add it to the product profile of the API credential `
    + 'in the Adobe Admin Console: sources need View Sources + Manage Sources (Enterprise Source read/write), destinations need '
    + 'View Destinations + Manage Destinations, dataflows to destinations also Activate Destinations, View Profiles, View Segments.';
}

/** The AEP error behind `err`, also when retries ran out on it. */
function aepErrorOf(err: unknown): AepError | undefined {
  return err instanceof AepError ? err : err instanceof RetryExhaustedError && err.lastError instanceof AepError ? err.lastError : undefined;
}

function flowServiceFailure(err: unknown, add: AddCheck, id: string, what: string, sandbox: string): void {
  const aep = aepErrorOf(err);
  if (aep && isGatewayRejection(aep)) throw new CannotAuthenticate(gatewayMessage(aep, sandbox));
  const meaning = aep && permissionMeaning(aep, sandbox);
  add(id, 'problem', `could not ${what}: ${meaning ?? errorMessage(err)}`);
}

function specReport(live: LiveConnectionSpec, raw: unknown): SpecReport {
  let encryption: SpecReport['encryption'];
  if (live.encryption) {
    const algos = live.encryption.params.encryptionAlgo?.enum ?? [];
    try {
      // A dummy key only to learn the shape; no key value is reported.
      const block = encryptionBlock(live, 'cHVibGljLWtleQ==');
      encryption = { name: live.encryption.name, encryptionAlgo: algos, requestKey: block.key };
    } catch (err) {
      if (!(err instanceof LiveSpecMismatchError)) throw err;
      encryption = { name: live.encryption.name, encryptionAlgo: algos, problem: err.message };
    }
  }
  type PermissionsInfo = Record<string, Array<{ name?: string; permissions?: string[] }>>;
  const info = (raw as { items?: Array<{ permissionsInfo?: PermissionsInfo }> }).items?.[0]?.permissionsInfo ?? {};
  const permissions = Object.entries(info).flatMap(([kind, list]) => (Array.isArray(list) ? list : [])
    .map((p) => `${kind}: ${p.name ?? '?'} ${(p.permissions ?? []).join('/')}`));
  return {
    id: live.id,
    name: live.name,
    authSpecs: live.authSpecs.map((a) => ({
      name: a.name,
      type: a.type,
      params: Object.entries(a.params).map(([name, p]) => ({
        name, required: a.required.includes(name), secret: p.secret, readOnly: p.readOnly, ...(p.enum ? { enum: p.enum } : {}),
      })),
    })),
    encryption,
    permissions,
  };
}

/** Every object of ours in the sandbox; undefined when listing failed (recorded as a problem). */
async function markedItems(client: AepClient, add: AddCheck, sandbox: string): Promise<MarkedItem[] | undefined> {
  const found: MarkedItem[] = [];
  let listed = 0;
  for (const collection of MARKED_COLLECTIONS) {
    try {
      const items = await listAll(client, collection);
      listed += items.length;
      for (const item of items) {
        const marked = markedItem(collection, item);
        if (marked) found.push(marked);
      }
    } catch (err) {
      flowServiceFailure(err, add, `list${collection.replace('/', '-')}`, `list ${collection} (GET ${collection}) in sandbox ${sandbox}`, sandbox);
      return undefined;
    }
  }
  add('sandbox-read', 'ok', `sandbox ${sandbox}: listed ${listed} objects in ${MARKED_COLLECTIONS.join(', ')}; ${found.length} carry cdk-aep-s3 markers`);
  return found;
}

/** Upper bound on pages per collection (100 items each). */
const MAX_PAGES = 50;

async function listAll(client: AepClient, collection: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.request('GET', collection, { query: token ? [['continuationToken', token]] : [] });
    const data = res.data as { items?: unknown[]; _links?: { next?: { href?: string } } } | undefined;
    items.push(...(data?.items ?? []).filter((i): i is Record<string, unknown> => !!i && typeof i === 'object'));
    const next = data?._links?.next?.href;
    token = next ? new URL(next, 'http://x').searchParams.get('continuationToken') ?? undefined : undefined;
    if (!token) break;
  }
  return items;
}

function markedItem(collection: string, item: Record<string, unknown>): MarkedItem | undefined {
  const description = typeof item.description === 'string' ? item.description : '';
  if (!description.includes(ADOPTION_MARKER_PREFIX) && !description.includes(RETIRED_MARKER_PREFIX)) return undefined;
  const m = parseMarker(description);
  if (!m) return undefined;
  const params = (item.auth as { params?: Record<string, unknown> } | undefined)?.params;
  let secretParams: Record<string, 'masked' | 'clear'> | undefined;
  if (params) {
    for (const p of SECRET_AUTH_PARAMS) {
      const value = params[p];
      if (typeof value !== 'string') continue;
      // A clear value must never reach the report: registered, then only its state is kept.
      const masked = /^\*+$/.test(value) || value === '';
      if (!masked) registerSecret(value);
      (secretParams ??= {})[p] = masked ? 'masked' : 'clear';
    }
  }
  return {
    collection,
    id: String(item.id),
    name: typeof item.name === 'string' ? item.name : undefined,
    logicalId: m.logicalId,
    stackName: m.stackName,
    stackUuid: m.stackUuid,
    ...(m.region !== undefined ? { stackRegion: m.region, stackAccount: m.account } : {}),
    connectionSpecId: (item.connectionSpec as { id?: string } | undefined)?.id,
    ...(collection === '/connections' && typeof (item.auth as { specName?: unknown } | undefined)?.specName === 'string'
      ? { authSpecName: (item.auth as { specName: string }).specName } : {}),
    retained: m.retired,
    ...(secretParams ? { secretParams } : {}),
  };
}

/**
 * Groups by stack and asks CloudFormation whether each stack still exists. A marker naming its
 * region and account is looked up by stack id in that region (exactly that stack, deleted ones
 * included), and only when the account is the credentials' own: a sandbox shared by stacks of
 * several regions or accounts holds objects this region's CloudFormation knows nothing about,
 * and those are not orphans. A marker of an earlier version names neither, so its stack is
 * looked up by name in `region`, and a verdict of orphan says it may be a stack elsewhere.
 */
async function stackReports(items: MarkedItem[], region: string | undefined, add: AddCheck): Promise<StackReport[]> {
  const groups = new Map<string, MarkedItem[]>();
  for (const item of items) {
    const key = `${item.stackRegion ?? ''}:${item.stackAccount ?? ''}:${item.stackName}/${item.stackUuid}`;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  const reports: StackReport[] = [];
  const clients = new Map<string, CloudFormationClient>();
  const cfnIn = (r: string | undefined) => {
    const key = r ?? '';
    if (!clients.has(key)) clients.set(key, new CloudFormationClient(r ? { region: r } : {}));
    return clients.get(key)!;
  };
  let callerAccount: Promise<string | undefined> | undefined;
  for (const [, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const { stackName, stackUuid, stackRegion, stackAccount } = group[0];
    const label = stackRegion ? `${stackName} (${stackRegion}, account ${stackAccount})` : stackName;
    let verdict: { state: StackReport['state']; detail: string };
    if (stackRegion !== undefined && stackAccount !== undefined) {
      callerAccount ??= accountOfCredentials(region);
      const account = await callerAccount;
      verdict = account === stackAccount
        ? await stackById(cfnIn(stackRegion), stackArn(stackRegion, stackAccount, stackName, stackUuid))
        : account === undefined
          ? { state: 'unknown', detail: `could not tell which account these AWS credentials belong to (STS GetCallerIdentity failed), so stack ${label} was not looked up` }
          : { state: 'other-account', detail: `stack ${label} belongs to another account than these AWS credentials (${account}); run the doctor with that account's credentials to check it` };
    } else {
      verdict = await stackByName(cfnIn(region), stackName, stackUuid, region);
    }
    const { state, detail } = verdict;
    const live = group.filter((i) => !i.retained);
    const orphaned = (state === 'deleted' || state === 'recreated') && live.length > 0;
    reports.push({
      stackName,
      stackUuid,
      ...(stackRegion !== undefined ? { region: stackRegion, account: stackAccount } : {}),
      state,
      detail: redact(detail),
      items: group,
    });
    if (orphaned) {
      add(`orphans-${stackName}`, 'problem', `${live.length} AEP object(s) of stack ${label} (${stackUuid}) outlived their stack: ${detail}. `
        + 'Delete them in AEP (dataflows first, then target/source connections, then base connections) or recreate the stack with the same resources to adopt them.');
    } else if (state === 'unknown') {
      add(`stack-${stackName}`, 'warning', `could not tell whether stack ${label} still exists: ${detail}`);
    }
  }
  return reports;
}

/** The stack ARN a marker names (the partition follows from the region). */
function stackArn(region: string, account: string, stackName: string, stackUuid: string): string {
  const partition = region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return `arn:${partition}:cloudformation:${region}:${account}:stack/${stackName}/${stackUuid}`;
}

/** The account of the doctor's AWS credentials, or undefined when STS cannot say. */
async function accountOfCredentials(region: string | undefined): Promise<string | undefined> {
  const sts = new STSClient(region ? { region } : {});
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch {
    return undefined;
  } finally {
    sts.destroy();
  }
}

/** DescribeStacks by stack id: CloudFormation still answers for a deleted stack (DELETE_COMPLETE). */
async function stackById(cfn: CloudFormationClient, arn: string): Promise<{ state: StackReport['state']; detail: string }> {
  try {
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: arn }))).Stacks?.[0];
    return stack?.StackStatus === 'DELETE_COMPLETE'
      ? { state: 'deleted', detail: `stack ${arn} was deleted` }
      : { state: 'exists', detail: `${stack?.StackStatus}` };
  } catch (err) {
    const e = err as { name?: string; message?: string };
    if (e.name === 'ValidationError' && /does not exist/.test(e.message ?? '')) return { state: 'deleted', detail: `no stack ${arn} (${e.message})` };
    return { state: 'unknown', detail: `CloudFormation DescribeStacks failed: ${errorMessage(err)}` };
  }
}

/** DescribeStacks by name in the doctor's region, for markers that do not say where their stack lives. */
async function stackByName(
  cfn: CloudFormationClient, stackName: string, stackUuid: string, region: string | undefined,
): Promise<{ state: StackReport['state']; detail: string }> {
  // Written before markers named their region and account: a stack of this name elsewhere may own them.
  const elsewhere = 'unless a stack of this name and id lives in another region or account (objects made before markers named their region cannot tell)';
  try {
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
    if (stack?.StackId?.split('/')[2] === stackUuid) return { state: 'exists', detail: `${stack.StackStatus}` };
    return {
      state: 'recreated',
      detail: `a stack named ${stackName} exists but it is another stack (${stack?.StackId}): the marked objects belong to a deleted one, ${elsewhere}`,
    };
  } catch (err) {
    const e = err as { name?: string; message?: string };
    if (e.name === 'ValidationError' && /does not exist/.test(e.message ?? '')) {
      return { state: 'deleted', detail: `no stack named ${stackName}${region ? ` in ${region}` : ''} (${e.message}), ${elsewhere}` };
    }
    return { state: 'unknown', detail: `CloudFormation DescribeStacks failed: ${errorMessage(err)}` };
  }
}

/** Trailing 8-hex-digit hash CDK appends to logical ids. */
const LOGICAL_ID_HASH = /[0-9A-F]{8}$/;

/**
 * Whether a role and a destination connection belong to one `AepS3Destination`: CDK names them
 * `<destination path>AuthRole<hash>` and `<destination path>ConnectionDestination<hash>`.
 */
function sameDestination(roleLogicalId: string, connectionLogicalId: string): boolean {
  const role = roleLogicalId.replace(LOGICAL_ID_HASH, '');
  const conn = connectionLogicalId.replace(LOGICAL_ID_HASH, '');
  return role.endsWith('AuthRole') && conn.endsWith('ConnectionDestination')
    && role.slice(0, -'AuthRole'.length) === conn.slice(0, -'ConnectionDestination'.length);
}

/** `sts:ExternalId` values a trust statement requires (`StringEquals`, one value or a list). */
function externalIdsOf(statement: Record<string, unknown>): string[] {
  const equals = (statement.Condition as Record<string, Record<string, unknown>> | undefined)?.StringEquals ?? {};
  const key = Object.keys(equals).find((k) => k.toLowerCase() === 'sts:externalid');
  const value = key === undefined ? undefined : equals[key];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String);
}

/** Whether a trust statement lets Adobe's destinations account assume the role. */
function trustsAdobe(statement: Record<string, unknown>): boolean {
  const actions = [statement.Action].flat().map(String);
  return statement.Effect === 'Allow' && actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*')
    && JSON.stringify(statement.Principal ?? '').includes(`:${AepIds.ADOBE_DESTINATIONS_ACCOUNT}:`);
}

/**
 * For every live stack with an assumed-role destination connection: the stack's roles
 * (CloudFormation ListStackResources), their trust (IAM GetRole), and whether those trusting
 * Adobe's destinations account admit AEP only for the credential's org (`sts:ExternalId`). Only
 * metadata is read: no secret (the role ARN's secret is never opened).
 */
async function destinationRoles(
  report: DoctorReport, region: string | undefined, env: Record<string, string | undefined>, add: AddCheck,
): Promise<DestinationRoleReport[]> {
  const orgId = report.credential.orgId!;
  const out: DestinationRoleReport[] = [];
  const timeoutMs = loadConfig(env).httpTimeoutMs;
  for (const stack of report.stacks.filter((s) => s.state === 'exists')) {
    // A stack whose marker names its region is listed there, by id (a name is only unique per region).
    const cfn = new CloudFormationClient(stack.region ?? region ? { region: stack.region ?? region } : {});
    const stackRef = stack.region !== undefined && stack.account !== undefined
      ? stackArn(stack.region, stack.account, stack.stackName, stack.stackUuid) : stack.stackName;
    const connections = stack.items.filter((i) => i.collection === '/connections' && !i.retained
      && i.connectionSpecId === AepIds.S3_DESTINATION_CONNECTION_SPEC && i.authSpecName === 'Assumed Role');
    if (connections.length === 0) continue;
    let roles: StackResourceSummary[] = [];
    try {
      let token: string | undefined;
      do {
        const page = await cfn.send(new ListStackResourcesCommand({ StackName: stackRef, NextToken: token }));
        roles.push(...(page.StackResourceSummaries ?? []).filter((r) => r.ResourceType === 'AWS::IAM::Role' && r.PhysicalResourceId));
        token = page.NextToken;
      } while (token);
    } catch (err) {
      const code = (err as { name?: string }).name ?? 'Error';
      add(`destination-roles-${stack.stackName}`, 'warning', `stack ${stack.stackName} has ${connections.length} assumed-role destination(s), but its roles could not be listed `
        + `(CloudFormation ListStackResources: ${code}): grant your identity cloudformation:ListStackResources on the stack to check their sts:ExternalId`);
      continue;
    }
    roles = roles.sort((a, b) => a.LogicalResourceId!.localeCompare(b.LogicalResourceId!));
    let found = 0;
    for (const role of roles) {
      const logicalId = role.LogicalResourceId!;
      const where = `stack ${stack.stackName}: role ${logicalId}`;
      let trust: unknown;
      try {
        trust = await getRoleTrust(role.PhysicalResourceId!, { credentials: cfn.config.credentials, region, env, timeoutMs });
      } catch (err) {
        const code = err instanceof IamError ? err.code : 'Error';
        // Only roles whose name says they are a destination's are worth a finding when unreadable.
        if (!/AuthRole[0-9A-F]{8}$/.test(logicalId)) continue;
        found += 1;
        const connectionIds = connections.filter((c) => sameDestination(logicalId, c.logicalId)).map((c) => c.id);
        out.push({ stackName: stack.stackName, logicalId, connectionIds, externalIds: [], verdict: 'unreadable' });
        add(`destination-role-${stack.stackName}-${logicalId}`, 'warning', `${where}: could not read its trust policy (IAM GetRole: ${code}); `
          + `grant your identity iam:GetRole on the stack's roles (arn:aws:iam::<account>:role/${stack.stackName}-*) to check its sts:ExternalId`);
        continue;
      }
      const statements = [(trust as { Statement?: unknown }).Statement ?? []].flat() as Array<Record<string, unknown>>;
      const adobe = statements.filter(trustsAdobe);
      if (adobe.length === 0) continue;
      found += 1;
      const connectionIds = connections.filter((c) => sameDestination(logicalId, c.logicalId)).map((c) => c.id);
      const of = connectionIds.length ? ` (destination connection ${connectionIds.join(', ')})` : '';
      // Every statement admitting Adobe must carry the condition: one without it admits any org.
      const perStatement = adobe.map(externalIdsOf);
      const externalIds = [...new Set(perStatement.flat())].sort();
      let verdict: DestinationRoleReport['verdict'];
      if (perStatement.some((ids) => ids.length === 0)) {
        verdict = 'any-org';
        add(`destination-role-${stack.stackName}-${logicalId}`, 'warning', `${where}${of} trusts Adobe's destinations account ${AepIds.ADOBE_DESTINATIONS_ACCOUNT} `
          + 'without an sts:ExternalId condition: any AEP organization that learns the role ARN can point its own destination at your folder (confused deputy). '
          + `AEP sends your org id as the external id: set imsOrgId: '${orgId}' on the AepSandbox (or S3DestinationAuth.assumedRole) and redeploy, `
          + `or add "Condition": {"StringEquals": {"sts:ExternalId": "${orgId}"}} to the trust`);
      } else if (perStatement.some((ids) => !ids.includes(orgId))) {
        verdict = 'other-org';
        add(`destination-role-${stack.stackName}-${logicalId}`, 'problem', `${where}${of} admits AEP only with sts:ExternalId ${externalIds.join(', ')}, `
          + `but the credential belongs to IMS org ${orgId}: AEP assumes the role as ${orgId} and is refused, so exports to it fail. `
          + `Set imsOrgId to '${orgId}' (on the AepSandbox or S3DestinationAuth.assumedRole) and redeploy, or check this credential is the one the stack uses`);
      } else {
        verdict = 'locked';
        add(`destination-role-${stack.stackName}-${logicalId}`, 'ok', `${where}${of} admits AEP only for IMS org ${orgId} (sts:ExternalId), the credential's org`);
      }
      out.push({ stackName: stack.stackName, logicalId, connectionIds, externalIds, verdict });
    }
    if (found === 0) {
      add(`destination-roles-${stack.stackName}`, 'warning', `stack ${stack.stackName} has ${connections.length} assumed-role destination(s), but none of its ${roles.length} role(s) `
        + `trusts Adobe's destinations account ${AepIds.ADOBE_DESTINATIONS_ACCOUNT}: AEP cannot assume them; check the role the connection names`);
    }
  }
  return out;
}

/** What the live data settles among the details Adobe's docs leave open. */
function openQuestions(
  specs: Partial<Record<'source' | 'destination', LiveConnectionSpec>>, report: DoctorReport, items: MarkedItem[] | undefined,
): Finding[] {
  const out: Finding[] = [];
  const dst = specs.destination;
  const src = specs.source;
  const unread = (what: string) => `not settled: the ${what} connection spec could not be read`;
  const enc = report.connectionSpecs.destination?.encryption;
  out.push({
    question: 'encryption-payload',
    topic: 'destination encryption payload',
    settled: !!enc?.requestKey,
    answer: !dst ? unread('destination')
      : !enc ? 'the live destination spec declares no encryption spec: file encryption cannot be requested'
        : enc.requestKey ? `the live spec declares '${enc.name}' with encryptionAlgo ${JSON.stringify(enc.encryptionAlgo)}: the handler sends \`${enc.requestKey}\` {specName: '${enc.name}', encryptionAlgo: '${enc.encryptionAlgo.find((a) => a !== 'NONE')}'}`
          : `not settled: ${enc.problem}`,
  });
  if (dst) {
    const key = dst.authSpecs.find((a) => a.name === 'Access Key');
    const names = key ? Object.keys(key.params) : [];
    out.push({
      question: 'key-rotation-params',
      topic: 'destination key PATCH param names',
      settled: !!key,
      answer: key ? `'Access Key' declares ${names.join(', ')}: rotation patches /auth/params/${names.join(' and /auth/params/')}` : "the live destination spec offers no 'Access Key' auth spec",
    });
  } else {
    out.push({ question: 'key-rotation-params', topic: 'destination key PATCH param names', settled: false, answer: unread('destination') });
  }
  if (src) {
    let answer: string;
    let settled = true;
    try {
      const replaceable = replaceableParams(src, 'Access Key', SESSION_REFRESH_PARAMS);
      answer = replaceable.length === SESSION_REFRESH_PARAMS.length
        ? `all of ${SESSION_REFRESH_PARAMS.join(', ')} are replaceable (none readOnly): the refresh sends the three-op PATCH`
        : `only ${replaceable.join(', ') || 'nothing'} replaceable (${SESSION_REFRESH_PARAMS.filter((p) => !replaceable.includes(p)).join(', ')} readOnly or undeclared): the refresh sends ${replaceable.length === 1 ? 'the one-op (token-only)' : `a ${replaceable.length}-op`} PATCH`;
    } catch (err) {
      settled = false;
      answer = `not settled: ${errorMessage(err)}`;
    }
    out.push({ question: 'session-token-patch', topic: 'source session-token PATCH', settled, answer });
    const auth = (name: string) => {
      try {
        return authSpecOf(src, name);
      } catch {
        return undefined;
      }
    };
    const key = auth('Access Key');
    const role = auth('IAMRole Based');
    out.push({
      question: 'source-auth-specs',
      topic: 'source auth spec required lists, folderPath on IAMRole Based',
      settled: true,
      answer: `'Access Key' requires ${key ? JSON.stringify(key.required) : '(not offered)'}; 'IAMRole Based' ${role
        ? `requires ${JSON.stringify(role.required)} and ${role.params.folderPath ? 'declares' : 'does NOT declare'} folderPath` : 'is not offered'}`,
    });
  } else {
    out.push({ question: 'session-token-patch', topic: 'source session-token PATCH', settled: false, answer: unread('source') });
    out.push({ question: 'source-auth-specs', topic: 'source auth spec required lists, folderPath on IAMRole Based', settled: false, answer: unread('source') });
  }
  out.push({
    question: 'iam-role-value',
    topic: 'configs IAMRole value',
    settled: !!report.iamRole,
    answer: report.iamRole ? `a full IAM role ARN (${report.iamRole}) for sandbox ${report.sandbox}` : 'not settled: no IAM role from the configs API here',
  });
  const withSecrets = (items ?? []).filter((i) => i.secretParams);
  const states = new Set(withSecrets.flatMap((i) => Object.values(i.secretParams!)));
  out.push({
    question: 'secret-masking',
    topic: 'secret params in reads',
    settled: withSecrets.length > 0,
    answer: withSecrets.length === 0 ? 'not settled: no connection of ours with secret params to look at'
      : states.has('clear') ? `AEP returned secret params IN CLEAR in GET /connections for ${withSecrets.filter((i) => Object.values(i.secretParams!).includes('clear')).length} connection(s) (values not shown)`
        : `masked: ${[...new Set(withSecrets.flatMap((i) => Object.keys(i.secretParams!)))].join(', ')} come back masked in GET /connections`,
  });
  return out;
}
