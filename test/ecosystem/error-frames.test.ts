import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { App, Errors, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AepS3Destination, AudienceSchedule, ExportType, FileEncryption } from '../../src';
import { ACCOUNT, REGION, newSandbox } from '../destination/util';

/**
 * Synth errors read like aws-cdk-lib's own: the message names the construct path (jsii hands
 * only the message to Python, Java, .NET and Go), and the stack Node prints starts at the user's
 * line, with none of the library's frames before it.
 */
const root = path.resolve(__dirname, '../..');
const run = promisify(execFile);

const CONSUMER = `
const { App, Stack } = require('aws-cdk-lib');
const s3 = require('aws-cdk-lib/aws-s3');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const { AepS3Destination, AepSandbox } = require(process.env.CDK_AEP_S3);
const app = new App();
const stack = new Stack(app, 'Consumer', { env: { account: '111111111111', region: 'us-east-1' } });
const credentials = secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'aep/credentials');
const sandbox = new AepSandbox({ credentials, sandboxName: 'prod', imsOrgId: 'ABC123DEF456@AdobeOrg' });
new AepS3Destination(stack, 'Exports', { // USER LINE
  sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports'), folderPath: 'aep/%DESTINATION%',
});
`;

describe('an uncaught synth error in a consumer app (child process)', () => {
  let stderr: string;
  let consumerFile: string;

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'error-frames-'));
    consumerFile = path.join(dir, 'app.js');
    fs.writeFileSync(consumerFile, CONSUMER);
    // The library from its TypeScript sources: ts-node maps frames to src/, which is what a
    // library frame looks like here (lib/ in an installed package).
    const result = await run(process.execPath, ['-r', 'ts-node/register', consumerFile], {
      cwd: root,
      env: { ...process.env, CDK_AEP_S3: path.join(root, 'src'), NODE_PATH: path.join(root, 'node_modules'), TS_NODE_PROJECT: path.join(root, 'tsconfig.dev.json'), TS_NODE_TRANSPILE_ONLY: '1' },
    }).then(() => undefined, (e: { code?: number; stderr: string }) => e);
    fs.rmSync(dir, { recursive: true, force: true });
    if (!result) throw new Error('the consumer app synthesized: expected a validation error');
    stderr = result.stderr;
  }, 120_000);

  test('reads as a ValidationError naming the property, the value and the construct path', () => {
    expect(stderr).toContain('ValidationError: Invalid folderPath "aep/%DESTINATION%": %DESTINATION% is not a folder macro');
    expect(stderr).toContain('\n    at path [Consumer/Exports]\n');
  });

  test("the first stack frame is the user's line; no library frame comes before it", () => {
    const frames = stderr.split('\n').filter((l) => /^ {4}at /.test(l) && !l.startsWith('    at path ['));
    const userLine = CONSUMER.split('\n').findIndex((l) => l.includes('// USER LINE')) + 1;
    const userFrame = frames.findIndex((l) => l.includes(`${consumerFile}:${userLine}:`));
    expect(userFrame).toBe(0);
    expect(frames.filter((l) => l.includes(path.join(root, 'src')))).toEqual([]);
  });
});

describe('in process', () => {
  const newStack = () => new Stack(new App(), 'Errors', { env: { account: ACCOUNT, region: REGION } });
  const bucketOf = (stack: Stack) => s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports');

  function thrown(fn: () => unknown): Error & { constructPath?: string } {
    try {
      fn();
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected an error, nothing was thrown');
  }

  test("aws-cdk-lib's Errors.isValidationError recognizes it, with the path as a property", () => {
    const stack = newStack();
    const error = thrown(() => new AepS3Destination(stack, 'Exports', { sandbox: newSandbox(stack), bucket: bucketOf(stack), folderPath: 'aep/%DESTINATION%' }));
    expect(Errors.isValidationError(error)).toBe(true);
    expect(error.name).toBe('ValidationError');
    expect(error.constructPath).toBe('Errors/Exports');
    expect(Object.keys(error)).toEqual([]);
  });

  test('a construct subclassed by the user is named by its own path', () => {
    class TeamDestination extends AepS3Destination {}
    const stack = newStack();
    const error = thrown(() => new TeamDestination(stack, 'Team', { sandbox: newSandbox(stack), bucket: bucketOf(stack), folderPath: 'aep/%DESTINATION%' }));
    expect(error.message).toMatch(/\n {4}at path \[Errors\/Team\]$/);
  });

  test("a construct's method names the construct it was called on", () => {
    const stack = newStack();
    const destination = new AepS3Destination(stack, 'Datasets', { sandbox: newSandbox(stack), bucket: bucketOf(stack), exportType: ExportType.DATASETS });
    const error = thrown(() => destination.addAudienceDataflow('Flow', {
      audiences: [{ audienceId: 'a1b2c3d4-0000-4000-8000-000000000001', schedule: AudienceSchedule.dailyFullAfterSegmentation({ startDate: '2026-01-01' }) }],
    }));
    expect(error.message).toMatch(/^Invalid exportType "DATASETS": .*\n {4}at path \[Errors\/Datasets\]$/s);
  });

  test('a factory outside any construct names no path (as aws-cdk-lib\'s unscoped errors)', () => {
    const error = thrown(() => FileEncryption.pgp('not-base64'));
    expect(Errors.isValidationError(error)).toBe(true);
    expect(error.message).not.toContain('at path');
  });

  test('a construct finished earlier is not named by a later factory error', () => {
    const stack = newStack();
    new AepS3Destination(stack, 'Fine', { sandbox: newSandbox(stack), bucket: bucketOf(stack) });
    expect(thrown(() => FileEncryption.pgp('not-base64')).message).not.toContain('Errors/Fine');
  });
});
