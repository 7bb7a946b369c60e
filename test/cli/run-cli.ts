/**
 * Runs `cdk-aep-s3` for a test, two ways:
 *
 *  - `bundled`: the bin users get (assets/cli/index.js, or PLAN_CLI's unpacked tarball) as a child
 *    process. What it adds: the esbuild bundle and its shims, the process's real stdout/stderr
 *    (anything the SDK prints lands there too), exit codes of a real process.
 *  - in-process (the default): the same `run` the bin calls, from the source, in a fresh module
 *    registry per run, so no IMS token, SDK client, cached secret or redaction list survives from
 *    one run to the next, as between processes; `process.env` is exactly the given environment for
 *    the run. A spawn costs ~0.75 s of CPU (a node process parsing the whole bundle); this costs the
 *    requires of the CLI's own modules. The third-party libraries it requires (axios, the AWS SDK
 *    clients) are loaded once per test file and handed to every run's registry (see
 *    {@link shareLibraries}): evaluating them again was ~2/3 of a run's CPU, and the state a
 *    process would not carry over lives in the CLI's modules, which each run evaluates afresh.
 *
 * Tests in one file run one at a time, so swapping `process.env` for the run is safe; the stand-ins
 * live in this process and keep serving while the run awaits.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';

/** The bundled bin built by `npx projen bundle`. */
export const BUNDLED_CLI = path.resolve(__dirname, '../../assets/cli/index.js');

/** What one run of the command left behind. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of the run. */
  readonly ms: number;
}

/** How to run it. */
export interface CliRunOptions {
  /** Spawn this bundled bin instead of running the source in-process. */
  readonly bundled?: string;
  /** Kill the child (bundled) or give up waiting (in-process) after this long. @default 60 s */
  readonly timeoutMs?: number;
}

/** Runs `cdk-aep-s3 <args>` with exactly `env` as its environment. */
export function runCli(args: readonly string[], env: Record<string, string>, options: CliRunOptions = {}): Promise<CliRun> {
  return options.bundled ? spawned(options.bundled, args, env, options.timeoutMs ?? 60_000) : inProcess(args, env, options.timeoutMs ?? 60_000);
}

function spawned(bin: string, args: readonly string[], env: Record<string, string>, timeout: number): Promise<CliRun> {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`npx projen bundle\` first`);
  const started = Date.now();
  return new Promise((resolve) => {
    // Async on purpose: the stand-ins live in this process and must keep serving meanwhile.
    execFile(process.execPath, [bin, ...args], { env, timeout }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/**
 * Third-party modules the CLI requires (eagerly or lazily), shared by every in-process run.
 * None of them keeps state a run could see from an earlier one: the clients, agents, interceptors,
 * tokens and caches are created by the CLI's modules, per run (the SDK's endpoint cache is keyed by
 * the endpoint parameters). A package missing here is simply evaluated per run, as before.
 */
const SHARED_LIBRARIES = [
  'axios',
  'axios-retry',
  '@aws-sdk/client-cloudformation',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-sts',
  '@smithy/signature-v4',
  '@aws-crypto/sha256-js',
];
let librariesShared = false;

/**
 * Loads {@link SHARED_LIBRARIES} in this file's registry and makes each run's fresh registry
 * resolve them to those instances. axios is loaded through the CLI's own loader first, so the
 * shared instance is the one the CLI would load (Node's fetch globals hidden meanwhile).
 */
function shareLibraries(): void {
  if (librariesShared) return;
  librariesShared = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../src/aep/axios-loader');
  for (const name of SHARED_LIBRARIES) {
    const loaded: unknown = jest.requireActual(name);
    jest.doMock(name, () => loaded);
  }
}

async function inProcess(args: readonly string[], env: Record<string, string>, timeout: number): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  shareLibraries();
  const saved = process.env;
  process.env = { ...env };
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    let run!: typeof import('../../src/cli/cdk-aep-s3').run;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      run = require('../../src/cli/cdk-aep-s3').run;
    });
    const streams = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } };
    const timedOut = new Promise<number>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cdk-aep-s3 ${args.join(' ')}: no exit after ${timeout} ms`)), timeout);
    });
    const code = await Promise.race([run(args, process.env, streams), timedOut]);
    return { code, stdout: out.join(''), stderr: err.join(''), ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
    process.env = saved;
    // A process's sockets end with it: each run's fresh axios would otherwise add its 'error'
    // listener to the same pooled keep-alive sockets of Node's global agents (MaxListenersExceeded
    // past ten runs), and could reuse a connection an earlier run opened.
    http.globalAgent.destroy();
    https.globalAgent.destroy();
  }
}
