import { secretValueShape, UsageError } from './args';
import type { PlanOptions } from './plan';
import { DefaultEndpoints } from '../private/contract';

/** `plan --help` output. */
export const PLAN_USAGE = `Usage: cdk-aep-s3 plan <cdk.out|template.json> [--previous <cdk.out|template.json>] [--stack-name <name>]
                      [--region <region>] [--sandbox <name> [--credentials-secret <arn|name>]
                      [--ims-url <url>] [--flow-service-url <url>]] [--json]

Prints what deploying the synthesized app does to each AEP object the stacks own: create, patch in
place (which fields), replace (why), delete, no change, and drift (AEP differs from the last deploy).

  --previous <path>            the deployed app's cdk.out or template; without it the deployed
                               templates are read with CloudFormation GetTemplate (needs a region)
  --stack-name <name>          stack name of a single template file (default: the file name)
  --region <region>            region of the stacks (default: AWS_REGION)
  --sandbox <name>             read the live AEP objects of the stacks in this sandbox (by marker)
  --credentials-secret <id>    name or ARN of the AEP credential secret; without it: env
                               AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_ORG_ID [, AEP_SCOPES]
  --ims-url <url>, --flow-service-url <url>   endpoints (default production)
  --json                       machine-readable plan on stdout

Exit codes: 0 nothing is replaced or deleted in AEP; 1 a replacement or deletion is planned;
2 usage error; 3 an input could not be read.`;

const VALUE_FLAGS = new Set(['--previous', '--stack-name', '--region', '--sandbox', '--credentials-secret', '--ims-url', '--flow-service-url']);

/** Parses the arguments after `plan`; throws {@link UsageError}; undefined for `--help`. */
export function parsePlanArgs(argv: readonly string[]): PlanOptions | undefined {
  const values = new Map<string, string>();
  const positional: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return undefined;
    if (arg === '--json') {
      json = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.substring(0, eq) : arg;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) throw new UsageError(secretValueShape(arg) ? 'unknown argument (not shown: it looks like a secret value)' : `unknown argument '${arg}'`);
    const value = eq > 0 ? arg.substring(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    values.set(flag, value);
  }
  if (positional.length !== 1) throw new UsageError('give one cdk.out directory or template file');
  const secret = values.get('--credentials-secret');
  if (secret !== undefined && secretValueShape(secret)) {
    throw new UsageError('--credentials-secret takes the NAME or ARN of a Secrets Manager secret, not its value (not shown)');
  }
  return {
    app: positional[0],
    previous: values.get('--previous'),
    stackName: values.get('--stack-name'),
    region: values.get('--region'),
    sandbox: values.get('--sandbox'),
    credentialsSecret: secret,
    imsUrl: (values.get('--ims-url') ?? DefaultEndpoints.IMS_URL).replace(/\/+$/, ''),
    flowServiceUrl: (values.get('--flow-service-url') ?? DefaultEndpoints.FLOW_SERVICE_URL).replace(/\/+$/, ''),
    json,
  };
}
