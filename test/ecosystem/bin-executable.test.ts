import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';

/**
 * The `cdk-aep-s3` bin as jsii's Python, Java, .NET and Go wrappers run it: straight from the
 * unpacked npm tarball, with no npm in between to set the executable bit. `npx` would hide a
 * missing bit (npm chmods the files it links as bins), so the file is executed directly here.
 */
const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
const BIN = 'assets/cli/index.js';

let work: string;
let unpackedBin: string;

beforeAll(() => {
  if (!fs.existsSync(path.join(root, BIN))) throw new Error(`${BIN} is missing: run 'npx projen bundle' first`);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'bin-executable-'));
  // --ignore-scripts: what is packed is what the build left (no prepack hooks run here).
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
  const tarball = path.join(work, (JSON.parse(packed) as Array<{ filename: string }>)[0].filename);
  execFileSync('tar', ['-xzf', tarball, '-C', work]);
  unpackedBin = path.join(work, 'package', BIN);
}, 120_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('package.json names the bundle as the bin', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  expect(pkg.bin).toEqual({ 'cdk-aep-s3': BIN });
});

test('the tarball carries the bin with mode 755 and a node shebang', () => {
  expect(fs.statSync(unpackedBin).mode.toString(8).slice(-3)).toBe('755');
  expect(fs.readFileSync(unpackedBin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
});

test('run directly from the unpacked tarball, --help prints the usage and exits 0', async () => {
  const { stdout } = await run(unpackedBin, ['--help'], { cwd: work });
  expect(stdout).toMatch(/^Usage: cdk-aep-s3 <command>/);
  expect(stdout).toContain('doctor');
});

test('run directly with no command, it prints the usage on stderr and exits 2', async () => {
  const failure = await run(unpackedBin, [], { cwd: work }).then(() => undefined, (e: { code?: number; stderr?: string }) => e);
  expect(failure?.code).toBe(2);
  expect(failure?.stderr).toContain('Usage: cdk-aep-s3 <command>');
});
