import { DefaultEndpoints } from '../private/contract';

/** What `cdk-aep-s3 doctor` was asked to do. */
export interface DoctorOptions {
  /** Secrets Manager secret (ARN or name) with `{ clientId, clientSecret, orgId, scopes? }`; unset = env vars. */
  readonly credentialsSecret?: string;
  /** Lower-case sandbox name. */
  readonly sandbox: string;
  /** Region of the secret and of the stacks (else the AWS SDK's default chain). */
  readonly region?: string;
  readonly json: boolean;
  /** Handler log lines (retries) to stderr. */
  readonly verbose: boolean;
  readonly imsUrl: string;
  readonly flowServiceUrl: string;
  /** Warn about a dataset export this many days before its schedule ends (`--warn-days`, default 30). */
  readonly warnDays: number;
}

/** A command line the doctor cannot run: exit code 2 with the usage text. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `--help` output. */
export const DOCTOR_USAGE = `Usage: cdk-aep-s3 doctor --sandbox <name> [--credentials-secret <arn|name>] [--region <region>] [--json]
                        [--warn-days <n>] [--ims-url <url>] [--flow-service-url <url>] [--verbose]

Checks an AEP sandbox before the first deploy of cdk-aep-s3 constructs, after a failure, or from
CI and cron: the API credential, the permissions the constructs need, what the live S3 connection
specs declare, AEP's IAM role (AEP on AWS), objects left behind by deleted or failed stacks,
dataflows AEP disabled, dataset exports near their end, and the sandbox's use of AEP's limits.

  --sandbox <name>             AEP sandbox (lower case), e.g. prod
  --credentials-secret <id>    name or ARN (never the value) of the Secrets Manager secret holding
                               {clientId, clientSecret, orgId, scopes?};
                               without it: env AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_ORG_ID [, AEP_SCOPES]
  --region <region>            region of the secret and of the CloudFormation stacks (default: AWS SDK chain)
  --json                       machine-readable report on stdout (shape in the README)
  --warn-days <n>              warn about a dataset export ending within n days (default 30)
  --verbose                    retries and other handler log lines on stderr
  --ims-url <url>              IMS base URL (default ${DefaultEndpoints.IMS_URL})
  --flow-service-url <url>     Flow Service base URL (default ${DefaultEndpoints.FLOW_SERVICE_URL})

Exit codes:
  0  healthy: no problem found, every check decided
  1  problems found (orphaned or failed-create objects, a dataflow AEP disabled, an ended export,
     a missing permission, an unreadable connection spec, ...)
  2  usage error
  3  cannot reach or authenticate (IMS, Flow Service or Secrets Manager unreachable, secret
     unreadable, credential refused by IMS or by the AEP gateway)
  4  cannot decide: no problem found, but a check could not conclude (CloudFormation denied or
     throttled, a marker without region/account, a host that stopped answering)
A run with problems and undecided checks exits 1.`;

/**
 * Why `value` looks like a secret's VALUE rather than a secret's name or ARN, or undefined.
 * Secret names are `[A-Za-z0-9/_+=.@-]` words; an ARN starts with `arn:`. What a user pastes by
 * mistake is the credential JSON, something naming `clientSecret`, an Adobe client secret
 * (`p8e-…`), an AWS secret access key, or another long random token. The token rules are narrow
 * on purpose: names CloudFormation generates (`AepCredentials3F0A2B1C-Xy7AbcDEf1gh`) and long
 * readable names must still be taken as names.
 */
export function secretValueShape(value: string): string | undefined {
  const trimmed = value.trim();
  if (/^arn:/.test(trimmed)) return undefined;
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.includes('"')) return 'JSON';
  if (/client_?secret/i.test(trimmed)) return 'text naming clientSecret';
  if (/[^A-Za-z0-9/_+=.@-]/.test(trimmed)) return 'text with characters no secret name has';
  if (/^p8e-[A-Za-z0-9_-]{16,}$/.test(trimmed)) return 'an Adobe client secret (p8e-…)';
  if (/^[A-Za-z0-9/+]{40}$/.test(trimmed) && /[0-9]/.test(trimmed) && /[a-z]/.test(trimmed) && /[A-Z]/.test(trimmed)) return 'an AWS secret access key';
  const runs = trimmed.split(/[/_+=.@-]/);
  if (runs.some((r) => r.length >= 40 && /\d/.test(r) && /[A-Za-z]/.test(r))) return 'a random-looking token';
  return undefined;
}

const VALUE_FLAGS = new Set(['--credentials-secret', '--sandbox', '--region', '--ims-url', '--flow-service-url', '--warn-days']);

/** Parses the arguments after `doctor`; throws {@link UsageError}. Returns undefined for `--help`. */
export function parseDoctorArgs(argv: readonly string[]): DoctorOptions | undefined {
  const values = new Map<string, string>();
  let json = false;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return undefined;
    if (arg === '--json') {
      json = true;
      continue;
    }
    if (arg === '--verbose') {
      verbose = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.substring(0, eq) : arg;
    if (!VALUE_FLAGS.has(flag)) {
      // A pasted secret that slipped out of its flag (an unquoted JSON split by the shell) must not be echoed either.
      throw new UsageError(secretValueShape(arg) ? 'unknown argument (not shown: it looks like a secret value)' : `unknown argument '${arg}'`);
    }
    const value = eq > 0 ? arg.substring(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    if (values.has(flag)) throw new UsageError(`${flag} given twice`);
    values.set(flag, value);
  }
  const sandbox = values.get('--sandbox');
  if (!sandbox) throw new UsageError('--sandbox <name> is required (the AEP sandbox the constructs deploy to, e.g. prod)');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(sandbox)) {
    // Not echoed when it looks like a secret pasted into the wrong flag.
    const shown = secretValueShape(sandbox) ? '(not shown: it looks like a secret value)' : `'${sandbox}'`;
    throw new UsageError(`--sandbox ${shown} is not an AEP sandbox name (lower-case letters, digits and hyphens)`);
  }
  const secretId = values.get('--credentials-secret');
  const shape = secretId === undefined ? undefined : secretValueShape(secretId);
  if (shape) {
    // Never echo it, nor any piece of it: it may be the client secret itself.
    throw new UsageError('--credentials-secret takes the NAME or ARN of a Secrets Manager secret (e.g. aep/api-credential), not the secret\'s value; '
      + `the value given looks like ${shape} and is not shown. Store the credential JSON {clientId, clientSecret, orgId} in Secrets Manager `
      + 'and pass its name, or set AEP_CLIENT_ID, AEP_CLIENT_SECRET and AEP_ORG_ID. If it held a real client secret, it is now in your '
      + 'shell history: rotate it in the Adobe Developer Console.');
  }
  const warnDaysText = values.get('--warn-days') ?? '30';
  if (!/^\d{1,4}$/.test(warnDaysText)) throw new UsageError(`--warn-days '${warnDaysText}' must be a whole number of days (0-9999), e.g. 30`);
  return {
    credentialsSecret: secretId,
    sandbox,
    region: values.get('--region'),
    json,
    verbose,
    imsUrl: endpoint('--ims-url', values.get('--ims-url') ?? DefaultEndpoints.IMS_URL),
    flowServiceUrl: endpoint('--flow-service-url', values.get('--flow-service-url') ?? DefaultEndpoints.FLOW_SERVICE_URL),
    warnDays: Number(warnDaysText),
  };
}

/** https anywhere; plain http only on loopback (a local stand-in), as `AepEndpoints.custom` allows. */
function endpoint(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} '${value}' is not a URL`);
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new UsageError(`${flag} must be https (plain http only for a loopback test server)`);
  }
  return value.replace(/\/+$/, '');
}
