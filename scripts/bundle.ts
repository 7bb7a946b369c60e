/**
 * The two esbuild bundles the package ships, built in one process through esbuild's API:
 *
 *   node -r ./test/jest/esbuild-register.js scripts/bundle.ts [handler|cli]... [--watch]   (no name: both)
 *
 * `npx projen bundle` (before `npm test`, `npm run demo`, the jsii compile in CI) ran each bundle as
 * its own projen task and process, ~5.9 s of wall and ~7.4 s of CPU for ~1.2 s of esbuild work; CI
 * builds three times a run (issue 19). These are the options those command lines passed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, context, type BuildOptions } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');

// axios's Node adapter drags in form-data (+ mime-db, 137 KB) and debug although neither the
// handler nor the CLI sends multipart bodies or traces with DEBUG=: tiny shims replace them.
const SHIMS = {
  'form-data': './src/handler/shims/form-data.ts',
  'debug': './src/handler/shims/debug.ts',
};

const COMMON: BuildOptions = {
  bundle: true,
  platform: 'node',
  tsconfig: 'tsconfig.dev.json',
  minify: true,
  legalComments: 'none',
  alias: SHIMS,
  logLevel: 'warning',
  absWorkingDir: ROOT,
};

/** The bundles by name; the file each writes is what the constructs and the package reference. */
export const BUNDLES: Record<string, BuildOptions> = {
  // The Lambda handler: the runtime provides the AWS SDK v3 (nodejs22.x, the function's runtime).
  handler: {
    ...COMMON,
    entryPoints: ['src/handler/aep.lambda.ts'],
    outfile: 'assets/handler/aep.lambda/index.js',
    target: 'node22',
    external: ['@aws-sdk/*'],
  },
  // The `cdk-aep-s3` bin: one self-contained file run by `npx cdk-aep-s3` with nothing installed
  // (SDK clients and axios inlined). Node 20 is the package's minimum.
  cli: {
    ...COMMON,
    entryPoints: ['src/cli/cdk-aep-s3.ts'],
    outfile: 'assets/cli/index.js',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
};

/**
 * Readers never see half a bundle: in CI, jsii-pacmak packs the package while `npm run demo` bundles
 * again beside it (and bin-executable.test.ts packs it too). An unchanged bundle is not rewritten.
 */
function writeAtomically(file: string, contents: Uint8Array, mode: number): void {
  try {
    if (Buffer.from(contents).equals(fs.readFileSync(file))) {
      if (fs.statSync(file).mode % 0o1000 !== mode) fs.chmodSync(file, mode);
      return;
    }
  } catch {
    // not there yet
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, contents);
  fs.chmodSync(temp, mode);
  fs.renameSync(temp, file);
}

async function main(args: string[]): Promise<void> {
  const watch = args.includes('--watch');
  const names = args.filter((arg) => arg !== '--watch');
  const unknown = names.filter((name) => !(name in BUNDLES));
  if (unknown.length) throw new Error(`bundle: unknown bundle ${unknown.join(', ')} (known: ${Object.keys(BUNDLES).join(', ')})`);
  const chosen = names.length ? names : Object.keys(BUNDLES);
  if (watch) {
    // Rebuilds on every change until Ctrl-C (esbuild writes the files itself).
    await Promise.all(chosen.map(async (name) => (await context(BUNDLES[name])).watch()));
    return;
  }
  await Promise.all(chosen.map(async (name) => {
    const started = Date.now();
    const { outputFiles } = await build({ ...BUNDLES[name], write: false });
    // npm sets the executable bit only where it links a bin (npx, npm install); jsii's Python, Java,
    // .NET and Go wrappers run the file from the unpacked tarball directly, which needs mode 755 in
    // the tarball (npm pack keeps the file's mode). test/ecosystem/bin-executable.test.ts checks it.
    const mode = name === 'cli' ? 0o755 : 0o644;
    for (const file of outputFiles) writeAtomically(file.path, file.contents, mode);
    console.log(`bundle: ${BUNDLES[name].outfile} (${Date.now() - started} ms)`);
  }));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
