import { AepError, parseErrorBody, parseRetryAfter } from '../../src/aep/errors';
import { loadConfig, startInvocation } from '../../src/plumbing/config';
import { redact, registerSecret, resetSecrets } from '../../src/plumbing/log';
import { backoffDelay, retry, RetryExhaustedError } from '../../src/plumbing/retry';

describe('parseErrorBody', () => {
  test.each([
    ['gateway', { error_code: '401013', message: 'Oauth token is not valid' }, { code: '401013', message: 'Oauth token is not valid' }],
    ['Flow Service', { errorCode: '1418-400', errorMessage: 'in use', errorDetails: { flows: 2 } }, { code: '1418-400', message: 'in use: {"flows":2}' }],
    ['Flow Service without code', { errorMessage: 'Connection not found' }, { code: undefined, message: 'Connection not found' }],
    ['problem', { type: 'x', status: 400, title: 'Bad Request', detail: 'name is required' }, { code: undefined, message: 'Bad Request: name is required' }],
    ['IMS', { error: 'invalid_client', error_description: 'invalid client_id' }, { code: 'invalid_client', message: 'invalid client_id' }],
    ['JSON text', '{"error_code":"429050","message":"Too many requests"}', { code: '429050', message: 'Too many requests' }],
    ['HTML', '<html>Bad gateway</html>', { message: '<html>Bad gateway</html>' }],
    ['empty', '', {}],
    ['array', [1], {}],
  ])('%s', (_name, body, expected) => {
    expect(parseErrorBody(body)).toEqual(expected);
  });

  test('long bodies are truncated', () => {
    expect(parseErrorBody('x'.repeat(5000)).message!.length).toBeLessThan(600);
  });
});

describe('parseRetryAfter', () => {
  test('delta seconds', () => expect(parseRetryAfter('3')).toBe(3000));
  test('HTTP date', () => {
    const ms = parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())!;
    expect(ms).toBeGreaterThan(8_000);
    expect(ms).toBeLessThanOrEqual(10_000);
  });
  test('date in the past', () => expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT')).toBe(0));
  test('garbage or absent', () => {
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('backoff', () => {
  beforeAll(() => jest.spyOn(process.stdout, 'write').mockReturnValue(true));
  afterAll(() => jest.restoreAllMocks());

  test('full jitter within the doubling cap, capped at 16x base, never below Retry-After', () => {
    for (let n = 1; n <= 8; n++) {
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(n, 100);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(Math.min(1600, 100 * 2 ** (n - 1)));
      }
    }
    expect(backoffDelay(1, 100, 5000)).toBe(5000);
  });

  test('retry stops at non-retryable errors and at the attempt budget', async () => {
    let calls = 0;
    const fatal = new AepError('GET /x', 400, undefined, 'bad', false);
    await expect(retry({ operation: 'x', maxAttempts: 5, baseDelayMs: 1, deadline: Date.now() + 1000, classify: () => ({ retryable: false }) },
      async () => { calls++; throw fatal; })).rejects.toBe(fatal);
    expect(calls).toBe(1);

    calls = 0;
    const err = await retry({ operation: 'x', maxAttempts: 3, baseDelayMs: 1, deadline: Date.now() + 1000, classify: () => ({ retryable: true }) },
      async () => { calls++; throw new Error('flaky'); }).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(err).toBeInstanceOf(RetryExhaustedError);
    expect((err as Error).message).toBe('flaky (gave up after 3 attempts)');
  });
});

describe('config', () => {
  test('production defaults, env overrides, garbage ignored', () => {
    expect(loadConfig({})).toEqual({
      httpTimeoutMs: 15_000,
      retryBaseMs: 1_000,
      retryMaxAttempts: 5,
      deadlineMs: 120_000,
      keyProbeDeadlineMs: 120_000,
      keyProbeIntervalMs: 500,
      grantPropagationMs: 30_000,
      grantRetryBaseMs: 250,
    });
    expect(loadConfig({ AEP_HTTP_TIMEOUT_MS: '50', AEP_RETRY_MAX_ATTEMPTS: 'many', AEP_DEADLINE_MS: '-1', AWS_GRANT_PROPAGATION_MS: '700' })).toMatchObject({
      httpTimeoutMs: 50, retryMaxAttempts: 5, deadlineMs: 120_000, grantPropagationMs: 700,
    });
  });

  test('the invocation deadline keeps a safety margin before the Lambda timeout', () => {
    const inv = startInvocation({ getRemainingTimeInMillis: () => 65_000 }, loadConfig({}));
    expect(inv.deadline - Date.now()).toBeGreaterThan(59_000);
    expect(inv.deadline - Date.now()).toBeLessThanOrEqual(60_000);
    expect(startInvocation(undefined, loadConfig({})).deadline).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('redactor', () => {
  afterEach(() => resetSecrets());

  test('hides registered values, their JSON- and URL-escaped forms, and forgets them per invocation', () => {
    registerSecret('abc/def+ghi"jkl');
    expect(redact('x abc/def+ghi"jkl y')).toBe('x *** y');
    expect(redact(JSON.stringify({ v: 'abc/def+ghi"jkl' }))).toBe('{"v":"***"}');
    expect(redact(`q=${encodeURIComponent('abc/def+ghi"jkl')}`)).toBe('q=***');
    resetSecrets();
    expect(redact('abc/def+ghi"jkl')).toBe('abc/def+ghi"jkl');
  });

  test('ignores values too short to be secrets', () => {
    registerSecret('ab');
    registerSecret(undefined);
    expect(redact('about')).toBe('about');
  });

  test('hides every 8+ character piece of a secret (a server echoing a shortened or partial value)', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    registerSecret(secret);
    expect(redact(`the key starts with ${secret.slice(0, 12)}…`)).toBe('the key starts with ***…');
    expect(redact(`tail ${secret.slice(-9)} end`)).toBe('tail *** end');
    // 7 characters are not a piece: ordinary text survives.
    expect(redact(`short ${secret.slice(3, 10)}`)).toBe(`short ${secret.slice(3, 10)}`);
  });

  test('an ARN-shaped secret hides its resource name, not the public ARN prefix every ARN shares', () => {
    registerSecret('arn:aws:iam::111122223333:role/aep-export-7Qk2x9');
    expect(redact('Secret arn:aws:secretsmanager:us-east-1:111122223333:secret:x')).toBe('Secret arn:aws:secretsmanager:us-east-1:111122223333:secret:x');
    expect(redact('assumed aep-export-7Qk2 now')).toBe('assumed *** now');
  });

  test('AepError messages are redacted at construction', () => {
    registerSecret('SuperSecretValue123');
    expect(new AepError('POST /connections', 400, '400', 'rejected SuperSecretValue123', false).message)
      .toBe('AEP POST /connections failed: HTTP 400 [400]: rejected ***');
  });
});
