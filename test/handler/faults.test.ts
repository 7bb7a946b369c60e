import { cfnEvent, rejectionOf, FAULT_KNOBS, useHarness } from './harness';
import type { FaultSpec } from '../../offline-world/stand-in';
import { handler } from '../../src/handler/aep.lambda';

const h = useHarness(FAULT_KNOBS);

const POST_CONNECTIONS = { method: 'POST', path: '/connections' };
const GET_CONNECTIONS = { method: 'GET', path: '/connections' };

async function createOne() {
  const res = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())));
  expect(h.aep.connections().map((c) => c.id)).toEqual([res.PhysicalResourceId]);
  expect(h.aep.pendingFaults).toBe(0);
  h.expectNoSecretsIn(res);
  return res;
}

function posts() {
  return h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/connections'));
}

describe('every fault on the create path ends with exactly one connection', () => {
  test.each<[string, FaultSpec]>([
    ['500 on POST', { match: POST_CONNECTIONS, kind: 'status', status: 500 }],
    ['502 on POST', { match: POST_CONNECTIONS, kind: 'status', status: 502 }],
    ['503 on POST', { match: POST_CONNECTIONS, kind: 'status', status: 503 }],
    ['504 on POST', { match: POST_CONNECTIONS, kind: 'status', status: 504 }],
    ['two 503s on POST', { match: POST_CONNECTIONS, kind: 'status', status: 503, times: 2 }],
    ['connection reset on POST', { match: POST_CONNECTIONS, kind: 'reset' }],
    ['malformed JSON answer to POST', { match: POST_CONNECTIONS, kind: 'malformed' }],
    ['expired token on POST', { match: POST_CONNECTIONS, kind: 'expiredToken' }],
    ['503 on the adoption lookup', { match: GET_CONNECTIONS, kind: 'status', status: 503, times: 2 }],
    ['reset on the adoption lookup', { match: GET_CONNECTIONS, kind: 'reset' }],
    ['malformed JSON on the adoption lookup', { match: GET_CONNECTIONS, kind: 'malformed' }],
    ['slow lookup (client timeout)', { match: GET_CONNECTIONS, kind: 'delay', delayMs: 400 }],
    ['500 from IMS', { match: { method: 'POST', path: '/ims/token/v3' }, kind: 'status', status: 500 }],
    ['reset from IMS', { match: { method: 'POST', path: '/ims/token/v3' }, kind: 'reset' }],
  ])('%s', async (_name, fault) => {
    h.aep.inject(fault);
    await createOne();
  });

  test('429 with Retry-After is honoured before the next attempt', async () => {
    h.aep.inject({ match: POST_CONNECTIONS, kind: 'status', status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    await createOne();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(posts().map((r) => r.status)).toEqual([429, 201]);
  });

  test('a POST that times out but is applied server-side is adopted, not duplicated', async () => {
    // The stand-in applies the POST after 400 ms, well after the client's 250 ms timeout.
    h.aep.inject({ match: POST_CONNECTIONS, kind: 'delay', delayMs: 400 });
    await createOne();
    expect(posts()).toHaveLength(1);
    expect(h.logRecords().some((r) => r.message === 'adopting existing AEP resource')).toBe(true);
  });

  test.each([2, 3.5])('a POST applied %s HTTP timeouts late is still adopted (settle window), not duplicated', async (timeouts) => {
    const timeoutMs = Number(FAULT_KNOBS.AEP_HTTP_TIMEOUT_MS);
    h.aep.inject({ match: POST_CONNECTIONS, kind: 'delay', delayMs: timeouts * timeoutMs });
    await createOne();
    expect(posts()).toHaveLength(1);
    // Let the late request finish before counting, so nothing it does lands after the assertion.
    await new Promise((resolve) => setTimeout(resolve, timeouts * timeoutMs));
    expect(h.aep.connections()).toHaveLength(1);
  });

  test('a non-retryable 4xx is not retried', async () => {
    h.aep.inject({ match: POST_CONNECTIONS, kind: 'status', status: 403, body: { error_code: '403027', message: 'User region is missing' } });
    const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey()))));
    expect(err.message).toBe('AEP POST /connections failed: HTTP 403 [403027]: User region is missing');
    expect(posts()).toHaveLength(1);
    expect(h.aep.connections()).toHaveLength(0);
  });

  test('persistent 503 gives up after the attempt budget with a clear message', async () => {
    h.aep.inject({ match: POST_CONNECTIONS, kind: 'status', status: 503, times: 100 });
    const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey()))));
    expect(err.message).toMatch(/POST \/connections failed: HTTP 503.*gave up after 5 attempts/);
    expect(posts()).toHaveLength(Number(FAULT_KNOBS.AEP_RETRY_MAX_ATTEMPTS));
    expect(h.aep.connections()).toHaveLength(0);
    h.aep.clearFaults();
  });

  test('the Lambda deadline bounds retries: a Retry-After past it is not waited for', async () => {
    h.aep.inject({ match: POST_CONNECTIONS, kind: 'status', status: 429, retryAfterSeconds: 30 });
    const started = Date.now();
    const context = { getRemainingTimeInMillis: () => 5_000 + 2_000 };
    const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())), context));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err.message).toMatch(/HTTP 429.*gave up after 1 attempt/);
  });
});

describe('expired IMS token', () => {
  test('a token revoked between invocations is replaced once and the request repeated', async () => {
    await createOne();
    h.aep.expireAllTokens();
    h.aep.resetRecording();
    await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey()), { logicalId: 'Second' }));
    const statuses = h.aep.requests.map((r) => `${r.method} ${r.path.replace(/.*flowservice/, '')} ${r.status}`);
    expect(statuses.slice(0, 3)).toEqual(['GET /connections 401', 'POST /ims/token/v3 200', 'GET /connections 200']);
  });

  test('the token is cached across invocations of a warm container', async () => {
    await createOne();
    const issued = h.aep.tokensIssued;
    await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey()), { logicalId: 'Second' }));
    expect(h.aep.tokensIssued).toBe(issued);
  });
});

describe('redaction end to end', () => {
  test('an AEP error that echoes the secret key is reported with the secret replaced', async () => {
    const key = h.seedKey();
    h.aep.inject({
      match: POST_CONNECTIONS,
      kind: 'status',
      status: 400,
      body: { errorCode: '400', errorMessage: `auth.params.s3SecretKey '${key.secretAccessKey}' is invalid` },
    });
    const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(key))));
    expect(err.message).toBe("AEP POST /connections failed: HTTP 400 [400]: auth.params.s3SecretKey '***' is invalid");
    const logged = h.logRecords().find((r) => r.level === 'error')!;
    expect(logged.error).toBe(err.message);
    h.expectNoSecretsIn(err.message, err.stack);
  });
});
