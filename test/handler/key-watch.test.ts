/**
 * The key watch (age metric and scheduled rotation of a library-made access key) against the
 * stand-ins: IAM keys with CreateDate and the 2-keys-per-user limit, the library secret, and an
 * AEP connection with etags. After every run AEP must hold a key that works.
 */
import { cfnEvent, rejectionOf, SeededKey, useHarness } from './harness';
import { handler, keyWatchHandler } from '../../src/handler/aep.lambda';
import { AepIds, CommonProps, HandlerEnvironment, KeyWatchKeys, KeyWatchMetric } from '../../src/private/contract';

const h = useHarness();
const DAY = 86_400_000;
const USER = 'aep-s3-user';

afterEach(() => {
  delete process.env[HandlerEnvironment.KEY_WATCH_TARGET];
});

/** A destination connection registered with a seeded key, and the watch pinned to it. */
async function destination(options: { rotateAfterDays?: number; ageDays?: number } = {}): Promise<{ id: string; key: SeededKey }> {
  const key = h.seedKey();
  const res = await handler(cfnEvent('Create', h.destinationAccessKeyProps(key)));
  h.aws.setAccessKeyCreateDate(key.accessKeyId, Date.now() - (options.ageDays ?? 100) * DAY);
  pin(res.PhysicalResourceId, key, 'acme-aep-s3-dest', AepIds.S3_DESTINATION_CONNECTION_SPEC, options.rotateAfterDays);
  h.aep.resetRecording();
  h.output.length = 0;
  return { id: res.PhysicalResourceId, key };
}

function pin(connectionId: string, key: SeededKey, name: string, specId: string, rotateAfterDays?: number, sessionSeconds?: number): void {
  process.env[HandlerEnvironment.KEY_WATCH_TARGET] = JSON.stringify({
    ...h.common(),
    [KeyWatchKeys.USER_NAME]: USER,
    [KeyWatchKeys.CONNECTION_ID]: connectionId,
    [KeyWatchKeys.CONNECTION_SPEC_ID]: specId,
    [KeyWatchKeys.NAME]: name,
    [KeyWatchKeys.AUTH_SECRET_ARN]: key.secretArn,
    [KeyWatchKeys.AUTH_SECRET_FIELDS]: { s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' },
    ...(rotateAfterDays === undefined ? {} : { [KeyWatchKeys.ROTATE_AFTER_SECONDS]: String(rotateAfterDays * 86_400) }),
    ...(sessionSeconds === undefined ? {} : { [KeyWatchKeys.SESSION_TOKEN_DURATION]: String(sessionSeconds) }),
  });
}

function metric(name: string): number[] {
  return h.logRecords().filter((r) => r[name] !== undefined && (r._aws as object | undefined)).map((r) => {
    expect((r._aws as { CloudWatchMetrics: Array<{ Namespace: string }> }).CloudWatchMetrics[0].Namespace).toBe(KeyWatchMetric.NAMESPACE);
    return r[name] as number;
  });
}

/** The key the library secret holds, and that its secret half is known to the leak check. */
function secretKey(arn: string): { accessKeyId: string; secretAccessKey: string } {
  const value = JSON.parse(h.aws.getSecret(arn)!);
  h.secretValues.add(value.secretAccessKey);
  return value;
}

/** Every key IAM issued is a secret that must not appear in the output. */
function rememberIssued(): void {
  for (const k of h.aws.issuedKeys) h.secretValues.add(k.secretAccessKey);
}

// Every issued key's secret (the rolled-back ones too) must be absent from all output.
afterEach(() => {
  rememberIssued();
  h.expectNoSecretsIn();
});

/** AEP's view, unmasked (test-only): the key id and secret it would use. */
function aepKey(id: string): { id: string; secret: string } {
  const params = h.aep.getConnection(id)!.auth.params;
  return { id: params.s3AccessKey as string, secret: params.s3SecretKey as string };
}


test('measure only: publishes the age IAM reports (CreateDate), touches neither AEP nor the key', async () => {
  const { id, key } = await destination({ ageDays: 100 });
  const res = await keyWatchHandler({});
  expect(res.Rotated).toBe(false);
  expect(metric(KeyWatchMetric.AGE)).toHaveLength(1);
  expect(metric(KeyWatchMetric.AGE)[0]).toBeCloseTo(100, 1);
  expect(metric(KeyWatchMetric.ROTATION)).toEqual([]);
  expect(h.aep.requests).toEqual([]);
  expect(h.aws.calls.filter((c) => c.service === 'iam').map((c) => c.action)).toEqual(['ListAccessKeys']);
  expect(aepKey(id).id).toBe(key.accessKeyId);
});

test('a due key is rotated: new key in the secret and in AEP (If-Match PATCH, read back), old key deleted', async () => {
  const { id, key } = await destination({ rotateAfterDays: 30, ageDays: 31 });
  const before = h.aep.getConnection(id)!;
  const res = await keyWatchHandler({});

  const stored = secretKey(key.secretArn);
  expect(res).toEqual({ AccessKeyId: stored.accessKeyId, Rotated: true, AgeDays: 0 });
  expect(stored.accessKeyId).not.toBe(key.accessKeyId);
  expect(aepKey(id)).toEqual({ id: stored.accessKeyId, secret: stored.secretAccessKey });
  // AEP holds a working key, and no old key is alive.
  expect(h.aws.accessKeyWorks(stored.accessKeyId)).toBe(true);
  expect(h.aws.accessKeyWorks(key.accessKeyId)).toBe(false);
  expect(h.aws.accessKeysOf(USER).map((k) => k.accessKeyId)).toEqual([stored.accessKeyId]);
  const patch = h.aep.requests.find((r) => r.method === 'PATCH')!;
  expect(patch.headers['if-match']).toBe(before.etag);
  expect((patch.body as Array<{ path: string }>).map((o) => o.path)).toEqual(['/auth/params/s3AccessKey', '/auth/params/s3SecretKey']);
  // The old key goes only after AEP was read back holding the new one.
  const iam = h.aws.calls.filter((c) => c.service === 'iam' || c.service === 'secretsmanager').map((c) => c.action);
  expect(iam.indexOf('DeleteAccessKey')).toBeGreaterThan(iam.indexOf('PutSecretValue'));
  expect(h.aep.requests.map((r) => r.method).slice(-1)).toEqual(['GET']);
  expect(metric(KeyWatchMetric.ROTATION)).toEqual([1]);
  expect(metric(KeyWatchMetric.AGE)).toEqual([0]);
  h.expectNoSecretsIn(res);
});

test('a key younger than rotateAfter stays; nothing is written', async () => {
  const { id, key } = await destination({ rotateAfterDays: 30, ageDays: 29 });
  expect((await keyWatchHandler({})).Rotated).toBe(false);
  expect(aepKey(id).id).toBe(key.accessKeyId);
  expect(h.aep.requests.filter((r) => r.method !== 'GET' && r.path !== '/ims/token/v3')).toEqual([]);
  expect(h.aws.calls.map((c) => c.action)).not.toContain('CreateAccessKey');
  expect(metric(KeyWatchMetric.ROTATION)).toEqual([1]);
});

test('AEP 412 on the PATCH: re-read, retried once, rotated', async () => {
  const { id, key } = await destination({ rotateAfterDays: 30 });
  h.aep.inject({ match: { method: 'PATCH' }, kind: 'status', status: 412 });
  await keyWatchHandler({});
  expect(h.aep.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([412, 200]);
  const stored = secretKey(key.secretArn);
  expect(aepKey(id).id).toBe(stored.accessKeyId);
  expect(h.aws.accessKeysOf(USER).map((k) => k.accessKeyId)).toEqual([stored.accessKeyId]);
});

test('AEP 5xx on every PATCH: the secret is restored, the new key deleted, AEP keeps its working old key', async () => {
  const { id, key } = await destination({ rotateAfterDays: 30 });
  h.aep.inject({ match: { method: 'PATCH' }, kind: 'status', status: 503, times: 100 });
  const err = await rejectionOf(() => keyWatchHandler({}));
  expect(err.message).toMatch(/503/);
  expect(secretKey(key.secretArn).accessKeyId).toBe(key.accessKeyId);
  expect(aepKey(id).id).toBe(key.accessKeyId);
  expect(h.aws.accessKeyWorks(key.accessKeyId)).toBe(true);
  expect(h.aws.accessKeysOf(USER).map((k) => k.accessKeyId)).toEqual([key.accessKeyId]);
  expect(h.aws.issuedKeys).toHaveLength(1);
  expect(metric(KeyWatchMetric.ROTATION)).toEqual([0]);
  h.expectNoSecretsIn(err.message);
});

test('AEP answers 502 but applied the PATCH: the read-back decides, the rotation completes', async () => {
  const { id, key } = await destination({ rotateAfterDays: 30 });
  h.aep.inject({ match: { method: 'PATCH' }, kind: 'status', status: 502, apply: 'now', times: 100 });
  await keyWatchHandler({});
  const stored = secretKey(key.secretArn);
  expect(stored.accessKeyId).not.toBe(key.accessKeyId);
  expect(aepKey(id).id).toBe(stored.accessKeyId);
  expect(h.aws.accessKeysOf(USER).map((k) => k.accessKeyId)).toEqual([stored.accessKeyId]);
});

test('AEP answers 200 but did not apply the PATCH: the read-back catches it before any key is deleted; the next run finishes', async () => {
  const { id, key } = await destination({ rotateAfterDays: 30 });
  const etag = h.aep.getConnection(id)!.etag;
  h.aep.inject({ match: { method: 'PATCH' }, kind: 'status', status: 200, body: { id, etag } });
  const err = await rejectionOf(() => keyWatchHandler({}));
  expect(err.message).toMatch(/reads back with access key .* no key was deleted/);
  expect(aepKey(id).id).toBe(key.accessKeyId);
  expect(h.aws.accessKeyWorks(key.accessKeyId)).toBe(true);

  await keyWatchHandler({});
  const stored = secretKey(key.secretArn);
  expect(aepKey(id).id).toBe(stored.accessKeyId);
  expect(h.aws.accessKeysOf(USER).map((k) => k.accessKeyId)).toEqual([stored.accessKeyId]);
});

test('AEP unreachable after the PATCH failed: both keys stay (both work); the next run finishes the rotation', async () => {
  const { id, key } = await destination({ rotateAfterDays: 30 });
  h.aep.inject({ match: { method: 'PATCH' }, kind: 'status', status: 503, times: 100 });
  h.aep.inject({ match: { method: 'GET', path: new RegExp(`/connections/${id}`) }, kind: 'status', status: 503, times: 100 });
  await rejectionOf(() => keyWatchHandler({}));
  expect(aepKey(id).id).toBe(key.accessKeyId);
  expect(h.aws.accessKeysOf(USER)).toHaveLength(2);
  expect(h.aws.accessKeyWorks(key.accessKeyId)).toBe(true);

  h.aep.clearFaults();
  const res = await keyWatchHandler({});
  const stored = secretKey(key.secretArn);
  expect(res.Rotated).toBe(false);
  expect(aepKey(id).id).toBe(stored.accessKeyId);
  expect(h.aws.accessKeysOf(USER).map((k) => k.accessKeyId)).toEqual([stored.accessKeyId]);
  expect(h.aws.accessKeyWorks(key.accessKeyId)).toBe(false);
});

test('IAM limit: a second key made outside the library is deleted only once AEP is read holding the secret\'s key, then the rotation fits', async () => {
  const { id, key } = await destination({ rotateAfterDays: 30 });
  const outside = h.aws.createAccessKey(USER);
  h.secretValues.add(outside.secretAccessKey);
  expect(h.aws.accessKeysOf(USER)).toHaveLength(2);
  await keyWatchHandler({});
  const stored = secretKey(key.secretArn);
  expect(aepKey(id).id).toBe(stored.accessKeyId);
  expect(h.aws.accessKeysOf(USER).map((k) => k.accessKeyId)).toEqual([stored.accessKeyId]);
});

test('IAM limit with no key identifiable as AEP\'s: refuses, changes nothing, says what to do', async () => {
  const { id, key } = await destination({ rotateAfterDays: 30 });
  // The secret names a key that no longer exists; the user holds two others, neither AEP's.
  h.aws.deleteAccessKey(key.accessKeyId);
  const a = h.aws.createAccessKey(USER);
  const b = h.aws.createAccessKey(USER);
  h.secretValues.add(a.secretAccessKey).add(b.secretAccessKey);
  const err = await rejectionOf(() => keyWatchHandler({}));
  expect(err.message).toMatch(/2 access keys.*IAM allows 2 per user.*Delete the key AEP does not use/);
  expect(h.aws.accessKeysOf(USER)).toHaveLength(2);
  expect(h.aep.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
  expect(aepKey(id).id).toBe(key.accessKeyId);
});

test('a source with session credentials: AEP gets a new triple made from the new key; the old key goes', async () => {
  const key = h.seedKey();
  const res = await handler(cfnEvent('Create', h.sourceSessionTokenProps(key, 3600)));
  const id = res.PhysicalResourceId;
  h.aws.setAccessKeyCreateDate(key.accessKeyId, Date.now() - 91 * DAY);
  pin(id, key, 'acme-aep-s3-src', AepIds.S3_SOURCE_CONNECTION_SPEC, 90, 3600);
  h.aep.resetRecording();
  h.output.length = 0;

  await keyWatchHandler({});
  const stored = secretKey(key.secretArn);
  expect(stored.accessKeyId).not.toBe(key.accessKeyId);
  const held = aepKey(id).id;
  expect(held).toMatch(/^ASIA/);
  expect(h.aws.accessKeyWorks(held)).toBe(true);
  expect(h.aws.accessKeysOf(USER).map((k) => k.accessKeyId)).toEqual([stored.accessKeyId]);
  const patch = h.aep.requests.find((r) => r.method === 'PATCH')!;
  expect((patch.body as Array<{ path: string }>).map((o) => o.path))
    .toEqual(['/auth/params/s3AccessKey', '/auth/params/s3SecretKey', '/auth/params/s3SessionToken']);
});

test('pinned: the event cannot name another connection or user; only the environment counts', async () => {
  const { id, key } = await destination({ rotateAfterDays: 30 });
  await keyWatchHandler({ [KeyWatchKeys.CONNECTION_ID]: 'someone-elses', [KeyWatchKeys.USER_NAME]: 'admin', [CommonProps.FLOW_SERVICE_URL]: 'https://evil.example' });
  expect(aepKey(id).id).toBe(secretKey(key.secretArn).accessKeyId);
  delete process.env[HandlerEnvironment.KEY_WATCH_TARGET];
  const err = await rejectionOf(() => keyWatchHandler({ [KeyWatchKeys.CONNECTION_ID]: id }));
  expect(err.message).toMatch(/CDK_AEP_S3_KEY_WATCH_TARGET is not set/);
});
