import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import '../destination/util'; // fails early when the handler bundle is missing
import { AepS3Destination, AepS3Source, AepSandbox, S3DestinationAuth } from '../../src';
import {
  CLOUDFORMATION_RESOURCE_LIMIT,
  RESOURCE_LIMIT_WARNING,
  RESOURCE_WARNING_THRESHOLD,
  RESOURCES_PER_CONNECTION,
} from '../../src/private/resource-limit';
import { annotationsOf } from '../synth';

/**
 * CloudFormation refuses templates of more than 500 resources. The library counts the template's
 * resources at synth and, above 400, says how many more connections of each kind fit.
 */

type Kind = keyof typeof RESOURCES_PER_CONNECTION;
const ADD: Record<Kind, (stack: Stack, i: number, sandbox: AepSandbox, bucket: s3.IBucket) => void> = {
  ACCESS_KEY_DESTINATION: (stack, i, sandbox, bucket) => new AepS3Destination(stack, `Dest${i}`, { sandbox, bucket, folderPath: `d${i}` }),
  ASSUMED_ROLE_DESTINATION: (stack, i, sandbox, bucket) => new AepS3Destination(stack, `Role${i}`, {
    sandbox, bucket, folderPath: `r${i}`, auth: S3DestinationAuth.assumedRole(),
  }),
  ACCESS_KEY_SOURCE: (stack, i, sandbox, bucket) => new AepS3Source(stack, `Src${i}`, { sandbox, bucket, folderPath: `s${i}` }),
};

/**
 * Stacks built so far, by kind and count: several tests need the same stack (e.g. the most that
 * fit), and a ~500-resource synth takes seconds. Tests only read what they get.
 */
const built = new Map<string, { stack: Stack; template: any }>();

function build(kind: Kind, n: number): { stack: Stack; template: any } {
  const key = `${kind}:${n}`;
  const cached = built.get(key);
  if (cached) return cached;
  const result = buildFresh(kind, n);
  built.set(key, result);
  return result;
}

function buildFresh(kind: Kind, n: number): { stack: Stack; template: any } {
  const app = new App();
  const stack = new Stack(app, 'Many', { env: { account: '111122223333', region: 'eu-west-1' } });
  const credentials = secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'aep/oauth');
  // AEP allows 100 destinations per sandbox (refused at synth above that): more than 100 in one
  // stack means several sandboxes. They share the credential, so they add no resources.
  const sandboxes: AepSandbox[] = [];
  const sandboxFor = (i: number) => (sandboxes[Math.floor(i / 100)] ??= new AepSandbox({ credentials, sandboxName: `sandbox-${Math.floor(i / 100)}`, imsOrgId: 'ACME01@AdobeOrg' }));
  const bucket = s3.Bucket.fromBucketName(stack, 'Bucket', 'acme-exchange');
  for (let i = 0; i < n; i++) ADD[kind](stack, i, sandboxFor(i), bucket);
  return { stack, template: app.synth().getStackByName('Many').template };
}
const count = (template: any) => Object.keys(template.Resources).length;
// The messages of the synth that built the template (Annotations.fromStack would synthesize again).
const limitWarnings = (stack: Stack) => annotationsOf(stack)
  .findWarning('*', Match.stringLikeRegexp(RESOURCE_LIMIT_WARNING)).map((m) => String(m.entry.data));

test.each(Object.keys(RESOURCES_PER_CONNECTION) as Kind[])('%s: one more adds exactly the resources the warning counts', (kind) => {
  expect(count(build(kind, 2).template) - count(build(kind, 1).template)).toBe(RESOURCES_PER_CONNECTION[kind]);
});

describe('access-key destinations in one stack', () => {
  const per = RESOURCES_PER_CONNECTION.ACCESS_KEY_DESTINATION;
  // What one destination costs on top of an empty stack: the shared provider and grants.
  const shared = count(build('ACCESS_KEY_DESTINATION', 1).template) - per;
  const fits = Math.floor((CLOUDFORMATION_RESOURCE_LIMIT - shared) / per);

  test('the most that fit synthesize, one more does not (aws-cdk-lib refuses > 500)', () => {
    // Issue 12's goal: at least 120 access-key destinations in one stack.
    expect(fits).toBeGreaterThanOrEqual(120);
    const { template } = build('ACCESS_KEY_DESTINATION', fits);
    expect(count(template)).toBeLessThanOrEqual(CLOUDFORMATION_RESOURCE_LIMIT);
    expect(count(template) + per).toBeGreaterThan(CLOUDFORMATION_RESOURCE_LIMIT);
    expect(() => build('ACCESS_KEY_DESTINATION', fits + 1)).toThrow(/500/);
  });

  test('at or below 400 resources: no warning', () => {
    const n = Math.floor((RESOURCE_WARNING_THRESHOLD - shared) / per);
    const { stack, template } = build('ACCESS_KEY_DESTINATION', n);
    expect(count(template)).toBeLessThanOrEqual(RESOURCE_WARNING_THRESHOLD);
    expect(limitWarnings(stack)).toEqual([]);
  });

  test('above 400: one warning with the template\'s count and how many more connections fit', () => {
    const n = Math.floor((RESOURCE_WARNING_THRESHOLD - shared) / per) + 1;
    const { stack, template } = build('ACCESS_KEY_DESTINATION', n);
    const total = count(template);
    expect(total).toBeGreaterThan(RESOURCE_WARNING_THRESHOLD);
    const warnings = limitWarnings(stack);
    expect(warnings).toHaveLength(1);
    const left = CLOUDFORMATION_RESOURCE_LIMIT - total;
    expect(warnings[0]).toContain(`Stack Many has ${total} of CloudFormation's 500 resources`);
    expect(warnings[0]).toContain(`${Math.floor(left / per)} more access-key destinations (${per} resources each)`);
    expect(warnings[0]).toContain(`${Math.floor(left / RESOURCES_PER_CONNECTION.ASSUMED_ROLE_DESTINATION)} more assumed-role destinations`);
    // And it is exactly that many: adding them still synthesizes, one more does not.
    expect(count(build('ACCESS_KEY_DESTINATION', n + Math.floor(left / per)).template)).toBeLessThanOrEqual(CLOUDFORMATION_RESOURCE_LIMIT);
  });

  test('the warning counts what the template holds, including resources the app adds next to the library', () => {
    const n = Math.floor((RESOURCE_WARNING_THRESHOLD - shared) / per);
    const app = new App();
    const stack = new Stack(app, 'Many', { env: { account: '111122223333', region: 'eu-west-1' } });
    const sandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'aep/oauth'), imsOrgId: 'ACME01@AdobeOrg' });
    const bucket = s3.Bucket.fromBucketName(stack, 'Bucket', 'acme-exchange');
    for (let i = 0; i < n; i++) ADD.ACCESS_KEY_DESTINATION(stack, i, sandbox, bucket);
    for (let i = 0; i < 10; i++) new secretsmanager.Secret(stack, `Other${i}`);
    const total = count(Template.fromStack(stack).toJSON());
    expect(limitWarnings(stack)).toEqual([expect.stringContaining(`has ${total} of`)]);
  });
});
