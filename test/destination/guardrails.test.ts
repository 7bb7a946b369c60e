/**
 * Checks that need more than one construct, or AEP's guardrails (API-NOTES §10): two destinations
 * sharing a folder (warning), 100 destinations per sandbox (hard: error, counted per stack), 250
 * audiences and 50 mapped attributes per audience dataflow (soft: warnings). Boundaries included.
 */
import { App, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { newSandbox, newStack } from './util';
import {
  AepEndpoints, AepS3Destination, AepSandbox, AudienceExport, AudienceSchedule, ExportType, S3DestinationAuth,
} from '../../src';

const SHARED = 'cdk-aep-s3:destination-folder-shared';
const warningsOf = (stack: Stack, id: string) =>
  Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(id)).map((w) => ({ path: w.id, text: String(w.entry.data) }));

describe('two destinations on the same bucket and folder', () => {
  test('same literal bucket and folder: one warning naming both construct paths', () => {
    const stack = newStack();
    const sandbox = newSandbox(stack);
    new AepS3Destination(stack, 'First', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B1', 'acme-aep-exports'), folderPath: 'aep/out' });
    new AepS3Destination(stack, 'Second', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B2', 'acme-aep-exports'), folderPath: 'aep/out/' });
    const warnings = warningsOf(stack, SHARED);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].path).toBe('/Dest/Second');
    expect(warnings[0].text).toContain('Destinations Dest/First and Dest/Second share a folder: both write to s3://acme-aep-exports/aep/out/.');
    expect(warnings[0].text).toContain("Each one's AEP credential may delete the other's exports");
    expect(warnings[0].text).toContain(`[ack: ${SHARED}]`);
  });

  test('one bucket created in the stack (name unknown until deploy), compared by identity', () => {
    const stack = newStack();
    const sandbox = newSandbox(stack);
    const bucket = new s3.Bucket(stack, 'Exports');
    new AepS3Destination(stack, 'Audiences', { sandbox, bucket });
    new AepS3Destination(stack, 'More', { sandbox, bucket, auth: S3DestinationAuth.assumedRole() });
    expect(warningsOf(stack, SHARED).map((w) => w.text)).toEqual([
      expect.stringContaining('Destinations Dest/Audiences and Dest/More share a folder: both write to s3://<Dest/Exports>/aep/.'),
    ]);
  });

  test('nested folders overlap: the wider grant reaches into the narrower folder', () => {
    const stack = newStack();
    const sandbox = newSandbox(stack);
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports');
    new AepS3Destination(stack, 'Audiences', { sandbox, bucket }); // aep/%SEGMENT_NAME% → aep/
    new AepS3Destination(stack, 'Datasets', { sandbox, bucket, exportType: ExportType.DATASETS }); // aep/datasets/
    expect(warningsOf(stack, SHARED).map((w) => w.text)).toEqual([expect.stringContaining(
      'Dest/Audiences may touch s3://acme-aep-exports/aep/* and Dest/Datasets s3://acme-aep-exports/aep/datasets/*, which overlap')]);
  });

  test('across stacks of one app, by literal name', () => {
    const app = new App();
    const a = newStack(app, 'A');
    const b = newStack(app, 'B');
    new AepS3Destination(a, 'X', { sandbox: newSandbox(a), bucket: s3.Bucket.fromBucketName(a, 'B', 'acme-aep-exports'), folderPath: 'aep/x' });
    new AepS3Destination(b, 'Y', { sandbox: newSandbox(b), bucket: s3.Bucket.fromBucketName(b, 'B', 'acme-aep-exports'), folderPath: 'aep/x' });
    expect(warningsOf(b, SHARED).map((w) => w.text)).toEqual([expect.stringContaining('Destinations A/X and B/Y share a folder')]);
  });

  test('no warning for sibling folders, other buckets, or token folders', () => {
    const stack = newStack();
    const sandbox = newSandbox(stack);
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports');
    new AepS3Destination(stack, 'A', { sandbox, bucket, folderPath: 'aep/a' });
    new AepS3Destination(stack, 'Ab', { sandbox, bucket, folderPath: 'aep/ab' }); // aep/a/ vs aep/ab/: disjoint
    new AepS3Destination(stack, 'Other', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'O', 'acme-aep-other'), folderPath: 'aep/a' });
    new AepS3Destination(stack, 'Mine', { sandbox, bucket: new s3.Bucket(stack, 'Own'), folderPath: 'aep/a' });
    new AepS3Destination(stack, 'Param', { sandbox, bucket, folderPath: Token.asString({ Ref: 'Folder' }) });
    expect(warningsOf(stack, SHARED)).toEqual([]);
  });
});

describe('100 destinations per sandbox (AEP hard limit), counted per stack', () => {
  const declare = (stack: Stack, sandbox: AepSandbox, from: number, count: number) => {
    const bucket = s3.Bucket.fromBucketName(stack, `B${from}`, 'acme-aep-exports');
    for (let i = from; i < from + count; i++) {
      new AepS3Destination(stack, `D${i}`, { sandbox, bucket, folderPath: `aep/d${i}`, auth: S3DestinationAuth.assumedRole() });
    }
  };

  test('100 are accepted; the 101st fails naming the sandbox, the count, the rule and that it is counted per stack', () => {
    const stack = newStack();
    const sandbox = newSandbox(stack);
    declare(stack, sandbox, 1, 100);
    expect(() => declare(stack, sandbox, 101, 1)).toThrow(
      'Invalid sandbox "prod": stack Dest declares 101 destinations for this sandbox (counted per stack; Dest/D101 is number 101): '
      + 'AEP allows at most 100 destinations per sandbox (hard limit).');
  });

  test('another sandbox, other endpoints or another stack count separately', () => {
    const stack = newStack();
    const credentials = secretsmanager.Secret.fromSecretNameV2(stack, 'C', 'aep/credentials');
    declare(stack, new AepSandbox({ credentials, sandboxName: 'prod', imsOrgId: 'ACME01@AdobeOrg' }), 1, 100);
    declare(stack, new AepSandbox({ credentials, sandboxName: 'dev', imsOrgId: 'ACME01@AdobeOrg' }), 101, 1);
    declare(stack, new AepSandbox({ credentials, sandboxName: 'prod', endpoints: AepEndpoints.stage(), imsOrgId: 'ACME01@AdobeOrg' }), 102, 1);
    const other = newStack(new App(), 'Other');
    expect(() => declare(other, newSandbox(other), 1, 1)).not.toThrow();
  });
});

describe('soft guardrails of an audience dataflow: warnings', () => {
  const schedule = AudienceSchedule.dailyFullAfterSegmentation({ startDate: '2025-01-05' });
  const audiences = (n: number): AudienceExport[] => Array.from({ length: n }, (_, i) => ({ audienceId: `seg-${i}`, schedule }));
  const attributes = (n: number) => Array.from({ length: n }, (_, i) => `_acme.field${i}`);
  function flow(audienceCount: number, attributeCount?: number): Stack {
    const stack = newStack();
    const destination = new AepS3Destination(stack, 'D', { sandbox: newSandbox(stack), bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports') });
    destination.addDataflow('Flow', { audiences: audiences(audienceCount), attributes: attributeCount === undefined ? undefined : attributes(attributeCount) });
    return stack;
  }

  test('250 audiences: no warning; 251: a warning on the dataflow naming the count and the guardrail', () => {
    expect(warningsOf(flow(250), 'cdk-aep-s3:audiences-per-dataflow')).toEqual([]);
    const warnings = warningsOf(flow(251), 'cdk-aep-s3:audiences-per-dataflow');
    expect(warnings.map((w) => w.path)).toEqual(['/Dest/D/Flow']);
    expect(warnings[0].text).toContain("audiences: 251 audiences in one dataflow, above AEP's guardrail of 250 per dataflow (a soft limit");
  });

  test('50 mapped attributes: no warning; 51: a warning naming the count and the guardrail', () => {
    expect(warningsOf(flow(1, 50), 'cdk-aep-s3:attributes-per-dataflow')).toEqual([]);
    const warnings = warningsOf(flow(1, 51), 'cdk-aep-s3:attributes-per-dataflow');
    expect(warnings.map((w) => w.path)).toEqual(['/Dest/D/Flow']);
    expect(warnings[0].text).toContain("attributes: 51 mapped attributes, above AEP's guardrail of 50 per destination dataflow (a soft limit");
  });
});
