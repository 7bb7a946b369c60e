import { DoctorOptions } from './args';
import { CannotAuthenticate, hostOf, imsHint, networkCode, networkMeaning, reachAdvice } from './checks/failures';
import { checkReachable } from './checks/reach';
import { CHECKS } from './checks/registry';
import type { Check, CheckStatus, DoctorContext, DoctorReport } from './checks/types';
import { AepClient } from '../aep/aep-client';
import type { LiveConnectionSpec } from '../aep/connection-specs';
import { getImsToken, type ImsClientCredentials } from '../aep/ims';
import { readAepCredentials } from '../aws/secrets';
import { loadConfig, startInvocation } from '../plumbing/config';
import { errorMessage, redact, registerSecret } from '../plumbing/log';
import { DEFAULT_IMS_SCOPES } from '../private/contract';

export type {
  Check, CheckCost, CheckStatus, DestinationRoleReport, DoctorReport, Finding, MarkedItem, ParamReport, SandboxView, SpecReport, StackReport,
} from './checks/types';

/**
 * `cdk-aep-s3 doctor`: read-only checks of an AEP sandbox, for a person after a failure and for
 * CI and cron. Every AEP call goes through the handler's own client (same headers, retries, error
 * parsing and redaction), so what the doctor sees is what a deploy would see. The checks live in
 * `checks/` (one file each, listed in `checks/registry.ts`); this file authenticates, runs them
 * and turns their findings into an exit code.
 */

/** Exit codes (documented in the usage text and the README). */
export const ExitCodes = {
  OK: 0,
  PROBLEMS: 1,
  USAGE: 2,
  /** The credential cannot be used, or IMS, the Flow Service or Secrets Manager cannot be reached. */
  CANNOT_AUTHENTICATE: 3,
  /** No problem found, but a check could not decide (CloudFormation denied or throttled, an old marker, a host that stopped answering). */
  CANNOT_DECIDE: 4,
} as const;

/** Where the doctor gets its environment (tests and the CLI pass the real one). */
export interface DoctorEnvironment {
  readonly env: Record<string, string | undefined>;
}

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
    costs: [],
    exitCode: ExitCodes.OK,
  };
  type More = { evidence?: readonly string[]; action?: string };
  const record = (check: string) => (id: string, status: CheckStatus, message: string, more: More = {}) => {
    const finding: Check = {
      id,
      check,
      status,
      message: redact(message),
      ...(more.evidence?.length ? { evidence: more.evidence.map(redact) } : {}),
      ...(more.action ? { action: redact(more.action) } : {}),
    };
    report.checks.push(finding);
  };
  try {
    const config = loadConfig(env);
    // A refused port or an unknown name fails here in one connect, naming the host.
    await checkReachable([
      { label: 'IMS', url: options.imsUrl, flag: '--ims-url' },
      { label: 'the Flow Service', url: options.flowServiceUrl, flag: '--flow-service-url' },
    ], env, Math.min(config.httpTimeoutMs, 10_000));
    const ims = await credential(options, env, report);
    const invocation = startInvocation(undefined, config);
    try {
      await getImsToken(ims, {
        timeoutMs: invocation.config.httpTimeoutMs,
        baseDelayMs: invocation.config.retryBaseMs,
        maxAttempts: invocation.config.retryMaxAttempts,
        deadline: invocation.deadline,
      });
    } catch (err) {
      const code = networkCode(err);
      throw new CannotAuthenticate(code
        ? `cannot reach IMS at ${hostOf(options.imsUrl)}: ${networkMeaning(code)} (${code}); ${reachAdvice('--ims-url')}`
        : `IMS did not issue a token at ${options.imsUrl}: ${errorMessage(err)}. ${imsHint(err)}`);
    }
    record('api-credential')('ims-token', 'ok', `IMS issued an access token for client ${ims.clientId} (scopes ${ims.scopes})`);
    const client = new AepClient({
      flowServiceUrl: options.flowServiceUrl,
      sandboxName: options.sandbox,
      identity: { ims, orgId: report.credential.orgId!, reread: true },
      invocation,
    });
    const specs: Partial<Record<'source' | 'destination', LiveConnectionSpec>> = {};
    let sandbox: DoctorContext['sandbox'];
    const now = Date.now();
    for (const check of CHECKS) {
      const cost = { check: check.id, aepRequests: 0, awsRequests: 0 };
      const ctx: DoctorContext = {
        options,
        env,
        report,
        specs,
        now,
        client,
        get sandbox() {
          return sandbox;
        },
        set sandbox(value) {
          sandbox = value;
        },
        add: record(check.id),
        aep: (method, path, requestOptions) => {
          cost.aepRequests += 1;
          return client.request(method, path, requestOptions);
        },
        countAws: (calls = 1) => {
          cost.awsRequests += calls;
        },
      };
      try {
        await check.run(ctx);
      } finally {
        report.costs.push(cost);
      }
    }
  } catch (err) {
    if (!(err instanceof CannotAuthenticate)) throw err;
    record('api-credential')('authenticate', 'problem', err.message);
    report.exitCode = ExitCodes.CANNOT_AUTHENTICATE;
    return report;
  }
  report.exitCode = exitCodeOf(report.checks);
  return report;
}

/** A problem outranks "cannot decide": it is certain and needs doing whatever the undecided check says. */
export function exitCodeOf(checks: readonly Check[]): number {
  if (checks.some((c) => c.status === 'problem')) return ExitCodes.PROBLEMS;
  if (checks.some((c) => c.status === 'cannot-decide')) return ExitCodes.CANNOT_DECIDE;
  return ExitCodes.OK;
}

/** The IMS client credential from the secret or the environment; registers the secret with the redactor first. */
async function credential(options: DoctorOptions, env: Record<string, string | undefined>, report: DoctorReport): Promise<ImsClientCredentials> {
  if (options.credentialsSecret) {
    try {
      const { credentials } = await readAepCredentials(options.credentialsSecret);
      Object.assign(report.credential, { clientId: credentials.clientId, orgId: credentials.orgId });
      return { imsUrl: options.imsUrl, clientId: credentials.clientId, clientSecret: credentials.clientSecret, scopes: credentials.scopes };
    } catch (err) {
      throw new CannotAuthenticate(secretFailure(options, env, err));
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

/** Errors of Secrets Manager itself (not of the secret): the name is not to blame for them. */
const SERVICE_TROUBLE = /Throttl|TooManyRequests|RequestLimitExceeded|InternalServiceError|InternalFailure|ServiceUnavailable|TimeoutError|RequestTimeout/i;

/**
 * Why the secret could not be read, blaming what is at fault: the secret (not found, marked for
 * deletion), the identity (access denied), or Secrets Manager itself (unreachable, throttled,
 * failing), which says nothing about the secret name.
 */
function secretFailure(options: DoctorOptions, env: Record<string, string | undefined>, err: unknown): string {
  const cause = (err as { lastError?: unknown }).lastError ?? err;
  const e = cause as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? '';
  const code = e.code ?? (err as { code?: string }).code;
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL ?? (region ? `https://secretsmanager.${region}.amazonaws.com` : undefined);
  const where = `Secrets Manager${endpoint ? ` at ${hostOf(endpoint)}` : ''}`;
  const id = options.credentialsSecret;
  if (code && /^E[A-Z]+$/.test(code) || /NetworkingError|ECONN|ENOTFOUND|EAI_AGAIN/.test(`${name} ${errorMessage(err)}`)) {
    const net = code && /^E[A-Z]+$/.test(code) ? code : /E[A-Z]{4,}/.exec(errorMessage(err))?.[0] ?? 'network error';
    return `cannot reach ${where} to read secret ${id}: ${networkMeaning(net)} (${net}); this says nothing about the secret itself: `
      + 'check --region, AWS_ENDPOINT_URL_SECRETS_MANAGER if set, and the network path (firewall, VPC endpoint, HTTPS_PROXY)';
  }
  if (SERVICE_TROUBLE.test(name) || (e.$metadata?.httpStatusCode ?? 0) >= 500) {
    return `${where} did not serve secret ${id} (${name || 'error'}: ${errorMessage(err)}); Secrets Manager is throttling or failing, `
      + 'not refusing the secret: run again later';
  }
  if (name === 'AccessDeniedException') {
    return `cannot read the AEP credential from Secrets Manager secret ${id}: ${errorMessage(err)} (grant your AWS identity secretsmanager:GetSecretValue on it)`;
  }
  return `cannot read the AEP credential from Secrets Manager secret ${id}: ${errorMessage(err)}`
    + ' (check the secret name or ARN, --region, and that your AWS identity may secretsmanager:GetSecretValue on it)';
}
