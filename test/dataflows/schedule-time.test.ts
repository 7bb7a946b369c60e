/**
 * Schedule instants carry their zone: ISO-8601 strings with `Z` or an offset. A time without a
 * zone would be read in the synthesizing machine's zone (laptop and CI would deploy different
 * schedules), so it is refused at synth with the property, the value, the rule and the fix.
 */
import { Token } from 'aws-cdk-lib';
import { DatasetExportSchedule, IngestionFrequency, IngestionSchedule } from '../../src';

const recurring = (startTime: string) => IngestionSchedule.recurring({ frequency: IngestionFrequency.HOUR, interval: 1, startTime });

/** Every schedule-time prop, as [property, a call that passes `value` as it]. */
const PROPS: Array<[string, string, (value: any) => unknown]> = [
  ['DatasetExportSchedule startTime', 'schedule.startTime', (v) => DatasetExportSchedule.daily({ startTime: v })],
  ['DatasetExportSchedule endTime', 'schedule.endTime', (v) => DatasetExportSchedule.everyHours(6, { startTime: '2000-01-01T00:00:00Z', endTime: v })],
  ['IngestionSchedule.recurring startTime', 'schedule.startTime', (v) => recurring(v)],
  ['IngestionSchedule.once startTime', 'schedule.startTime', (v) => IngestionSchedule.once({ startTime: v })],
];

describe.each(PROPS)('%s', (_name, property, call) => {
  test('a time without a zone is refused, with the fix', () => {
    expect(() => call('2025-01-01T00:00:00')).toThrow(
      `Invalid ${property} "2025-01-01T00:00:00": has no time zone, so it would mean a different instant on every machine that `
      + 'synthesizes the app: add Z for UTC or an offset (2025-01-01T00:00:00Z, or …+02:00)');
    expect(() => call('2025-01-01')).toThrow(`Invalid ${property} "2025-01-01": has no time zone`);
    expect(() => call('2025-01-01T00:00')).toThrow(`Invalid ${property} "2025-01-01T00:00": has no time zone`);
  });

  test.each([
    ['not a time', 'soon'],
    ['a month 13', '2025-13-01T00:00:00Z'],
    ['30 February', '2025-02-30T00:00:00Z'],
    ['hour 24', '2025-01-01T24:00:00Z'],
    ['an offset beyond ±14:00', '2025-01-01T00:00:00+15:00'],
    ['an offset without a colon', '2025-01-01T00:00:00+0200'],
    ['a space instead of T', '2025-01-01 00:00:00Z'],
  ])('%s is refused', (_what, value) => {
    expect(() => call(value)).toThrow(`Invalid ${property} ${JSON.stringify(value)}: must be an ISO-8601 date and time with a time zone, e.g. 2025-01-01T00:00:00Z`);
  });

  test('a Date (the former API, from JavaScript) is refused with its UTC ISO string as the fix', () => {
    expect(() => call(new Date(Date.UTC(2025, 0, 1)))).toThrow(/must be an ISO-8601 date and time with a time zone, e\.g\. .*, not a Date \(for a Date, pass date\.toISOString\(\): 2025-01-01T00:00:00\.000Z\)/);
  });

  test('a deploy-time value is refused: AEP takes epoch seconds computed at synth', () => {
    expect(() => call(Token.asString({ Ref: 'Start' }))).toThrow(`Invalid ${property} "<deploy-time value>": must be an ISO-8601 date and time with a time zone, e.g. 2025-01-01T00:00:00Z or 2025-01-01T02:00:00+02:00 known at synth time`);
  });
});

test.each([
  ['2025-01-01T00:00:00Z', '1735689600'],
  ['2025-01-01T02:00:00+02:00', '1735689600'],
  ['2024-12-31T19:00:00-05:00', '1735689600'],
  ['2025-01-01T05:30+05:30', '1735689600'],
  ['2025-01-01T00:00:00.999Z', '1735689600'],
])('%s is the same instant everywhere (epoch %s)', (startTime, epoch) => {
  expect(recurring(startTime)._toParams().startTime).toBe(epoch);
  expect(IngestionSchedule.once({ startTime })._toParams().startTime).toBe(epoch);
  expect(DatasetExportSchedule.daily({ startTime })._toParams().startTime).toBe(epoch);
});

test('endTime is compared with startTime as instants, whatever their offsets', () => {
  // 01:00+02:00 is 23:00Z the day before: before the start.
  expect(() => DatasetExportSchedule.daily({ startTime: '2025-01-01T00:00:00Z', endTime: '2025-01-01T01:00:00+02:00' }))
    .toThrow('Invalid schedule.endTime "2025-01-01T01:00:00+02:00": must be after startTime 2025-01-01T00:00:00Z');
  expect(DatasetExportSchedule.daily({ startTime: '2025-01-01T00:00:00Z', endTime: '2025-01-01T03:00:00+02:00' })._toParams().endTime).toBe('1735693200');
});
