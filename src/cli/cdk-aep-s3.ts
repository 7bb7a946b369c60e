/**
 * The `cdk-aep-s3` command (package `bin`), bundled to assets/cli/index.js. Not part of the jsii
 * API: nothing here is exported from src/index.ts, and lib/cli is left out of the package.
 */
import { DOCTOR_USAGE, parseDoctorArgs, UsageError } from './args';
import { ExitCodes, runDoctor } from './doctor';
import { PlanExitCodes, readable, renderPlanMarkdown, runPlan } from './plan';
import { PLAN_USAGE, parsePlanArgs } from './plan-args';
import { renderHuman } from './render';
import { errorMessage, redact, setLogSink } from '../plumbing/log';

const USAGE = `Usage: cdk-aep-s3 <command>

Commands:
  doctor    check an AEP sandbox, the API credential and leftovers of deleted stacks (--help for options)
  plan      what deploying a synthesized app does to each AEP object: patch, replace, delete (--help for options)`;

/** Where the command writes: the process's streams when run as the bin. */
export interface CliStreams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

type Env = Record<string, string | undefined>;

const PROCESS_STREAMS: CliStreams = { stdout: process.stdout, stderr: process.stderr };

/** Runs the command line; resolves to the exit code. Output goes through the redactor. */
export async function main(argv: readonly string[], env: Env = process.env, streams: CliStreams = PROCESS_STREAMS): Promise<number> {
  const out = (text: string) => streams.stdout.write(redact(text) + '\n');
  const err = (text: string) => streams.stderr.write(redact(text) + '\n');
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    out(USAGE);
    return ExitCodes.OK;
  }
  if (command === 'plan') return plan(rest, env, out, err);
  if (command !== 'doctor') {
    err(`${command === undefined ? 'no command given' : `unknown command '${command}'`}\n\n${USAGE}`);
    return ExitCodes.USAGE;
  }
  let options;
  try {
    options = parseDoctorArgs(rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`cdk-aep-s3 doctor: ${e.message}\n\n${DOCTOR_USAGE}`);
    return ExitCodes.USAGE;
  }
  if (!options) {
    out(DOCTOR_USAGE);
    return ExitCodes.OK;
  }
  // The handler's JSON log lines (retries) would corrupt the report on stdout.
  setLogSink(options.verbose ? (line) => streams.stderr.write(line) : () => undefined);
  // The SDK copy is bundled and pinned: its notice about future SDK releases needing Node 22 is
  // noise on stderr for a Node 20 user of this command.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // The secret is read with the SDK's default client; --region applies to it too.
  if (options.region) env.AWS_REGION = options.region;
  const report = await runDoctor(options, { env });
  out(options.json ? JSON.stringify(report, null, 2) : renderHuman(report));
  return report.exitCode;
}

type Print = (text: string) => void;

async function plan(argv: readonly string[], env: Record<string, string | undefined>, out: Print, err: Print): Promise<number> {
  let options;
  try {
    options = parsePlanArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`cdk-aep-s3 plan: ${e.message}\n\n${PLAN_USAGE}`);
    return PlanExitCodes.USAGE;
  }
  if (!options) {
    out(PLAN_USAGE);
    return PlanExitCodes.OK;
  }
  for (const path of [options.app, options.previous]) {
    if (path !== undefined && !readable(path)) {
      err(`cdk-aep-s3 plan: cannot read ${path}`);
      return PlanExitCodes.INPUT;
    }
  }
  setLogSink(() => undefined);
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let report;
  try {
    report = await runPlan(options, env);
  } catch (e) {
    err(`cdk-aep-s3 plan: cannot read the templates: ${errorMessage(e)}`);
    return PlanExitCodes.INPUT;
  }
  out(options.json ? JSON.stringify(report, null, 2) : renderPlanMarkdown(report));
  return report.exitCode;
}

/** {@link main}, with an unexpected failure reported as exit 1 instead of thrown (what the bin does). */
export async function run(argv: readonly string[], env: Env = process.env, streams: CliStreams = PROCESS_STREAMS): Promise<number> {
  try {
    return await main(argv, env, streams);
  } catch (e) {
    streams.stderr.write(`cdk-aep-s3: unexpected failure: ${errorMessage(e)}\n`);
    return ExitCodes.PROBLEMS;
  }
}

// Only as the bin: tests load this module to run the same code in-process.
if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
