import { spawnSync } from 'child_process';
import * as path from 'path';

/** What {@link measureColdRequire} measured (medians over fresh Node processes). */
export interface ColdRequireResult {
  /** Median ms to `require` the bundle under test in a fresh process. */
  readonly bundleMs: number;
  /** Median ms to `require` the baseline bundle (aws-cdk-lib's AwsCustomResource handler). */
  readonly baselineMs: number;
  /** `bundleMs / baselineMs`. */
  readonly ratio: number;
  /** Median wall ms of the whole `node` process requiring the bundle (start-up included, as in a Lambda init). */
  readonly bundleProcessMs: number;
  /** Median wall ms of the whole `node` process requiring the baseline bundle. */
  readonly baselineProcessMs: number;
  /** `bundleProcessMs / baselineProcessMs`. */
  readonly processRatio: number;
  /** Fresh processes per bundle. */
  readonly runs: number;
  /** The `@aws-sdk/*` packages the bundle loaded at require time (only its first run is inspected). */
  readonly sdkPackagesAtRequire: string[];
}

/** Options of {@link measureColdRequire}. */
export interface ColdRequireOptions {
  /** Fresh processes per bundle (default 15). */
  readonly runs?: number;
  /** Bundle to compare against (default {@link awsCustomResourceHandlerPath}). */
  readonly baselinePath?: string;
}

/**
 * The bundled handler of aws-cdk-lib's `AwsCustomResource` (what `cdk synth` uploads as its Lambda
 * asset), from the aws-cdk-lib this project installed.
 */
export function awsCustomResourceHandlerPath(): string {
  const cdkLibDir = path.dirname(require.resolve('aws-cdk-lib/package.json'));
  return path.join(cdkLibDir, 'custom-resource-handlers/dist/custom-resources/aws-custom-resource-handler/index.js');
}

// Runs in the child: times only the require (Node's own start-up is the same for both bundles and
// would dilute the ratio), then lists the @aws-sdk packages that came with it.
const CHILD = `
const t0 = process.hrtime.bigint();
require(process.argv[1]);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const sdk = new Set();
for (const f of Object.keys(require.cache)) {
  const m = /node_modules[\\\\/](@aws-sdk[\\\\/][^\\\\/]+)/.exec(f);
  if (m) sdk.add(m[1].replace('\\\\', '/'));
}
process.stdout.write(JSON.stringify({ ms, sdk: [...sdk].sort() }));
`;

interface Sample {
  /** The require alone, timed inside the child. */
  readonly ms: number;
  /** The whole child process, timed from here. */
  readonly processMs: number;
  readonly sdk: string[];
}

function requireOnce(bundlePath: string): Sample {
  const env = { ...process.env };
  // ts-node/jest hooks in NODE_OPTIONS would be loaded into the child and time themselves.
  delete env.NODE_OPTIONS;
  const started = process.hrtime.bigint();
  const out = spawnSync(process.execPath, ['-e', CHILD, bundlePath], { env, encoding: 'utf8' });
  const processMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (out.status !== 0) {
    throw new Error(`require(${bundlePath}) failed in a fresh node process: ${out.stderr}`);
  }
  return { ...JSON.parse(out.stdout) as { ms: number; sdk: string[] }, processMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Cold `require` time of a Lambda bundle against aws-cdk-lib's `AwsCustomResource` handler: each
 * run is a fresh `node` process (nothing cached in memory; the file system cache is warm for both
 * alike), the two bundles alternate so machine noise hits both, and the medians are compared.
 * `@aws-sdk/*` resolves from this project's node_modules, as it resolves from the Lambda runtime.
 */
export function measureColdRequire(bundlePath: string, options: ColdRequireOptions = {}): ColdRequireResult {
  const runs = options.runs ?? 15;
  const baselinePath = options.baselinePath ?? awsCustomResourceHandlerPath();
  const bundle = path.resolve(bundlePath);
  // One unmeasured run each warms the file system cache so the first measured run is not an outlier.
  const first = requireOnce(bundle);
  requireOnce(baselinePath);
  const ours: Sample[] = [];
  const theirs: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    ours.push(requireOnce(bundle));
    theirs.push(requireOnce(baselinePath));
  }
  const bundleMs = median(ours.map((s) => s.ms));
  const baselineMs = median(theirs.map((s) => s.ms));
  const bundleProcessMs = median(ours.map((s) => s.processMs));
  const baselineProcessMs = median(theirs.map((s) => s.processMs));
  return {
    bundleMs,
    baselineMs,
    ratio: bundleMs / baselineMs,
    bundleProcessMs,
    baselineProcessMs,
    processRatio: bundleProcessMs / baselineProcessMs,
    runs,
    sdkPackagesAtRequire: first.sdk,
  };
}
