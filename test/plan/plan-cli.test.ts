/**
 * `cdk-aep-s3 plan` as users run it: the BUNDLED command (assets/cli/index.js, or the bin of an
 * unpacked tarball named by PLAN_CLI), spawned, on committed and synthesized templates. The
 * library-upgrade case plans the current library's template over one synthesized at main c37f2b8
 * (test/plan/fixtures, written by scripts/plan-upgrade-fixture.ts).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { upgradeFixtureTemplate } from '../../scripts/plan-upgrade-fixture';
import * as lib from '../../src';

const CLI = process.env.PLAN_CLI ?? path.resolve(__dirname, '../../assets/cli/index.js');
const FIXTURE = path.join(__dirname, 'fixtures', 'c37f2b8.template.json');

jest.setTimeout(60_000);

function plan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
    execFile(process.execPath, [CLI, 'plan', ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-cli-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('library upgrade from c37f2b8: the current library replaces and deletes nothing in AEP (exit 0), and says what it could not see', async () => {
  const now = path.join(dir, 'UpgradeApp.template.json');
  fs.writeFileSync(now, JSON.stringify(upgradeFixtureTemplate(lib)));
  const { code, stdout } = await plan([now, '--previous', FIXTURE, '--json']);
  const report = JSON.parse(stdout) as { entries: Array<{ logicalId: string; action: string; resourceType: string }>; notSeen: string[] };
  expect(report.entries.length).toBe(8);
  expect(report.entries.filter((e) => e.action !== 'none')).toEqual([]);
  expect(report.notSeen.join(' ')).toMatch(/AEP was not read/);
  expect(code).toBe(0);
});

test('a construct removed from the app: Markdown names the deleted objects, exit 1 for the pipeline gate', async () => {
  const template = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { Resources: Record<string, { Type: string }> };
  const removed = Object.keys(template.Resources).filter((id) => /^InboundCrm/.test(id));
  expect(removed.length).toBeGreaterThan(0);
  for (const id of removed) delete template.Resources[id];
  const now = path.join(dir, 'UpgradeApp.template.json');
  fs.writeFileSync(now, JSON.stringify(template));
  const { code, stdout } = await plan([now, '--previous', FIXTURE]);
  expect(stdout).toMatch(/^## cdk-aep-s3 plan/);
  expect(stdout).toMatch(/\| `UpgradeApp\/InboundCrmFlowCF1718F8` \(dataflow\) \| \*\*delete\*\* \|/);
  expect(stdout).toMatch(/mapping set\) \| retain/);
  expect(code).toBe(1);
});

test('no previous template and no region: every object shows as a create, and the plan says why', async () => {
  const { code, stdout } = await plan([FIXTURE, '--stack-name', 'UpgradeApp']);
  expect(stdout).toMatch(/8 to create/);
  expect(stdout).toMatch(/no --previous and no AWS region/);
  expect(code).toBe(0);
});

test('usage: no input is exit 2, an unreadable input exit 3', async () => {
  expect((await plan([])).code).toBe(2);
  expect((await plan([path.join(dir, 'missing.json')])).code).toBe(3);
});
