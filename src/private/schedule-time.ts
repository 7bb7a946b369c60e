import { Token } from 'aws-cdk-lib';
import { invalid } from './validation';

/**
 * Schedule instants as the constructs take them: ISO-8601 strings that carry their zone, so the
 * same app synthesizes the same schedule on a laptop in New York and on CI in UTC (a `Date`
 * built from `'2025-01-01T00:00:00'`, or such a string without a zone, is read in the machine's
 * own zone).
 */

/** `YYYY-MM-DDThh:mm[:ss[.fff]]` followed by `Z` or `±hh:mm`. */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;
/** The same without a zone: recognised only to give the zone rule, not the shape rule. */
const ZONELESS = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$/;

const FORMAT = 'must be an ISO-8601 date and time with a time zone, e.g. 2025-01-01T00:00:00Z or 2025-01-01T02:00:00+02:00';

/**
 * Epoch seconds (floored) of an ISO-8601 instant with `Z` or an offset; a validation error naming
 * the property, the value and the fix otherwise.
 */
export function instantSeconds(property: string, value: string): number {
  const given: unknown = value;
  if (given instanceof Date) {
    // JavaScript callers of the former `Date` API: say how to convert, in UTC.
    const hint = Number.isNaN(given.getTime()) ? '' : ` (for a Date, pass date.toISOString(): ${given.toISOString()})`;
    invalid(property, String(given), `${FORMAT}, not a Date${hint}`);
  }
  if (typeof given !== 'string') invalid(property, given, `${FORMAT}, not a ${typeof given}`);
  if (Token.isUnresolved(value)) {
    invalid(property, value, `${FORMAT} known at synth time: AEP takes epoch seconds, computed when the app is synthesized`);
  }
  if (ZONELESS.test(value)) {
    invalid(property, value, 'has no time zone, so it would mean a different instant on every machine that synthesizes the app: '
      + `add Z for UTC or an offset (${value.includes('T') ? value : `${value}T00:00:00`}Z, or …+02:00)`);
  }
  const m = INSTANT.exec(value);
  if (!m) invalid(property, value, FORMAT);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((p) => Number(p ?? 0));
  const fraction = Number(`0.${m[7] ?? '0'}`);
  const zone = m[8];
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) {
    invalid(property, value, `${FORMAT}; this one names no real date or time`);
  }
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const [h, mm] = zone.substring(1).split(':').map(Number);
    if (h > 14 || mm > 59) invalid(property, value, `${FORMAT}; ${zone} is not a UTC offset (-14:00 to +14:00)`);
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (h * 60 + mm);
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) + Math.floor(fraction * 1000) - offsetMinutes * 60_000;
  if (year < 1970) invalid(property, value, `${FORMAT}, after 1970 (AEP takes epoch seconds)`);
  return Math.floor(ms / 1000);
}

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A calendar day `YYYY-MM-DD` that exists (audience schedules: AEP takes the day itself, in UTC,
 * so no zone is involved).
 */
export function validateCalendarDate(property: string, value: string | undefined): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  const m = typeof value === 'string' ? CALENDAR_DATE.exec(value) : null;
  const [year, month, day] = m ? m.slice(1, 4).map(Number) : [0, 0, 0];
  if (!m || month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) {
    invalid(property, value, 'must be a calendar date YYYY-MM-DD (a UTC day, e.g. 2025-01-05)');
  }
}
