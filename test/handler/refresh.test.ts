import { cfnEvent, rejectionOf, SeededKey, useHarness } from './harness';
import { handler, refreshHandler } from '../../src/handler/aep.lambda';
import { RefreshMetric } from '../../src/private/contract';

const h = useHarness();

async function sourceWithSessionToken(): Promise<{ id: string; key: SeededKey }> {
  const key = h.seedKey();
  const res = await handler(cfnEvent('Create', h.sourceSessionTokenProps(key, 3600)));
  h.rememberStoredSecrets();
  h.aep.resetRecording();
  h.output.length = 0;
  return { id: res.PhysicalResourceId, key };
}

function metricValues(): number[] {
  return h.logRecords()
    .filter((r) => (r._aws as { CloudWatchMetrics?: unknown } | undefined)?.CloudWatchMetrics)
    .map((r) => {
      const aws = r._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> };
      expect(aws.CloudWatchMetrics[0]).toEqual({
        Namespace: RefreshMetric.NAMESPACE,
        Dimensions: [[RefreshMetric.DIMENSION]],
        Metrics: [{ Name: RefreshMetric.NAME, Unit: 'Count' }],
      });
      expect(r[RefreshMetric.DIMENSION]).toBe('acme-aep-s3-src');
      return r[RefreshMetric.NAME] as number;
    });
}

test('replaces the whole temporary triple with one If-Match PATCH and reports success', async () => {
  const { id, key } = await sourceWithSessionToken();
  const before = h.aep.getConnection(id)!;
  const res = await refreshHandler(h.refreshEvent(id, key));

  const after = h.aep.getConnection(id)!;
  expect(res).toEqual({ ConnectionId: id, Etag: after.etag });
  expect(after.auth.params.s3AccessKey).toMatch(/^ASIA/);
  for (const param of ['s3AccessKey', 's3SecretKey', 's3SessionToken']) {
    expect(after.auth.params[param]).not.toBe(before.auth.params[param]);
  }
  expect(after.auth.params.bucketName).toBe('acme-aep-inbound');
  const patch = h.aep.requests.find((r) => r.method === 'PATCH')!;
  expect(patch.headers['if-match']).toBe(before.etag);
  expect((patch.body as Array<{ path: string }>).map((o) => o.path))
    .toEqual(['/auth/params/s3AccessKey', '/auth/params/s3SecretKey', '/auth/params/s3SessionToken']);
  expect(metricValues()).toEqual([1]);
  h.expectNoSecretsIn(res);
});

test('a 412 re-reads the etag and retries once', async () => {
  const { id, key } = await sourceWithSessionToken();
  h.aep.inject({ match: { method: 'PATCH' }, kind: 'status', status: 412 });
  await refreshHandler(h.refreshEvent(id, key));
  expect(h.aep.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([412, 200]);
  expect(metricValues()).toEqual([1]);
});

test('an IMS token that expired since the last run is replaced', async () => {
  const { id, key } = await sourceWithSessionToken();
  h.aep.expireAllTokens();
  await refreshHandler(h.refreshEvent(id, key));
  expect(h.aep.requests.filter((r) => r.path === '/ims/token/v3')).toHaveLength(1);
  expect(metricValues()).toEqual([1]);
});

test('a token that expires mid-refresh (between GET and PATCH) is replaced', async () => {
  const { id, key } = await sourceWithSessionToken();
  h.aep.inject({ match: { method: 'PATCH' }, kind: 'expiredToken' });
  await refreshHandler(h.refreshEvent(id, key));
  expect(h.aep.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'PATCH 401', 'POST 200', 'PATCH 200']);
  expect(metricValues()).toEqual([1]);
});

test('a failure emits 0 and rethrows so Lambda Errors counts it', async () => {
  const { id, key } = await sourceWithSessionToken();
  h.aep.connections(); // the connection exists…
  await handler(cfnEvent('Delete', { ...h.common() }, { physicalId: id })); // …until someone deletes it
  h.output.length = 0;
  const err = await rejectionOf(() => refreshHandler(h.refreshEvent(id, key)));
  expect(err.message).toMatch(new RegExp(`connection ${id} no longer exists`));
  expect(metricValues()).toEqual([0]);
  h.expectNoSecretsIn(err.message, err.stack);
});
