import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { newSandbox, newStack, only } from './util';
import { alarmDefinition, AlarmDefinition, AlarmState, Datapoint, evaluateAlarm } from '../../offline-world/cloudwatch-alarm';
import { AepS3Source, S3SourceAuth } from '../../src';
import { RefreshMetric } from '../../src/private/contract';

/**
 * The refresh alarm, evaluated as CloudWatch would over timelines of the success metric the
 * refresh function publishes (1 per success, 0 per handled failure, nothing on a crash).
 */

const MIN = 60;
const HOUR = 3600;
/** A fixed epoch-aligned start, so runs fall at arbitrary offsets within periods. */
const T0 = 1_700_000_000 - (1_700_000_000 % 3600) + 17;

/** Alarms synthesized so far, by input: the tests only read them (a refused input throws, never cached). */
const alarms = new Map<string, { def: AlarmDefinition; raw: any }>();

function synthAlarm(duration: Duration, refreshEvery: Duration, period?: Duration): { def: AlarmDefinition; raw: any } {
  const key = [duration, refreshEvery, period].map((d) => d?.toSeconds()).join('/');
  if (!alarms.has(key)) alarms.set(key, synthAlarmFresh(duration, refreshEvery, period));
  return alarms.get(key)!;
}

function synthAlarmFresh(duration: Duration, refreshEvery: Duration, period?: Duration): { def: AlarmDefinition; raw: any } {
  const stack = newStack();
  const source = new AepS3Source(stack, 'Source', {
    sandbox: newSandbox(stack),
    bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-inbound'),
    auth: S3SourceAuth.accessKey({ sessionToken: { duration, refreshEvery } }),
  });
  source.addRefreshFailureAlarm(stack, 'Alarm', { period });
  const [, raw] = only(Template.fromStack(stack), 'AWS::CloudWatch::Alarm');
  return { def: alarmDefinition(raw), raw };
}

/** Successes every `every` seconds from `from`, each published up to `late` seconds after schedule (deterministic spread). */
function successes(from: number, until: number, every: number, late = 0): Datapoint[] {
  const out: Datapoint[] = [];
  for (let k = 0, t = from; t < until; k++, t += every) out.push({ time: t + ((k * 7919) % (late + 1)), value: 1 });
  return out;
}

function stateAt(evals: { time: number; state: AlarmState }[], time: number): AlarmState {
  const e = [...evals].reverse().find((x) => x.time <= time);
  if (!e) throw new Error(`no evaluation at ${time}`);
  return e.state;
}

const firstAlarm = (evals: { time: number; state: AlarmState }[]) => evals.find((e) => e.state === 'ALARM')?.time;

const CASES: Array<[string, Duration, Duration]> = [
  ['defaults (12 h, every 4 h)', Duration.hours(12), Duration.hours(4)],
  ['shortest (30 min, every 15 min)', Duration.minutes(30), Duration.minutes(15)],
  ['longest (36 h, every 18 h)', Duration.hours(36), Duration.hours(18)],
  ['6 h, every 90 min', Duration.hours(6), Duration.minutes(90)],
];

describe('the evaluator behaves like CloudWatch (so the alarm tests below can fail)', () => {
  const base: AlarmDefinition = { Period: 300, EvaluationPeriods: 2, Threshold: 1, ComparisonOperator: 'LessThanThreshold', Statistic: 'Maximum' };
  const points = [{ time: T0, value: 0 }];
  test('missing data: breaching alarms, notBreaching does not, missing stays INSUFFICIENT_DATA without data', () => {
    const window = { from: T0 + 20 * MIN, to: T0 + 30 * MIN };
    expect(evaluateAlarm({ ...base, TreatMissingData: 'breaching' }, [], window).every((e) => e.state === 'ALARM')).toBe(true);
    expect(evaluateAlarm({ ...base, TreatMissingData: 'notBreaching' }, [], window).every((e) => e.state === 'OK')).toBe(true);
    expect(evaluateAlarm({ ...base, TreatMissingData: 'missing' }, [], window).every((e) => e.state === 'INSUFFICIENT_DATA')).toBe(true);
  });
  test('M of N, statistics and ingestion delay', () => {
    const def = { ...base, TreatMissingData: 'notBreaching', EvaluationPeriods: 1 };
    const evals = evaluateAlarm(def, points, { from: T0, to: T0 + 20 * MIN });
    expect(stateAt(evals, T0)).toBe('OK'); // not ingested yet
    expect(firstAlarm(evals)).toBe(T0 + MIN);
    expect(stateAt(evals, T0 + 5 * MIN)).toBe('ALARM'); // still inside the sliding 5-minute window
    expect(stateAt(evals, T0 + 6 * MIN)).toBe('OK'); // slid out
    const mixed = [{ time: T0, value: 0 }, { time: T0 + 1, value: 1 }];
    expect(evaluateAlarm(def, mixed, { from: T0 + 2 * MIN, to: T0 + 2 * MIN })[0].state).toBe('OK');
    expect(evaluateAlarm({ ...def, Statistic: 'Minimum' }, mixed, { from: T0 + 2 * MIN, to: T0 + 2 * MIN })[0].state).toBe('ALARM');
  });
  test('CloudWatch limits are enforced', () => {
    expect(() => evaluateAlarm({ ...base, Period: 60, EvaluationPeriods: 1441 }, [], { from: T0, to: T0 })).toThrow(/86400/);
    expect(() => evaluateAlarm({ ...base, DatapointsToAlarm: 3 }, [], { from: T0, to: T0 })).toThrow(/DatapointsToAlarm/);
    expect(() => alarmDefinition({ Type: 'AWS::CloudWatch::Alarm', Properties: { Metrics: [] } })).toThrow(/math/);
  });
});

describe.each(CASES)('refresh alarm, %s', (_name, duration, refreshEvery) => {
  const { def, raw } = synthAlarm(duration, refreshEvery);
  const D = duration.toSeconds();
  const R = refreshEvery.toSeconds();

  test('watches the success metric with missing data as breaching, within CloudWatch limits', () => {
    expect(raw.Properties.MetricName).toBe(RefreshMetric.NAME);
    expect(raw.Properties.Namespace).toBe(RefreshMetric.NAMESPACE);
    expect(def.TreatMissingData).toBe('breaching');
    expect(def.Period * def.EvaluationPeriods).toBeLessThanOrEqual(def.Period < 3600 ? 86_400 : 604_800);
  });

  test('a healthy timeline never alarms (runs publish up to 6 minutes late)', () => {
    // The deployment registers the first credentials at T0 (a success), then every R.
    const points = successes(T0, T0 + 4 * D, R, 6 * MIN);
    const evals = evaluateAlarm(def, points, { from: T0 + MIN, to: T0 + 3 * D });
    expect(firstAlarm(evals)).toBeUndefined();
  });

  test('one failure then silence: ALARM before the credentials expire, and it stays until a refresh succeeds', () => {
    const last = T0 + 2 * R; // last success
    const points = [...successes(T0, last + 1, R), { time: last + R, value: 0 }];
    const recovered = last + D + 3 * HOUR + 7 * MIN;
    const evals = evaluateAlarm(def, [...points, { time: recovered, value: 1 }], { from: T0 + MIN, to: recovered + 2 * def.Period + 2 * MIN });
    const fired = firstAlarm(evals)!;
    expect(fired).toBeDefined();
    expect(fired).toBeLessThanOrEqual(last + D - 5 * MIN);
    expect(fired).toBeGreaterThan(last + R); // not before a refresh was actually missed
    expect(evals.filter((e) => e.time >= fired && e.time < recovered).every((e) => e.state === 'ALARM')).toBe(true);
    expect(stateAt(evals, recovered + def.Period + 2 * MIN)).toBe('OK');
  });

  test('no success at all (crashes publish nothing) for duration - margin: fires before expiry', () => {
    const last = T0;
    const evals = evaluateAlarm(def, [{ time: last, value: 1 }], { from: T0 + MIN, to: last + D });
    const fired = firstAlarm(evals)!;
    expect(fired).toBeLessThanOrEqual(last + D - 5 * MIN);
    expect(evals.filter((e) => e.time >= fired).every((e) => e.state === 'ALARM')).toBe(true);
  });
});

test('an explicit period too long to warn before expiry is refused with the rule', () => {
  expect(() => synthAlarm(Duration.minutes(30), Duration.minutes(15), Duration.minutes(5)))
    .toThrow(/Invalid period "300 seconds": is too long for these credentials: .*before the 1800s credentials expire/);
  expect(() => synthAlarm(Duration.hours(12), Duration.hours(4), Duration.seconds(90))).toThrow(/whole number of minutes/);
  expect(synthAlarm(Duration.hours(12), Duration.hours(4), Duration.minutes(15)).def.Period).toBe(900);
});

test('without a deploy-time success the first window after deployment is all missing: the handler must publish one', () => {
  // Documents why the custom resource's Create emits the success metric too (proven in
  // test/handler/lifecycle-bugs.test.ts, bug 6):
  // with only scheduled runs, the alarm is in ALARM from creation until the first refresh.
  const { def } = synthAlarm(Duration.hours(12), Duration.hours(4));
  const evals = evaluateAlarm(def, successes(T0 + 4 * HOUR, T0 + 12 * HOUR, 4 * HOUR), { from: T0 + MIN, to: T0 + 5 * HOUR });
  expect(stateAt(evals, T0 + 2 * MIN)).toBe('ALARM');
  expect(stateAt(evals, T0 + 4 * HOUR + def.Period + 2 * MIN)).toBe('OK');
});
