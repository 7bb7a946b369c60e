/**
 * The API compatibility gate (run by .ci/run after `npx projen compile`): jsii-diff between the
 * committed baseline assembly (api-baseline/cdk-aep-s3.jsii) and the one just compiled (.jsii),
 * failing on any break that api-baseline/accepted-breaks.txt does not list.
 *
 *   ts-node test/gates/api-compat.ts           check
 *   ts-node test/gates/api-compat.ts --update  the compiled .jsii becomes the baseline (a release,
 *                                              or a deliberate break accepted in the same PR)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
export const BASELINE = path.join(ROOT, 'api-baseline', 'cdk-aep-s3.jsii');
export const ACCEPTED_BREAKS = path.join(ROOT, 'api-baseline', 'accepted-breaks.txt');

/**
 * jsii-diff reads an assembly's dependencies (aws-cdk-lib, constructs) from beside it, so a lone
 * assembly file becomes a package directory: the assembly as `.jsii`, a package.json declaring the
 * dependencies the assembly itself records (what its types may reference; the repository's
 * package.json may have moved on since a baseline was taken) with the repository's jsii section,
 * and the repository's node_modules to find them in.
 */
function asPackage(assemblyFile: string, work: string, name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.copyFileSync(assemblyFile, path.join(dir, '.jsii'));
  const assembly = JSON.parse(fs.readFileSync(assemblyFile, 'utf8'));
  const repo = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: assembly.name, version: assembly.version, jsii: repo.jsii, peerDependencies: assembly.dependencies ?? {},
  }));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** What jsii-diff said. */
export interface ApiDiffResult {
  /** 0: compatible (or every break accepted). */
  readonly code: number;
  readonly output: string;
}

/** jsii-diff `baseline` → `current` (assembly files), `--keys`, with `ignoreFile` when it exists. */
export function apiDiff(baseline: string, current: string, ignoreFile: string = ACCEPTED_BREAKS): ApiDiffResult {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-aep-s3-api-'));
  try {
    const args = ['--keys', ...(fs.existsSync(ignoreFile) ? ['--ignore-file', ignoreFile] : []),
      asPackage(baseline, work, 'baseline'), asPackage(current, work, 'current')];
    const res = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'jsii-diff'), args, {
      encoding: 'utf8',
      env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
    });
    return { code: res.status ?? 1, output: `${res.stdout ?? ''}${res.stderr ?? ''}` };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function main(): number {
  const started = Date.now();
  const compiled = path.join(ROOT, '.jsii');
  if (!fs.existsSync(compiled)) {
    console.error('api: no .jsii here: run `npx projen compile` first');
    return 1;
  }
  if (process.argv.includes('--update')) {
    fs.copyFileSync(compiled, BASELINE);
    console.log(`api: ${path.relative(ROOT, BASELINE)} is now the compiled assembly; commit it`);
    return 0;
  }
  const { code, output } = apiDiff(BASELINE, compiled);
  console.log(output.trim());
  if (code !== 0) {
    console.error([
      'api: FAIL the public API breaks compatibility with api-baseline/cdk-aep-s3.jsii.',
      'If the break is deliberate, either list its key (in [brackets] above) in api-baseline/accepted-breaks.txt,',
      'or refresh the baseline in the same pull request: npx projen compile && npx ts-node --project tsconfig.dev.json test/gates/api-compat.ts --update',
    ].join('\n'));
  }
  console.log(`api: ${code === 0 ? 'passed' : 'failed'} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return code === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main();
