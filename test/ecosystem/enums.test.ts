/**
 * Enum props given as plain strings from JavaScript (or through a cast): a value that is not a
 * member is refused at synth with the property, the value and every member. Covers every public
 * enum a user passes in (the list is checked against `export enum` in src/).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as lib from '../../src';
import {
  AepS3Destination, AudienceSchedule, ExportType, IngestionFormat, IngestionSchedule, S3DestinationAuth,
} from '../../src';
import { newSandbox, newStack } from '../destination/util';

const START = '2025-01-01T00:00:00Z';

function destination(props: Record<string, unknown>): AepS3Destination {
  const stack = newStack();
  return new AepS3Destination(stack, 'D', { sandbox: newSandbox(stack), bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports'), ...props } as any);
}

/** [enum, property in the message, a call passing `value` as that property, a valid member value]. */
const CASES: Array<[string, string, (value: any) => unknown, string]> = [
  ['AdobeDestinationPrincipal', 'auth.trustedPrincipal', (v) => S3DestinationAuth.assumedRole({ trustedPrincipal: v }), 'DESTINATIONS_USER'],
  ['ExportType', 'exportType', (v) => destination({ exportType: v, folderPath: 'aep/x' }), 'DATASETS'],
  ['ExportFileType', 'fileType', (v) => destination({ fileType: v }), 'PARQUET'],
  ['DatasetFileType', 'datasetFileType', (v) => destination({ exportType: ExportType.DATASETS, datasetFileType: v }), 'PARQUET'],
  ['Compression', 'compression', (v) => destination({ compression: v }), 'GZIP'],
  ['CsvDelimiter', 'csvOptions.delimiter', (v) => destination({ csvOptions: { delimiter: v } }), 'PIPE'],
  ['CsvQuote', 'csvOptions.quote', (v) => destination({ csvOptions: { quote: v } }), 'NONE'],
  ['CsvEscape', 'csvOptions.escape', (v) => destination({ csvOptions: { escape: v } }), 'SINGLE_QUOTE'],
  ['CsvValueRepresentation', 'csvOptions.nullValue', (v) => destination({ csvOptions: { nullValue: v } }), 'EMPTY'],
  ['CsvValueRepresentation', 'csvOptions.emptyValue', (v) => destination({ csvOptions: { emptyValue: v } }), 'QUOTED_EMPTY'],
  ['IncrementalFrequency', 'schedule.frequency', (v) => AudienceSchedule.incremental(v, { startDate: '2025-01-05' }), 'EVERY_8_HOURS'],
  ['IngestionFrequency', 'schedule.frequency', (v) => IngestionSchedule.recurring({ frequency: v, interval: 1, startTime: START }), 'day'],
  ['IngestionEncoding', 'format.encoding', (v) => IngestionFormat.delimited({ encoding: v }), 'ISO-8859-1'],
  ['IngestionCompression', 'format.compression', (v) => IngestionFormat.delimited({ compression: v }), 'gzip'],
  ['IngestionCompression', 'format.compression', (v) => IngestionFormat.json({ compression: v }), 'tarGzip'],
];

/** Enums that are outputs only (read from a construct, never passed in). */
const OUTPUT_ONLY = ['S3SourceAuthMode'];

test('every public enum of src/ is covered (or is output-only)', () => {
  const src = path.resolve(__dirname, '../../src');
  const declared = fs.readdirSync(src).filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...fs.readFileSync(path.join(src, f), 'utf8').matchAll(/^export enum (\w+)/gm)].map((m) => m[1]));
  expect(declared.length).toBeGreaterThan(10);
  expect([...new Set([...CASES.map((c) => c[0]), ...OUTPUT_ONLY])].sort()).toEqual([...new Set(declared)].sort());
});

describe.each(CASES)('%s as %s', (enumName, property, call, member) => {
  const members = () => Object.entries((lib as unknown as Record<string, Record<string, string>>)[enumName]);

  test('a string that is not a member is refused, naming the property, the value and every member', () => {
    let message = '';
    try {
      call('EVERY_4_HOURS');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`Invalid ${property} "EVERY_4_HOURS": must be a member of ${enumName}: `);
    for (const [name, value] of members()) {
      expect(message).toContain(`${enumName}.${name}`);
      expect(message).toContain(JSON.stringify(value));
    }
  });

  test('a member passed as its plain string value is accepted', () => {
    expect(() => call(member)).not.toThrow();
  });
});

describe("aws-cdk-lib's RemovalPolicy given as a plain string", () => {
  const source = (removalPolicy: unknown) => {
    const stack = newStack();
    return new lib.AepS3Source(stack, 'S', { sandbox: newSandbox(stack), bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-in'), removalPolicy } as any);
  };

  test.each([
    ['AepS3Destination', (v: unknown) => destination({ removalPolicy: v })],
    ['AepS3Source', source],
  ])("%s: 'RETAIN' (not a member) is refused instead of silently meaning DELETE", (_name, call) => {
    expect(() => call('RETAIN')).toThrow('Invalid removalPolicy "RETAIN": must be a member of RemovalPolicy: RemovalPolicy.DESTROY');
    expect(() => call('retain')).not.toThrow();
  });
});
