import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ACCOUNT, checkStackDelete, checkUpdate, deployment, GrantCheck, REGION } from './grant-model';
import '../destination/util'; // fails early when the handler bundle is missing
import { AepS3Destination, AepS3Source, AepSandbox, S3DestinationAuth, S3SourceAuth } from '../../src';

/**
 * Every secret grant outlives the last CloudFormation event that needs it: the cleanup Delete of
 * a replaced or removed AEP resource runs with its OLD properties, after the update phase.
 */

interface Dest { readonly id: string; readonly creds: string; readonly sandboxName: string; readonly rotate?: boolean }

const synthesized = new Map<string, string>();

/**
 * The template of a stack with these destinations (and source). Several checks start from the same
 * stack: each distinct stack is synthesized once, and every caller gets its own copy.
 */
function synth(dests: Dest[], source?: Dest): any {
  const key = JSON.stringify([dests, source]);
  if (!synthesized.has(key)) synthesized.set(key, JSON.stringify(build(dests, source)));
  return JSON.parse(synthesized.get(key)!);
}

function build(dests: Dest[], source?: Dest): any {
  const app = new App();
  const stack = new Stack(app, 'Grants', { env: { account: ACCOUNT, region: REGION } });
  const bucket = new s3.Bucket(stack, 'Bucket', { bucketName: 'acme-exports' });
  const sandbox = (d: Dest) => new AepSandbox({
    credentials: secretsmanager.Secret.fromSecretNameV2(stack, `Creds${d.id}`, d.creds),
    sandboxName: d.sandboxName,
  });
  for (const d of dests) {
    new AepS3Destination(stack, d.id, {
      sandbox: sandbox(d),
      bucket,
      folderPath: d.id.toLowerCase(),
      auth: S3DestinationAuth.accessKey({ keyLifecycle: d.rotate ? { rotateEvery: Duration.days(30) } : undefined }),
    });
  }
  if (source) {
    new AepS3Source(stack, source.id, {
      sandbox: sandbox(source),
      bucket,
      folderPath: 'inbound',
      auth: S3SourceAuth.accessKey({ sessionToken: {} }),
    });
  }
  return Template.fromStack(stack).toJSON();
}

/** An AEP resource's event (not the access-key cleanup's, which reads no secret). */
function aep(c: GrantCheck): boolean {
  return !/KeyCleanup/.test(c.logicalId);
}

function deniedEvents(checks: GrantCheck[]): string[] {
  return checks.filter((c) => c.denied.length > 0).map((c) => `${c.phase} ${c.requestType} ${c.logicalId}: ${c.denied.join(', ')}`);
}

describe('secret grants over stack updates', () => {
  const dev: Dest = { id: 'Exports', creds: 'aep/dev', sandboxName: 'dev' };

  test('the model sees the events it must: creates, then the cleanup Deletes of replaced resources', async () => {
    const checks = (await checkUpdate(synth([]), synth([dev]))).filter(aep);
    expect(checks.filter((c) => c.requestType === 'Create').length).toBe(1); // one resource: base + target connection
    const moved = await checkUpdate(synth([dev]), synth([{ ...dev, creds: 'aep/prod', sandboxName: 'prod' }]));
    expect(moved.filter((c) => c.phase === 'cleanup' && c.requestType === 'Delete').length).toBe(1);
  });

  test('moving a destination to another sandbox: the replaced connections are deleted with the old credential, still readable', async () => {
    const checks = await checkUpdate(synth([dev]), synth([{ ...dev, creds: 'aep/prod', sandboxName: 'prod' }]));
    expect(deniedEvents(checks)).toEqual([]);
  });

  test('removing a destination whose sandbox nobody else uses: its Delete still reads that credential', async () => {
    const other: Dest = { id: 'Other', creds: 'aep/prod', sandboxName: 'prod' };
    const checks = await checkUpdate(synth([dev, other]), synth([other]));
    expect(checks.filter(aep).filter((c) => c.requestType === 'Delete').length).toBe(1);
    expect(deniedEvents(checks)).toEqual([]);
  });

  test('the access-key cleanup\'s Delete may list and delete its user\'s keys: destination removed, whole stack deleted', async () => {
    const rotated: Dest = { ...dev, rotate: true };
    const other: Dest = { id: 'Other', creds: 'aep/prod', sandboxName: 'prod', rotate: true };
    const removal = (await checkUpdate(synth([rotated, other]), synth([other]))).filter((c) => !aep(c));
    const stackDelete = (await checkStackDelete(synth([rotated, other]))).filter((c) => !aep(c));
    expect(removal.map((c) => [c.phase, c.requestType, c.read.length])).toEqual([['cleanup', 'Delete', 3]]);
    expect(stackDelete.map((c) => [c.requestType, c.read.length])).toEqual([['Delete', 3], ['Delete', 3]]);
    expect(deniedEvents([...removal, ...stackDelete])).toEqual([]);
    // Control: without its grant, the model denies the same Delete.
    const withoutGrant = (t: any) => {
      for (const id of Object.keys(t.Resources)) if (/^CdkAepS3ProviderKeyCleanup/.test(id)) delete t.Resources[id];
      return t;
    };
    const denied = deniedEvents((await checkStackDelete(withoutGrant(synth([rotated, other])))).filter((c) => !aep(c)));
    expect(denied).toHaveLength(2);
    expect(denied[0]).toMatch(/iam:ListUserTags arn:aws:iam::111122223333:user\/.*User.*iam:ListAccessKeys.*iam:DeleteAccessKey/);
  });

  test('a renamed credentials secret (same sandbox, in-place update), then back', async () => {
    const renamed = { ...dev, creds: 'aep/dev-v2' };
    expect(deniedEvents(await checkUpdate(synth([dev]), synth([renamed])))).toEqual([]);
    expect(deniedEvents(await checkUpdate(synth([renamed]), synth([dev])))).toEqual([]);
  });

  test('a session-token source moved to another sandbox, and removed', async () => {
    const src: Dest = { id: 'Inbound', creds: 'aep/dev', sandboxName: 'dev' };
    const other: Dest = { id: 'Other', creds: 'aep/other', sandboxName: 'other' };
    expect(deniedEvents(await checkUpdate(synth([other], src), synth([other], { ...src, creds: 'aep/prod', sandboxName: 'prod' })))).toEqual([]);
    expect(deniedEvents(await checkUpdate(synth([other], src), synth([other])))).toEqual([]);
  });

  test('deleting the whole stack', async () => {
    const checks = await checkStackDelete(synth([dev, { id: 'Other', creds: 'aep/prod', sandboxName: 'prod' }]));
    expect(checks.length).toBeGreaterThan(0);
    expect(deniedEvents(checks)).toEqual([]);
  });
});

describe('secrets the library creates, read through the handler role\'s prefix statement', () => {
  const dev: Dest = { id: 'Exports', creds: 'aep/dev', sandboxName: 'dev' };
  /** The same template without the role's inline policies: what the model sees without the prefix grant. */
  const withoutPrefixGrant = (t: any) => JSON.parse(JSON.stringify(t, (k, v) => (k === 'Policies' && Array.isArray(v) && v.some((p: any) => p.PolicyName === 'ReadOwnedSecrets') ? undefined : v)));

  test('the statement is what lets the Create read the access-key secret (control: without it, denied)', async () => {
    expect(deniedEvents(await checkUpdate(synth([]), synth([dev])))).toEqual([]);
    const denied = deniedEvents(await checkUpdate(synth([]), withoutPrefixGrant(synth([dev]))));
    expect(denied).toEqual([expect.stringMatching(/^update Create ExportsConnectionDestination[0-9A-F]{8}: .*:secret:cdk-aep-s3\/Grants\/ExportsAuthAccessKeySecret/)]);
  });

  test('adding, removing and re-adding destinations never denies a read (the statement never changes)', async () => {
    const other: Dest = { id: 'Other', creds: 'aep/dev', sandboxName: 'dev' };
    const steps = [synth([dev]), synth([dev, other]), synth([other]), synth([]), synth([dev])];
    for (let i = 1; i < steps.length; i++) expect(deniedEvents(await checkUpdate(steps[i - 1], steps[i]))).toEqual([]);
  });

  test('one template deployed under two stack names: each deployment reads its own secrets, named under its own prefix', async () => {
    const template = synth([dev]);
    const reads: string[][] = [];
    for (const where of [deployment('TenantA', '00000000-0000-4000-8000-00000000000a'), deployment('TenantB', '00000000-0000-4000-8000-00000000000b')]) {
      const checks = await checkUpdate(synth([]), template, where);
      expect(deniedEvents(checks)).toEqual([]);
      const owned = checks.flatMap((c) => c.read).filter((arn) => arn.includes(':secret:cdk-aep-s3/'));
      expect(owned).toEqual([expect.stringContaining(`:secret:cdk-aep-s3/${where.stackName}/ExportsAuthAccessKeySecret`)]);
      reads.push(owned);
    }
    expect(reads[0]).not.toEqual(reads[1]);
  });

  test('the model evaluates the owner-tag condition (control: a secret tagged for another stack id is denied)', async () => {
    const template = synth([dev]);
    const retagged = JSON.parse(JSON.stringify(template, (k, v) => (k === 'Tags' && Array.isArray(v)
      ? v.map((t: any) => (t.Key === 'cdk-aep-s3:owner' ? { ...t, Value: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/Grants/another-id' } : t))
      : v)));
    expect(JSON.stringify(retagged)).not.toEqual(JSON.stringify(template));
    expect(deniedEvents(await checkUpdate(synth([]), retagged))).toEqual([
      expect.stringMatching(/^update Create ExportsConnectionDestination[0-9A-F]{8}: .*:secret:cdk-aep-s3\/Grants\/ExportsAuthAccessKeySecret/),
    ]);
  });
});
