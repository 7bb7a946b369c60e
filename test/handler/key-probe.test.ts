import { cfnEvent, TEST_KNOBS, useHarness } from './harness';
import { probeDelay } from '../../src/aws/aws-keys';
import { handler } from '../../src/handler/aep.lambda';

const h = useHarness();

// The schedule is asserted through the knobs and the handler's own record of its waits, never
// through wall-clock time.
function probeWaits(): number[] {
  return h.logRecords().filter((r) => typeof r.message === 'string' && /^AWS access key \S+ not accepted yet; probing again$/.test(r.message)).map((r) => r.delayMs as number);
}

test('a constant interval between probes; throttling doubles it per throttled probe in a row, at most 16×', () => {
  expect([0, 0, 0].map((n) => probeDelay(500, n))).toEqual([500, 500, 500]);
  expect([1, 2, 3, 4, 5, 9].map((n) => probeDelay(500, n))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
});

test.each([
  [4, '5'],
  [4, '7'],
  [1, '7'],
])('a fresh key that STS rejects %i times is probed again after exactly AWS_KEY_PROBE_INTERVAL_MS=%s each time', async (failures, interval) => {
  process.env.AWS_KEY_PROBE_INTERVAL_MS = interval;
  try {
    const key = h.seedKey('aep/fresh-key', failures);
    await handler(cfnEvent('Create', h.destinationAccessKeyProps(key)));
    const probes = h.aws.calls.filter((c) => c.action === 'GetCallerIdentity');
    expect(probes.map((c) => c.errorCode ?? 'ok')).toEqual([...Array(failures).fill('InvalidClientTokenId'), 'ok']);
    // The deliberate wait is failures × interval: no backoff growth, no jitter.
    expect(probeWaits()).toEqual(Array(failures).fill(Number(interval)));
  } finally {
    process.env.AWS_KEY_PROBE_INTERVAL_MS = TEST_KNOBS.AWS_KEY_PROBE_INTERVAL_MS;
  }
});

test('the probe stops within its deadline: no wait is started that would end past it', async () => {
  process.env.AWS_KEY_PROBE_INTERVAL_MS = '20';
  process.env.AWS_KEY_PROBE_DEADLINE_MS = '200';
  try {
    const key = h.seedKey('aep/never-valid', 1_000);
    await expect(handler(cfnEvent('Create', h.destinationAccessKeyProps(key)))).rejects.toThrow(/still rejected by STS after \d+ attempts/);
    const waits = probeWaits();
    const probes = h.aws.calls.filter((c) => c.action === 'GetCallerIdentity').length;
    expect(waits.every((w) => w === 20)).toBe(true);
    expect(probes).toBe(waits.length + 1);
    // 200 ms of budget at 20 ms per wait: at most 10 waits fit, whatever the machine's speed.
    expect(waits.length).toBeLessThanOrEqual(10);
  } finally {
    process.env.AWS_KEY_PROBE_INTERVAL_MS = TEST_KNOBS.AWS_KEY_PROBE_INTERVAL_MS;
    process.env.AWS_KEY_PROBE_DEADLINE_MS = TEST_KNOBS.AWS_KEY_PROBE_DEADLINE_MS;
  }
});
