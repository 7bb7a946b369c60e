/**
 * Key age and scheduled rotation in the offline world: the synthesized stack deployed by the
 * CloudFormation simulator (IAM evaluated against the watch role's live policies), the BUNDLED
 * key-watch function run by its schedule, the alarm judged by the CloudWatch model on the
 * datapoints the function wrote. Then deploys after a rotation: CloudFormation must neither bring
 * the old key back nor break AEP.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { alarmDefinition, evaluateAlarm } from '../../offline-world/cloudwatch-alarm';
import { ScenarioScope, ScenarioWorld } from '../../offline-world/scenario';
import { AccessKeyLifecycleOptions, AepS3Destination, AepS3Source, S3DestinationAuth, S3SourceAuth } from '../../src';
import { KeyWatchMetric, ResourceTypes } from '../../src/private/contract';

jest.setTimeout(90_000);

const DAY = 86_400_000;
let w: ScenarioWorld;
let n = 0;
beforeEach(async () => {
  w = await ScenarioWorld.start(`KeyRotation${++n}`);
});
afterEach(async () => {
  await w.close();
});

function destination(keyLifecycle: AccessKeyLifecycleOptions | undefined, o: { serial?: number; description?: string } = {}) {
  return ({ stack, sandbox }: ScenarioScope) => {
    new AepS3Destination(stack, 'Exports', {
      sandbox: sandbox(),
      bucket: s3.Bucket.fromBucketName(stack, 'ExportsBucket', 'acme-aep-exports'),
      auth: S3DestinationAuth.accessKey({ serial: o.serial, keyLifecycle }),
      description: o.description,
    });
  };
}

function connectionId(): string {
  return w.sim.resources().find((r) => r.type === ResourceTypes.DESTINATION_CONNECTION || r.type === ResourceTypes.CONNECTION)!.physicalId;
}

function user(): string {
  return w.sim.resources().find((r) => r.type === 'AWS::IAM::User')!.physicalId;
}

function cfnKey(): string {
  return w.sim.resources().find((r) => r.type === 'AWS::IAM::AccessKey')!.physicalId;
}

function aepKeyId(): string {
  return w.aep.getConnection(connectionId())!.auth.params.s3AccessKey as string;
}

function secretKeyId(): string {
  const secret = w.sim.resources().find((r) => r.type === 'AWS::SecretsManager::Secret' && /AccessKeySecret/.test(r.logicalId))!;
  return JSON.parse(w.aws.getSecret(secret.physicalId)!).accessKeyId;
}

function ageAllKeys(days: number): void {
  for (const k of w.aws.accessKeysOf(user())) w.aws.setAccessKeyCreateDate(k.accessKeyId, Date.now() - days * DAY);
}

async function expectConsistent() {
  for (const k of w.aws.issuedKeys) w.secrets.add(k.secretAccessKey);
  expect(await w.violations()).toEqual([]);
  expect(w.aep.validationFailures).toEqual([]);
}

/** The age datapoints the watch function wrote (Embedded Metric Format lines in its log). */
function ageDatapoints(): Array<{ time: number; value: number }> {
  return w.logs.flatMap((l) => l.split('\n')).filter((l) => l.includes(KeyWatchMetric.AGE) && l.startsWith('{')).map((l) => JSON.parse(l))
    .filter((r) => r._aws?.CloudWatchMetrics?.[0]?.Metrics?.[0]?.Name === KeyWatchMetric.AGE)
    .map((r) => ({ time: Math.floor(r._aws.Timestamp / 1000), value: r[KeyWatchMetric.AGE] }));
}

function ageAlarmState(): string {
  const template = JSON.parse(w.templates[w.templates.length - 1]);
  const alarm = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.MetricName === KeyWatchMetric.AGE);
  const points = ageDatapoints();
  expect(points.length).toBeGreaterThan(0);
  const t = points[points.length - 1].time;
  const states = evaluateAlarm(alarmDefinition(alarm), points, { from: t - 60, to: t + 600 });
  return states[states.length - 1].state;
}

describe('key age alarm (IAM CreateDate, measured by the scheduled watch)', () => {
  test('a key past maxKeyAge - warnBefore raises the alarm; a young one does not', async () => {
    expect((await w.deploy(destination({ maxKeyAge: Duration.days(90), warnBefore: Duration.days(14) }))).status).toBe('CREATE_COMPLETE');
    ageAllKeys(10);
    expect(await w.sim.runSchedules()).toBe(1);
    expect(ageAlarmState()).toBe('OK');

    ageAllKeys(77);
    w.logs.length = 0;
    expect(await w.sim.runSchedules()).toBe(1);
    expect(ageDatapoints()[0].value).toBeCloseTo(77, 0);
    expect(ageAlarmState()).toBe('ALARM');
    // Measuring changes nothing.
    expect(aepKeyId()).toBe(cfnKey());
    await expectConsistent();
  });
});

describe('scheduled rotation', () => {
  test('rotates a due key: AEP holds a working new key, no old key alive; the age alarm stays quiet', async () => {
    const lifecycle = { maxKeyAge: Duration.days(90), rotateEvery: Duration.days(30) };
    expect((await w.deploy(destination(lifecycle))).status).toBe('CREATE_COMPLETE');
    const first = cfnKey();
    ageAllKeys(31);
    expect(await w.sim.runSchedules()).toBe(1);

    const now = aepKeyId();
    expect(now).not.toBe(first);
    expect(secretKeyId()).toBe(now);
    expect(w.aws.accessKeyWorks(now)).toBe(true);
    expect(w.aws.accessKeyWorks(first)).toBe(false);
    expect(w.aws.accessKeysOf(user()).map((k) => k.accessKeyId)).toEqual([now]);
    expect(ageAlarmState()).toBe('OK');
    await expectConsistent();
  });

  test('a deploy after the rotation neither restores the old key nor touches AEP; a later connection update keeps the rotated key in AEP', async () => {
    const lifecycle = { maxKeyAge: Duration.days(90), rotateEvery: Duration.days(30) };
    await w.deploy(destination(lifecycle));
    const first = cfnKey();
    ageAllKeys(31);
    await w.sim.runSchedules();
    const rotated = aepKeyId();

    // Unchanged app: CloudFormation has nothing to do with the key, the secret or the connection.
    const patchesBefore = w.aep.requests.filter((r) => r.method === 'PATCH').length;
    expect((await w.deploy(destination(lifecycle))).status).toMatch(/UPDATE_COMPLETE|NO_CHANGES/);
    expect(aepKeyId()).toBe(rotated);
    expect(secretKeyId()).toBe(rotated);
    expect(w.aws.accessKeyWorks(first)).toBe(false);
    expect(w.aep.requests.filter((r) => r.method === 'PATCH').length).toBe(patchesBefore);

    // A connection change: the handler re-reads the library secret and AEP keeps the rotated key.
    expect((await w.deploy(destination(lifecycle, { description: 'changed' }))).status).toBe('UPDATE_COMPLETE');
    expect(aepKeyId()).toBe(rotated);
    expect(w.aws.accessKeyWorks(rotated)).toBe(true);
    await expectConsistent();
  });

  test('serial bumped after a rotation: CloudFormation\'s new key reaches AEP, the next run deletes the then-unused rotated key', async () => {
    const lifecycle = { rotateEvery: Duration.days(30) };
    await w.deploy(destination(lifecycle, { serial: 1 }));
    ageAllKeys(31);
    await w.sim.runSchedules();
    const rotated = aepKeyId();

    expect((await w.deploy(destination(lifecycle, { serial: 2 }))).status).toBe('UPDATE_COMPLETE');
    const fromCfn = cfnKey();
    expect(aepKeyId()).toBe(fromCfn);
    expect(w.aws.accessKeysOf(user())).toHaveLength(2);

    await w.sim.runSchedules();
    expect(aepKeyId()).toBe(fromCfn);
    expect(w.aws.accessKeysOf(user()).map((k) => k.accessKeyId)).toEqual([fromCfn]);
    expect(w.aws.accessKeyWorks(rotated)).toBe(false);
    await expectConsistent();
  });

  test('AEP 5xx during the scheduled run: the run fails (alarm), AEP keeps its working key, the next run rotates', async () => {
    await w.deploy(destination({ rotateEvery: Duration.days(30) }));
    const first = cfnKey();
    ageAllKeys(31);
    w.aep.inject({ match: { method: 'PATCH' }, kind: 'status', status: 503, times: 100 });
    await expect(w.sim.runSchedules()).rejects.toThrow(/503/);
    expect(aepKeyId()).toBe(first);
    expect(w.aws.accessKeyWorks(first)).toBe(true);
    expect(w.aws.accessKeysOf(user()).map((k) => k.accessKeyId)).toEqual([first]);

    w.aep.clearFaults();
    await w.sim.runSchedules();
    expect(aepKeyId()).not.toBe(first);
    expect(w.aws.accessKeysOf(user()).map((k) => k.accessKeyId)).toEqual([aepKeyId()]);
    await expectConsistent();
  });

  test('a session-token source: the scheduled refresh and rotation both leave AEP with working credentials of the new key', async () => {
    const build = ({ stack, sandbox }: ScenarioScope) => {
      new AepS3Source(stack, 'Ingest', {
        sandbox: sandbox(),
        bucket: s3.Bucket.fromBucketName(stack, 'Inbound', 'acme-aep-inbound'),
        folderPath: 'exports/crm',
        auth: S3SourceAuth.accessKey({
          sessionToken: { duration: Duration.hours(1), refreshEvery: Duration.minutes(30) },
          keyLifecycle: { rotateEvery: Duration.days(30) },
        }),
      });
    };
    expect((await w.deploy(build)).status).toBe('CREATE_COMPLETE');
    const first = cfnKey();
    ageAllKeys(31);
    expect(await w.sim.runSchedules()).toBe(2);
    const held = aepKeyId();
    expect(held).toMatch(/^ASIA/);
    expect(w.aws.accessKeyWorks(held)).toBe(true);
    expect(w.aws.accessKeyWorks(first)).toBe(false);
    expect(w.aws.accessKeysOf(user())).toHaveLength(1);
    await expectConsistent();
  });
});

describe('deleting the user after a scheduled rotation (the rotated key was made outside CloudFormation)', () => {
  const lifecycle = { maxKeyAge: Duration.days(90), rotateEvery: Duration.days(30) };

  async function rotated(build = destination(lifecycle)): Promise<{ user: string; first: string; now: string; connection: string }> {
    expect((await w.deploy(build)).status).toBe('CREATE_COMPLETE');
    const first = cfnKey();
    ageAllKeys(31);
    await w.sim.runSchedules();
    const now = aepKeyId();
    expect(now).not.toBe(first);
    return { user: user(), first, now, connection: connectionId() };
  }

  test('destroy after a scheduled rotation: DELETE_COMPLETE, no key and no user left, AEP connection gone', async () => {
    const r = await rotated();
    const result = await w.destroy();
    expect(result.events.filter((e) => e.status === 'DELETE_FAILED')).toEqual([]);
    expect(result.status).toBe('DELETE_COMPLETE');
    expect(w.aws.accessKeysOf(r.user)).toEqual([]);
    expect(w.aws.userExists(r.user)).toBe(false);
    expect(w.aws.accessKeyWorks(r.now)).toBe(false);
    expect(w.aep.getConnection(r.connection)).toBeUndefined();
    // AEP's connection went before its key did.
    const order = result.events.filter((e) => e.status === 'DELETE_COMPLETE').map((e) => e.type);
    expect(order.indexOf(ResourceTypes.DESTINATION_CONNECTION)).toBeLessThan(order.indexOf('AWS::IAM::AccessKey'));
    await expectConsistent();
  });

  test('removing keyLifecycle alone: the cleanup\'s Delete leaves the user and the rotated key; AEP keeps a working key', async () => {
    const r = await rotated();
    expect((await w.deploy(destination(undefined))).status).toBe('UPDATE_COMPLETE');
    expect(w.sim.leftBehind).toEqual([]);
    const deletes = w.sim.invocations.filter((i) => i.resourceType === ResourceTypes.ACCESS_KEY_CLEANUP && i.requestType === 'Delete');
    expect(deletes.map((i) => [i.phase, i.error])).toEqual([['update-cleanup', undefined]]);
    expect(aepKeyId()).toBe(r.now);
    expect(w.aws.accessKeyWorks(r.now)).toBe(true);
    expect(w.aws.accessKeysOf(r.user).map((k) => k.accessKeyId)).toEqual([r.now]);
    expect(w.aws.userExists(r.user)).toBe(true);
    expect(w.sim.resources().some((r2) => r2.type === 'AWS::Lambda::Function' && /KeyWatch/.test(r2.logicalId))).toBe(false);
    await expectConsistent();
  });

  test('serial bumped and keyLifecycle removed in one deploy: AEP gets CloudFormation\'s new key and keeps it', async () => {
    const r = await rotated(destination(lifecycle, { serial: 1 }));
    expect((await w.deploy(destination(undefined, { serial: 2 }))).status).toBe('UPDATE_COMPLETE');
    const fromCfn = cfnKey();
    expect(aepKeyId()).toBe(fromCfn);
    expect(w.aws.accessKeyWorks(fromCfn)).toBe(true);
    // The rotated key stays (nothing outside the stack deletes it any more), as the README says.
    expect(w.aws.accessKeysOf(r.user).map((k) => k.accessKeyId).sort()).toEqual([fromCfn, r.now].sort());
    expect(w.sim.leftBehind).toEqual([]);
    await expectConsistent();
  });

  test('upgrade: a stack deployed without the cleanup gets it by a Create that calls nothing; its destroy then completes', async () => {
    // The template an earlier library version deployed: no cleanup resource, no grant for it.
    const before = (template: any) => {
      const gone = Object.keys(template.Resources).filter((id) => template.Resources[id].Type === ResourceTypes.ACCESS_KEY_CLEANUP || /^CdkAepS3ProviderKeyCleanup/.test(id));
      for (const id of gone) delete template.Resources[id];
      for (const r of Object.values<any>(template.Resources)) {
        if (Array.isArray(r.DependsOn)) r.DependsOn = r.DependsOn.filter((d: string) => !gone.includes(d));
        if (r.Type === 'AWS::IAM::User') delete r.Properties.Tags;
      }
      return template;
    };
    expect((await w.deploy(destination(lifecycle), undefined, before)).status).toBe('CREATE_COMPLETE');
    expect(w.sim.resources().some((r) => r.type === ResourceTypes.ACCESS_KEY_CLEANUP)).toBe(false);
    ageAllKeys(31);
    await w.sim.runSchedules();
    const now = aepKeyId();
    const u = user();
    const iamCalls = w.aws.calls.filter((c) => c.service === 'iam').length;
    const patches = w.aep.requests.filter((r) => r.method === 'PATCH').length;

    expect((await w.deploy(destination(lifecycle))).status).toBe('UPDATE_COMPLETE');
    const created = w.sim.invocations.filter((i) => i.resourceType === ResourceTypes.ACCESS_KEY_CLEANUP);
    expect(created.map((i) => [i.requestType, i.error, i.physicalId])).toEqual([['Create', undefined, u]]);
    expect(w.aws.calls.filter((c) => c.service === 'iam').length).toBe(iamCalls);
    expect(w.aep.requests.filter((r) => r.method === 'PATCH').length).toBe(patches);
    expect(w.aws.accessKeysOf(u).map((k) => k.accessKeyId)).toEqual([now]);

    expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
    expect(w.aws.userExists(u)).toBe(false);
    await expectConsistent();
  });

  test('a source after rotation (session credentials): destroy completes, its user and keys gone', async () => {
    const build = ({ stack, sandbox }: ScenarioScope) => {
      new AepS3Source(stack, 'Ingest', {
        sandbox: sandbox(),
        bucket: s3.Bucket.fromBucketName(stack, 'Inbound', 'acme-aep-inbound'),
        folderPath: 'exports/crm',
        auth: S3SourceAuth.accessKey({
          sessionToken: { duration: Duration.hours(1), refreshEvery: Duration.minutes(30) },
          keyLifecycle: { rotateEvery: Duration.days(30) },
        }),
      });
    };
    expect((await w.deploy(build)).status).toBe('CREATE_COMPLETE');
    const first = cfnKey();
    const u = user();
    ageAllKeys(31);
    await w.sim.runSchedules();
    expect(w.aws.accessKeysOf(u).map((k) => k.accessKeyId)).not.toContain(first);
    expect(w.aws.accessKeysOf(u)).toHaveLength(1);
    expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
    expect(w.aws.accessKeysOf(u)).toEqual([]);
    expect(w.aws.userExists(u)).toBe(false);
    await expectConsistent();
  });

  test('RETAIN: destroy keeps the user with the rotated key AEP uses (the cleanup gets no Delete)', async () => {
    const build = ({ stack, sandbox }: ScenarioScope) => {
      new AepS3Destination(stack, 'Exports', {
        sandbox: sandbox(),
        bucket: s3.Bucket.fromBucketName(stack, 'ExportsBucket', 'acme-aep-exports'),
        auth: S3DestinationAuth.accessKey({ keyLifecycle: lifecycle }),
        removalPolicy: RemovalPolicy.RETAIN,
      });
    };
    const r = await rotated(build);
    const deletes = () => w.sim.invocations.filter((i) => i.resourceType === ResourceTypes.ACCESS_KEY_CLEANUP && i.requestType === 'Delete');
    const retained = w.owned();
    expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
    expect(deletes()).toEqual([]);
    expect(w.aws.userExists(r.user)).toBe(true);
    expect(w.aws.accessKeysOf(r.user).map((k) => k.accessKeyId)).toEqual([r.now]);
    expect(w.aws.accessKeyWorks(r.now)).toBe(true);
    expect(w.aep.getConnection(r.connection)!.auth.params.s3AccessKey).toBe(r.now);
    for (const k of w.aws.issuedKeys) w.secrets.add(k.secretAccessKey);
    expect(await w.violations({ retained })).toEqual([]);
  });

  test('the destination removed from a stack that stays: its user and every key go, nothing is left behind', async () => {
    const keep = ({ stack }: ScenarioScope) => { new s3.Bucket(stack, 'Keep'); };
    const both = (scope: ScenarioScope) => { keep(scope); destination(lifecycle)(scope); };
    const r = await rotated(both);
    expect((await w.deploy(keep)).status).toBe('UPDATE_COMPLETE');
    expect(w.sim.leftBehind).toEqual([]);
    expect(w.aws.accessKeysOf(r.user)).toEqual([]);
    expect(w.aws.userExists(r.user)).toBe(false);
    expect(w.aep.getConnection(r.connection)).toBeUndefined();
    expect(w.sim.resources().filter((x) => x.type.startsWith('AWS::IAM::User') || x.type === 'AWS::IAM::AccessKey')).toEqual([]);
    await expectConsistent();
  });
});
