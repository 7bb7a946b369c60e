import * as fs from 'fs';
import * as path from 'path';
import { AudienceSchedule, DatasetExportSchedule, IngestionFrequency, IngestionSchedule, RecurringScheduleOptions, RecurringScheduleProps } from '../../src';

/**
 * Every schedule factory takes its times the same way, so a Python reader sees one shape:
 * an options struct (keyword arguments in Python) whose times are ISO-8601 strings.
 */

test('IngestionSchedule.once takes an options struct, as every other schedule factory', () => {
  const epoch = '1735689600';
  expect(IngestionSchedule.once({ startTime: '2025-01-01T00:00:00Z' })._toParams()).toEqual({ startTime: epoch, frequency: 'once' });
  expect(DatasetExportSchedule.daily({ startTime: '2025-01-01T00:00:00Z' })._toParams().startTime).toBe(epoch);
  expect(IngestionSchedule.recurring({ frequency: IngestionFrequency.HOUR, interval: 1, startTime: '2025-01-01T00:00:00Z' })._toParams().startTime).toBe(epoch);
  expect(AudienceSchedule.dailyFullAfterSegmentation({ startDate: '2025-01-01' })._toSchedule().startDate).toBe('2025-01-01');
});

test('the former positional call (JavaScript) is refused with the call to write instead', () => {
  const once = IngestionSchedule.once as unknown as (value: unknown) => IngestionSchedule;
  expect(() => once('2025-01-01T00:00:00Z')).toThrow(
    'Invalid schedule "2025-01-01T00:00:00Z": IngestionSchedule.once takes options, as every schedule factory: IngestionSchedule.once({ startTime: "2025-01-01T00:00:00Z" })');
  expect(() => once(new Date(0))).toThrow(/IngestionSchedule\.once\(\{ startTime: date\.toISOString\(\) \}\)/);
});

test('RecurringScheduleProps stays, deprecated, as the same struct as RecurringScheduleOptions', () => {
  const props: RecurringScheduleProps = { frequency: IngestionFrequency.DAY, interval: 1, startTime: '2025-01-01T00:00:00Z' };
  const options: RecurringScheduleOptions = props;
  expect(IngestionSchedule.recurring(options)._toParams()).toEqual(IngestionSchedule.recurring(props)._toParams());
  const source = fs.readFileSync(path.join(__dirname, '../../src/source-dataflow.ts'), 'utf8');
  expect(source).toMatch(/@deprecated use `RecurringScheduleOptions`[^]*?export interface RecurringScheduleProps extends RecurringScheduleOptions \{\}/);
});

test('every public schedule option struct names its times as strings', () => {
  const sources = ['destination-dataflow.ts', 'dataset-dataflow.ts', 'source-dataflow.ts']
    .map((f) => fs.readFileSync(path.join(__dirname, '../../src', f), 'utf8')).join('\n');
  const times = [...sources.matchAll(/readonly (start|end)(Time|Date)\??: (\w+);/g)].map((m) => m[3]);
  expect(times.length).toBeGreaterThanOrEqual(5);
  expect(new Set(times)).toEqual(new Set(['string']));
});
