/**
 * The destructive-change gate (run by .ci/run):
 *
 *   ts-node test/gates/gate.ts           check: fails when a snapshot is stale, or when the
 *                                        templates would REPLACE or DELETE an AEP object or an
 *                                        IAM identity a connection depends on, unacknowledged
 *   ts-node test/gates/gate.ts --update  rewrites the snapshots and prints what to acknowledge
 *
 * "Before" is the snapshot as committed on the base branch (GATES_BASE_REF, else the merge base
 * with origin/main or main), so refreshing the snapshots in a pull request does not hide the
 * replacement it brings; without git history, the committed snapshot in the working tree.
 *
 * Why not @aws-cdk/integ-runner's snapshot mode: its destructive-change check knows
 * CloudFormation's replacement rules only, so a custom-resource property change never reads as a
 * replacement (the handler decides that), and its `allowDestroy` acknowledges a resource type,
 * not one resource for one reason. It would also add a pinned CLI (aws-cdk 2.x) and integ-runner
 * (offline only with aws-cdk-lib <= 2.257) to the dev toolchain for nothing the comparer here
 * needs: a synth, committed templates and one table of rules.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { type Acknowledgement, acknowledgementFor, type CfnTemplate, canonical, describe, destructiveChanges, type DestructiveChange, judge } from './destructive';
import { snapshotTemplates } from './stacks';

const ROOT = path.join(__dirname, '..', '..');
export const SNAPSHOT_DIR = path.join(__dirname, 'snapshots');
export const ACK_FILE = path.join(__dirname, 'acknowledged-replacements.json');

const snapshotFile = (stack: string) => path.join(SNAPSHOT_DIR, `${stack}.template.json`);
const rel = (file: string) => path.relative(ROOT, file).split(path.sep).join('/');

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The commit whose snapshots count as "what is deployed today", if git can tell. */
export function baseCommit(): string | undefined {
  const explicit = process.env.GATES_BASE_REF;
  if (explicit) {
    const c = git(['rev-parse', '--verify', `${explicit}^{commit}`]);
    if (!c) throw new Error(`GATES_BASE_REF=${explicit} is not a commit here`);
    return c;
  }
  for (const ref of ['origin/main', 'main']) {
    if (git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])) {
      const base = git(['merge-base', 'HEAD', ref]);
      if (base) return base;
    }
  }
  return undefined;
}

/** The snapshot of `stack` at `commit`, else the working tree's (undefined: a new stack). */
function snapshotAt(commit: string | undefined, stack: string): { template: CfnTemplate; from: string } | undefined {
  if (commit) {
    const text = git(['show', `${commit}:${rel(snapshotFile(stack))}`]);
    if (text !== undefined) return { template: JSON.parse(text) as CfnTemplate, from: commit.slice(0, 12) };
    // The base has no snapshot of it (a new stack, or the gate's own first pull request).
  }
  const file = snapshotFile(stack);
  return fs.existsSync(file) ? { template: JSON.parse(fs.readFileSync(file, 'utf8')) as CfnTemplate, from: 'working tree' } : undefined;
}

export function readAcknowledgements(file = ACK_FILE): Acknowledgement[] {
  if (!fs.existsSync(file)) return [];
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { acknowledged?: Acknowledgement[] };
  return parsed.acknowledged ?? [];
}

/** Snapshot text: stable key order as synthesized, 2-space JSON, trailing newline. */
export const snapshotText = (t: CfnTemplate): string => `${JSON.stringify(t, null, 2)}\n`;

/** Inputs of one gate run (the CLI passes the real ones; tests pass fixtures). */
export interface GateRun {
  /** Normalized templates of the current code, by stack name. */
  readonly current: Record<string, CfnTemplate>;
  /** Committed snapshots (`<stack>.template.json`). */
  readonly snapshotDir: string;
  readonly ackFile: string;
  /** "What is deployed today" for a stack (the base branch's snapshot), undefined for a new stack. */
  readonly before: (stack: string) => { template: CfnTemplate; from: string } | undefined;
  /** Rewrite the snapshots instead of failing on stale ones. */
  readonly update: boolean;
}

/** Runs the gate: what it says, and the failures (empty = passed). */
export function runGate(run: GateRun): { log: string[]; problems: string[] } {
  const log: string[] = [];
  const problems: string[] = [];
  const changes: DestructiveChange[] = [];
  const fileOf = (stack: string) => path.join(run.snapshotDir, `${stack}.template.json`);
  const shown = (file: string) => (file.startsWith(ROOT) ? rel(file) : file);

  for (const [stack, template] of Object.entries(run.current)) {
    const before = run.before(stack);
    if (before) changes.push(...destructiveChanges(stack, before.template, template));
    log.push(`${stack}: compared with the snapshot of ${before ? before.from : 'nothing (new stack)'}`);
    const file = fileOf(stack);
    const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    if (run.update) {
      fs.mkdirSync(run.snapshotDir, { recursive: true });
      if (committed !== snapshotText(template)) {
        fs.writeFileSync(file, snapshotText(template));
        log.push(`wrote ${shown(file)}`);
      }
    } else if (committed === undefined || canonical(JSON.parse(committed)) !== canonical(template)) {
      problems.push(`${shown(file)} is stale: the stack's template changed. Review the change, run `
        + "'npx ts-node --project tsconfig.dev.json test/gates/gate.ts --update' and commit the snapshot.");
    }
  }
  for (const file of fs.existsSync(run.snapshotDir) ? fs.readdirSync(run.snapshotDir) : []) {
    const stack = file.replace(/\.template\.json$/, '');
    if (stack in run.current) continue;
    if (run.update) fs.rmSync(path.join(run.snapshotDir, file));
    else problems.push(`${shown(path.join(run.snapshotDir, file))} belongs to no snapshotted stack: delete it (--update does)`);
  }

  const verdict = judge(changes, readAcknowledgements(run.ackFile));
  for (const c of verdict.acknowledged) log.push(`acknowledged: ${describe(c)}`);
  for (const a of verdict.unused) log.push(`note: acknowledgement of ${a.stack}/${a.logicalId} (${a.change}) matches no change; remove it once merged`);
  for (const c of verdict.unacknowledged) {
    problems.push(`${describe(c)}\n  If intended, add to ${shown(run.ackFile)} "acknowledged": ${JSON.stringify(acknowledgementFor(c))}`);
  }
  return { log, problems };
}

function main(): number {
  const started = Date.now();
  const base = baseCommit();
  const { log, problems } = runGate({
    current: snapshotTemplates(),
    snapshotDir: SNAPSHOT_DIR,
    ackFile: ACK_FILE,
    before: (stack) => snapshotAt(base, stack),
    update: process.argv.includes('--update'),
  });
  for (const line of log) console.log(`gate: ${line}`);
  for (const p of problems) console.error(`gate: FAIL ${p}`);
  console.log(`gate: ${problems.length ? 'failed' : 'passed'} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return problems.length ? 1 : 0;
}

if (require.main === module) process.exitCode = main();
