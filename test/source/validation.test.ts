import { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as fc from 'fast-check';
import { ADOBE_ROLE_ARN, newSandbox, newStack } from './util';
import { AepS3Source, AepS3SourceProps, S3SourceAuth } from '../../src';

/**
 * Every synth-time error has the form `Invalid <property> "<value>": <rule>`. These tests
 * generate inputs that break one rule each and check that the error names the property, the
 * value and a rule; the table at the end pins the exact boundaries.
 */

/** Builds a source whose bucket reports `bucketName`, bypassing CDK's own (laxer) name checks. */
function sourceWith(props: Partial<AepS3SourceProps> & { bucketName?: string }): AepS3Source {
  const stack = newStack();
  const imported = s3.Bucket.fromBucketName(stack, 'Imported', 'valid-bucket');
  const bucket = props.bucketName === undefined
    ? imported
    : Object.create(imported, { bucketName: { value: props.bucketName } }) as s3.IBucket;
  return new AepS3Source(stack, 'Source', { sandbox: newSandbox(stack), ...props, bucket });
}

/** Expects the standard error for `property`, quoting `value`. */
function expectInvalid(fn: () => unknown, property: string, value: unknown): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Error);
  const message = (error as Error).message;
  expect(message.startsWith(`Invalid ${property} ${JSON.stringify(value)}: `)).toBe(true);
  // A rule follows the value: at least a few words, not an empty tail.
  expect(message.length).toBeGreaterThan(`Invalid ${property} ${JSON.stringify(value)}: `.length + 10);
}

const LOWER_DIGIT = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split(''));
const BUCKET_CHAR = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'.split(''));
const validBucketCore = (min: number, max: number) => fc.tuple(
  LOWER_DIGIT,
  fc.array(BUCKET_CHAR, { minLength: Math.max(0, min - 2), maxLength: Math.max(0, max - 2) }),
  LOWER_DIGIT,
).map(([a, mid, z]) => `${a}${mid.join('')}${z}`);

/** Bucket names that break exactly the rule named in the tuple. */
const badBucketNames: fc.Arbitrary<string> = fc.oneof(
  // too short
  fc.array(LOWER_DIGIT, { minLength: 0, maxLength: 2 }).map((a) => a.join('')),
  // too long
  validBucketCore(64, 90),
  // a forbidden character somewhere inside (uppercase, dot, underscore, space, slash, …)
  fc.tuple(validBucketCore(2, 20), fc.constantFrom(...'ABCXYZ._ /:@#%+*'.split('')), validBucketCore(2, 20))
    .map(([a, c, b]) => `${a}${c}${b}`),
  // starts or ends with a hyphen
  validBucketCore(3, 30).map((s) => `-${s}`),
  validBucketCore(3, 30).map((s) => `${s}-`),
  // formatted as an IPv4 address
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.')),
);

/** Folder paths that break one rule: a forbidden character, `//`, `*`, a leading `/`, length. */
const SEGMENT = fc.array(fc.constantFrom(...'abcXYZ019-_.!()\''.split('')), { minLength: 1, maxLength: 8 }).map((a) => a.join(''));
const goodFolder = fc.array(SEGMENT, { minLength: 1, maxLength: 4 }).map((a) => a.join('/'));
const badFolders: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(goodFolder, fc.constantFrom(...'%#?\\"<>{}^`|~&$@=;:+,[]'.split('')), goodFolder).map(([a, c, b]) => `${a}${c}${b}`),
  fc.tuple(goodFolder, goodFolder).map(([a, b]) => `${a}//${b}`),
  fc.tuple(goodFolder, fc.constantFrom('*', '/*', '*/x')).map(([a, b]) => `${a}${b}`),
  goodFolder.map((a) => `/${a}`),
  fc.integer({ min: 1025, max: 1500 }).map((n) => 'a'.repeat(n)),
);

/** Sandbox names that are not lowercase AEP sandbox names. */
const badSandboxNames: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom('Prod', 'DEV', 'Stage'), fc.string({ maxLength: 5 })).map(([a, b]) => `${a}${b}`),
  fc.tuple(fc.constantFrom('-', '_', ' ', '.'), SEGMENT).map(([a, b]) => `${a}${b.toLowerCase()}`),
  fc.tuple(fc.constantFrom('dev'), fc.constantFrom('_', ' ', '.', '/', '!')).map(([a, b]) => `${a}${b}x`),
  fc.constant(''),
);

/** Role ARNs with one part wrong. */
const badRoleArns: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 0, max: 99_999_999_999 }).map((n) => `arn:aws:iam::${n}:role/aep`), // < 12 digits
  fc.constantFrom('user', 'group', 'policy', 'instance-profile').map((t) => `arn:aws:iam::123456789012:${t}/aep`),
  fc.constantFrom('s3', 'sts', 'kms').map((svc) => `arn:aws:${svc}::123456789012:role/aep`),
  fc.string({ maxLength: 30 }).filter((s) => !s.startsWith('arn:')),
  fc.constantFrom(' ', '#', '"', '\\', '?').map((c) => `arn:aws:iam::123456789012:role/a${c}b`),
);

/** Session-token settings that break one rule, with the property the error must name. */
const badSessions: fc.Arbitrary<{ duration?: number; refresh?: number; property: string; value: string }> = fc.oneof(
  // outside STS limits or under two minimum refreshes
  fc.oneof(fc.integer({ min: 1, max: 1799 }), fc.integer({ min: 129_601, max: 1_000_000 }))
    .map((d) => ({ duration: d, property: 'auth.sessionToken.duration', value: `${d} seconds` })),
  // refresh under 15 minutes (whole minutes)
  fc.integer({ min: 1, max: 14 }).map((m) => ({ duration: 43_200, refresh: m * 60, property: 'auth.sessionToken.refreshEvery', value: `${m * 60} seconds` })),
  // refresh not whole minutes
  fc.integer({ min: 900, max: 20_000 }).filter((s) => s % 60 !== 0)
    .map((s) => ({ duration: 43_200, refresh: s, property: 'auth.sessionToken.refreshEvery', value: `${s} seconds` })),
  // refresh longer than half the lifetime
  fc.integer({ min: 1800, max: 129_600 }).chain((d) => fc.integer({ min: Math.floor(d / 120) + 1, max: Math.floor(d / 60) + 60 })
    .filter((m) => m >= 15)
    .map((m) => ({ duration: d, refresh: m * 60, property: 'auth.sessionToken.refreshEvery', value: `${m * 60} seconds` }))),
);

describe('generated bad inputs (fast-check)', () => {
  let generated = 0;
  afterAll(() => {
    // The brief: at least 100 generated bad inputs in total.
    expect(generated).toBeGreaterThanOrEqual(100);
  });

  test('bucket names', () => {
    fc.assert(fc.property(badBucketNames, (name) => {
      generated++;
      expectInvalid(() => sourceWith({ bucketName: name }), 'bucket', name);
    }), { numRuns: 60 });
  });

  test('folder paths', () => {
    fc.assert(fc.property(badFolders, (folderPath) => {
      generated++;
      expectInvalid(() => sourceWith({ folderPath }), 'folderPath', folderPath);
    }), { numRuns: 60 });
  });

  test('good folder paths are accepted and scope to "<folder>/"', () => {
    fc.assert(fc.property(goodFolder, (folderPath) => {
      expect(sourceWith({ folderPath }).folderPrefix).toBe(`${folderPath}/`);
    }), { numRuns: 15 });
  });

  test('sandbox names', () => {
    fc.assert(fc.property(badSandboxNames, (sandboxName) => {
      generated++;
      const stack = newStack();
      expectInvalid(() => newSandbox(stack, sandboxName), 'sandboxName', sandboxName);
    }), { numRuns: 30 });
  });

  test('role ARNs', () => {
    fc.assert(fc.property(badRoleArns, (adobeRoleArn) => {
      generated++;
      expectInvalid(() => S3SourceAuth.iamRole({ adobeRoleArn }), 'auth.adobeRoleArn', adobeRoleArn);
    }), { numRuns: 40 });
  });

  test('session-token durations', () => {
    fc.assert(fc.property(badSessions, (c) => {
      generated++;
      expectInvalid(() => S3SourceAuth.accessKey({
        sessionToken: {
          duration: c.duration === undefined ? undefined : Duration.seconds(c.duration),
          refreshEvery: c.refresh === undefined ? undefined : Duration.seconds(c.refresh),
        },
      }), c.property, c.value);
    }), { numRuns: 60 });
  });
});

describe('edge cases', () => {
  const bucketCases: Array<[string, boolean]> = [
    ['abc', true],
    ['ab', false],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['a-b', true],
    ['a--b', true],
    ['-ab', false],
    ['ab-', false],
    ['1234', true],
    ['192.168.1.1', false],
    ['acme.aep.inbound', false],
    ['Acme', false],
    ['a_b', false],
    ['', false],
  ];
  test.each(bucketCases)('bucket %j accepted: %s', (name, ok) => {
    if (ok) expect(() => sourceWith({ bucketName: name })).not.toThrow();
    else expectInvalid(() => sourceWith({ bucketName: name }), 'bucket', name);
  });

  const folderCases: Array<[string, boolean, string]> = [
    ['', true, ''],
    ['exports', true, 'exports/'],
    ['exports/crm', true, 'exports/crm/'],
    ['exports/crm/', true, 'exports/crm/'],
    ["a b/(1)!'.-_", true, "a b/(1)!'.-_/"],
    ['a'.repeat(1024), true, `${'a'.repeat(1024)}/`],
    ['a'.repeat(1025), false, ''],
    ['/exports', false, ''],
    ['/', false, ''],
    ['a//b', false, ''],
    ['a/*', false, ''],
    ['a%b', false, ''],
    ['a=b', false, ''],
  ];
  test.each(folderCases)('folder %j accepted: %s', (folderPath, ok, prefix) => {
    if (ok) expect(sourceWith({ folderPath }).folderPrefix).toBe(prefix);
    else expectInvalid(() => sourceWith({ folderPath }), 'folderPath', folderPath);
  });

  const sessionCases: Array<[number, number | undefined, string | undefined]> = [
    // [duration s, refreshEvery s, error property or undefined]
    [1800, undefined, undefined], // refresh defaults to 15 min = duration / 2
    [1799, undefined, 'auth.sessionToken.duration'],
    [900, 900, 'auth.sessionToken.duration'], // STS minimum, but no room for two refreshes
    [129_600, undefined, undefined],
    [129_601, undefined, 'auth.sessionToken.duration'],
    [3600, 1800, undefined], // exactly half
    [3600, 1860, 'auth.sessionToken.refreshEvery'],
    [3600, 840, 'auth.sessionToken.refreshEvery'],
    [3600, 930, 'auth.sessionToken.refreshEvery'],
    [1.5, undefined, 'auth.sessionToken.duration'],
  ];
  test.each(sessionCases)('duration %d s, refresh %p s → error on %p', (duration, refresh, property) => {
    const make = () => S3SourceAuth.accessKey({
      sessionToken: { duration: Duration.seconds(duration), refreshEvery: refresh === undefined ? undefined : Duration.seconds(refresh) },
    });
    if (property === undefined) {
      const auth = make();
      expect(auth.refreshEvery!.toSeconds()).toBeLessThanOrEqual(duration / 2);
      expect(auth.refreshEvery!.toSeconds()).toBeGreaterThanOrEqual(900);
    } else {
      expect(make).toThrow(new RegExp(`^Invalid ${property.replace(/\./g, '\\.')} "`));
    }
  });

  test('default refresh intervals', () => {
    const every = (d: Duration) => S3SourceAuth.accessKey({ sessionToken: { duration: d } }).refreshEvery!.toMinutes();
    expect(every(Duration.hours(12))).toBe(240);
    expect(every(Duration.hours(1))).toBe(20);
    expect(every(Duration.minutes(40))).toBe(15);
    expect(every(Duration.hours(36))).toBe(720);
  });

  const roleCases: Array<[string, boolean]> = [
    [ADOBE_ROLE_ARN, true],
    ['arn:aws:iam::123456789012:role/path/to/aep-role', true],
    ['arn:aws-cn:iam::123456789012:role/aep', true],
    ['arn:aws-us-gov:iam::123456789012:role/aep', true],
    ['arn:aws:iam::12345678901:role/aep', false],
    ['arn:aws:iam::123456789012:user/aep', false],
    ['arn:aws:iam::123456789012:role/', false],
    ['', false],
  ];
  test.each(roleCases)('role %j accepted: %s', (arn, ok) => {
    if (ok) expect(S3SourceAuth.iamRole({ adobeRoleArn: arn }).adobeRoleArn).toBe(arn);
    else expectInvalid(() => S3SourceAuth.iamRole({ adobeRoleArn: arn }), 'auth.adobeRoleArn', arn);
  });

  test('other inputs: serial, serviceUrl, connection name', () => {
    expectInvalid(() => S3SourceAuth.accessKey({ serial: -1 }), 'auth.serial', -1);
    expectInvalid(() => S3SourceAuth.accessKey({ serial: 1.5 }), 'auth.serial', 1.5);
    expectInvalid(() => S3SourceAuth.accessKey({ serviceUrl: 'http://s3.example.com' }), 'auth.serviceUrl', 'http://s3.example.com');
    expectInvalid(() => sourceWith({ connectionName: ' ' }), 'connectionName', ' ');
  });
});
