/**
 * The example app synthesizes to the same bytes whatever the machine's time zone: schedule times
 * carry their zone in the API, so a laptop in New York and CI in UTC deploy the same schedule.
 * Each synth runs in its own process, because Node reads TZ once per process.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '../..');
// TypeScript in the child as in jest (esbuild, transpile only).
const REGISTER = path.join(root, 'test/jest/esbuild-register.js');

const CHILD = `
const path = require('path');
const { buildExampleApp } = require(path.join(process.argv[1], 'examples/app'));
buildExampleApp(process.argv[2]).synth();
// The zone-less form a user might write must be refused in every zone, not read in this one.
const { IngestionSchedule, DatasetExportSchedule } = require(path.join(process.argv[1], 'src'));
for (const make of [() => IngestionSchedule.once({ startTime: '2025-01-01T00:00:00' }), () => DatasetExportSchedule.daily({ startTime: '2025-01-01T00:00:00' })]) {
  try {
    make();
    console.log('accepted');
  } catch (e) {
    console.log(e.message);
  }
}
`;

interface Synth {
  readonly template: string;
  /** What the child printed: one line per zone-less schedule time it tried. */
  readonly stdout: string;
}

function synthIn(tz: string): Promise<Synth> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `example-tz-${tz.replace(/\W/g, '_')}-`));
  // Only what the child needs: no jest hooks through NODE_OPTIONS, and the zone under test.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), TZ: tz };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-r', REGISTER, '-e', CHILD, root, outdir], { cwd: root, env, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`synth with TZ=${tz} failed: ${err.message}\n${stderr}`));
      try {
        resolve({ template: fs.readFileSync(path.join(outdir, 'AepS3Example.template.json'), 'utf8'), stdout });
      } catch (e) {
        reject(e);
      } finally {
        fs.rmSync(outdir, { recursive: true, force: true });
      }
    });
  });
}

test('examples/app.ts synthesizes byte for byte the same with TZ=UTC and TZ=America/New_York; a zone-less time is refused in both', async () => {
  const [utc, newYork] = await Promise.all([synthIn('UTC'), synthIn('America/New_York')]);
  expect(utc.template.length).toBeGreaterThan(1000);
  expect(newYork.template).toBe(utc.template);
  const refused = 'Invalid schedule.startTime "2025-01-01T00:00:00": has no time zone';
  for (const run of [utc, newYork]) {
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toContain(refused);
  }
}, 240_000);
