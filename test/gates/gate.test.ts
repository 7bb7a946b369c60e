import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import type { CfnTemplate } from './destructive';
import { runGate, snapshotText } from './gate';
import { type FocusedInputs, focusedSourceStack, templateOf } from './stacks';

/**
 * Each input's template is synthesized once (several tests use the same change); every call gets
 * its own copy, so no test sees what another one did with it.
 */
const synthesized = new Map<string, string>();
const source = (inputs: FocusedInputs = {}): CfnTemplate => {
  const key = JSON.stringify(inputs);
  if (!synthesized.has(key)) synthesized.set(key, JSON.stringify(templateOf(focusedSourceStack(new App(), inputs))));
  return JSON.parse(synthesized.get(key)!);
};
const deployed = source();

let dir: string;
let snapshots: string;
let ackFile: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-test-'));
  snapshots = path.join(dir, 'snapshots');
  ackFile = path.join(dir, 'acknowledged-replacements.json');
  fs.mkdirSync(snapshots);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A pull request whose code synthesizes `now`, with its snapshot refreshed, against a base that deployed `deployed`. */
function pullRequest(now: CfnTemplate, acks?: object[]) {
  fs.writeFileSync(path.join(snapshots, 'GateSource.template.json'), snapshotText(now));
  if (acks) fs.writeFileSync(ackFile, JSON.stringify({ acknowledged: acks }));
  return runGate({ current: { GateSource: now }, snapshotDir: snapshots, ackFile, before: () => ({ template: deployed, from: 'base' }), update: false });
}

test('a patch-only change with its snapshot refreshed passes', () => {
  expect(pullRequest(source({ description: 'v2' })).problems).toEqual([]);
});

test('a replacement fails even with the snapshot refreshed (the base decides), naming resource, reason and the entry to add', () => {
  const { problems } = pullRequest(source({ sourceAuth: 'iamRole' }));
  const connection = problems.find((p) => p.includes('(Custom::AepConnection)'))!;
  expect(connection).toMatch(/^GateSource\/CrmIngestConnection\w+ \(Custom::AepConnection\) would be REPLACED: AuthSpecName "Access Key" → "IAMRole Based"/);
  expect(connection).toMatch(/add to .*acknowledged-replacements\.json "acknowledged": \{"stack":"GateSource","logicalId":"CrmIngestConnection\w+","change":"replace"/);
  expect(problems).toHaveLength(5);
});

test('the same change passes once every replacement is acknowledged in the file, with a reason', () => {
  const now = source({ sourceAuth: 'iamRole' });
  const first = pullRequest(now);
  const acks = first.problems.map((p) => ({ ...JSON.parse(p.slice(p.lastIndexOf('"acknowledged": ') + '"acknowledged": '.length)), why: 'moving to AEP on AWS' }));
  const { problems, log } = pullRequest(now, acks);
  expect(problems).toEqual([]);
  expect(log.filter((l) => l.startsWith('acknowledged: '))).toHaveLength(5);
});

test('a stale snapshot fails, and --update rewrites it', () => {
  fs.writeFileSync(path.join(snapshots, 'GateSource.template.json'), snapshotText(deployed));
  const now = source({ description: 'v2' });
  const run = (update: boolean) => runGate({ current: { GateSource: now }, snapshotDir: snapshots, ackFile, before: () => undefined, update });
  expect(run(false).problems).toEqual([expect.stringMatching(/GateSource\.template\.json is stale/)]);
  expect(run(true).problems).toEqual([]);
  expect(fs.readFileSync(path.join(snapshots, 'GateSource.template.json'), 'utf8')).toBe(snapshotText(now));
  expect(run(false).problems).toEqual([]);
});

test('the committed snapshots are what the current code synthesizes', () => {
  // The CI check minus git: committed snapshots against themselves, for the current code.
  const { snapshotTemplates } = jest.requireActual('./stacks') as typeof import('./stacks');
  const committed = path.join(__dirname, 'snapshots');
  const res = runGate({
    current: snapshotTemplates(),
    snapshotDir: committed,
    ackFile: path.join(__dirname, 'acknowledged-replacements.json'),
    before: (stack) => ({ template: JSON.parse(fs.readFileSync(path.join(committed, `${stack}.template.json`), 'utf8')), from: 'working tree' }),
    update: false,
  });
  expect(res.problems).toEqual([]);
});
