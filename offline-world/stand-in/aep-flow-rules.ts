/**
 * The documented rules of flow bodies that Adobe's schemas do not carry: the CloudStorageToAEP
 * `scheduleSpec` (DATAFLOWS §1.4, §3.5), audience selectors (§4.5), dataset export schedules
 * ([spec-dst] "Dataset Schedule Params", API-NOTES §5.7, §10) and the fields AEP stamps on write.
 */
import type { StoredFlow } from './aep-flows';
import { isObject } from './aep-rules';
import { DataflowIds } from '../../src/private/contract';

const FILE_NAME_MACROS = new Set([
  'DESTINATION', 'SEGMENT_ID', 'SEGMENT_NAME', 'DESTINATION_INSTANCE_ID', 'DESTINATION_INSTANCE_NAME',
  'ORGANIZATION_NAME', 'SANDBOX_NAME', 'TIMESTAMP', 'DATETIME(YYYYMMdd_HHmmss)',
]);
const FREQUENCIES: Record<string, readonly string[]> = {
  DAILY_FULL_EXPORT: ['ONCE', 'DAILY'],
  FIRST_FULL_THEN_INCREMENTAL: ['DAILY', 'EVERY_3_HOURS', 'EVERY_6_HOURS', 'EVERY_8_HOURS', 'EVERY_12_HOURS'],
};

/** `scheduleSpec` of `CloudStorageToAEP` (DATAFLOWS §1.4, §3.5); [spec-src] types `interval` as a string. */
export function checkSchedule(raw: unknown): string[] {
  if (!isObject(raw)) return ['scheduleParams is required'];
  const problems: string[] = [];
  if (!Number.isInteger(raw.startTime)) problems.push('scheduleParams.startTime must be an integer (epoch seconds)');
  else if ((raw.startTime as number) > 1e11) problems.push('scheduleParams.startTime is in epoch seconds, not milliseconds');
  const frequency = raw.frequency;
  if (!['once', 'minute', 'hour', 'day', 'week'].includes(String(frequency))) problems.push('scheduleParams.frequency must be once, minute, hour, day or week');
  if (frequency === 'once') {
    if (raw.interval !== undefined || raw.backfill !== undefined) problems.push('scheduleParams: interval and backfill are not allowed with frequency once');
  } else {
    const interval = Number(raw.interval);
    if (raw.interval === undefined || !Number.isInteger(interval)) problems.push('scheduleParams.interval is required unless frequency is once');
    else if (frequency === 'minute' && interval < 15) problems.push('scheduleParams.interval must be at least 15 for frequency minute');
    else if (interval < 1) problems.push('scheduleParams.interval must be at least 1');
  }
  if (raw.backfill !== undefined && typeof raw.backfill !== 'boolean') problems.push('scheduleParams.backfill must be a boolean');
  return problems;
}

/** DATAFLOWS §4.5 rules the schema does not carry. */
export function checkSelectorRules(selector: unknown): string[] {
  if (!isObject(selector) || selector.type !== 'PLATFORM_SEGMENT' || !isObject(selector.value)) return ['must be {type: "PLATFORM_SEGMENT", value: {...}}'];
  const v = selector.value;
  const problems: string[] = [];
  if (typeof v.id !== 'string' || !v.id) problems.push('value.id is required');
  const mode = String(v.exportMode);
  if (!FREQUENCIES[mode]) return [...problems, 'value.exportMode must be DAILY_FULL_EXPORT or FIRST_FULL_THEN_INCREMENTAL'];
  const s = isObject(v.schedule) ? v.schedule : undefined;
  if (!s) return [...problems, 'value.schedule is required'];
  if (!FREQUENCIES[mode].includes(String(s.frequency))) problems.push(`value.schedule.frequency must be one of ${FREQUENCIES[mode].join(', ')} with ${mode}`);
  if (mode === 'DAILY_FULL_EXPORT') {
    if (!['AFTER_SEGMENT_EVAL', 'SCHEDULED'].includes(String(s.triggerType))) problems.push('value.schedule.triggerType is required with DAILY_FULL_EXPORT');
    if (s.triggerType === 'SCHEDULED' && s.startTime === undefined) problems.push('value.schedule.startTime is required with triggerType SCHEDULED');
    if (s.triggerType === 'AFTER_SEGMENT_EVAL' && s.startTime !== undefined) problems.push('value.schedule.startTime does not apply with AFTER_SEGMENT_EVAL');
    if (s.frequency === 'ONCE' && s.endDate !== undefined) problems.push('value.schedule.endDate does not apply with DAILY_FULL_EXPORT and ONCE');
  }
  if (s.startTime !== undefined && !/^([01]\d|2[0-3]):00$/.test(String(s.startTime))) problems.push('value.schedule.startTime must be HH:00 (UTC, minutes 00)');
  for (const key of ['startDate', 'endDate']) {
    if (s[key] !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(s[key]))) problems.push(`value.schedule.${key} must be YYYY-MM-DD`);
  }
  if (typeof s.startDate !== 'string') problems.push('value.schedule.startDate is required');
  if (typeof s.startDate === 'string' && typeof s.endDate === 'string' && s.endDate < s.startDate) problems.push('value.schedule.endDate is before startDate');
  if (v.fileNameTemplate !== undefined) {
    for (const macro of String(v.fileNameTemplate).match(/%[^%]*%/g) ?? []) {
      const name = macro.slice(1, -1);
      // `%custom-text%` stands for free text in [spec-dst]; anything else must be a known macro.
      if (!FILE_NAME_MACROS.has(name) && /^[A-Z_()]+$/.test(name)) problems.push(`value.fileNameTemplate: unknown macro ${macro}`);
    }
  }
  return problems;
}

/** AEP's system fields on selectors: `createTime` when added, `updateTime` when changed (epoch-second strings). */
export function stampSelectors(before: StoredFlow, after: StoredFlow): void {
  const selectorsOf = (f: StoredFlow) => {
    const s = f.transformations[0]?.params?.segmentSelectors;
    return isObject(s) && Array.isArray(s.selectors) ? s.selectors as Array<{ value: Record<string, unknown> }> : [];
  };
  const previous = new Map(selectorsOf(before).map((s) => [String(s.value.id), JSON.stringify(s.value)]));
  const now = String(Math.floor(Date.now() / 1000));
  for (const s of selectorsOf(after)) {
    const was = previous.get(String(s.value.id));
    if (was === undefined) {
      s.value.createTime = now;
      s.value.updateTime = now;
    } else if (was !== JSON.stringify(s.value)) {
      s.value.updateTime = now;
    }
  }
}

/**
 * Folder-name macros ([spec-dst] "Dataset Schedule Params"); `DESTINATION_NAME` is in the same
 * schema's example though not in its list.
 */
const FOLDER_NAME_MACROS = new Set([
  'DESTINATION', 'DESTINATION_NAME', 'DATASET_NAME', 'DATASET_ID', 'DESTINATION_INSTANCE_ID', 'DESTINATION_INSTANCE_NAME',
  'SANDBOX_NAME', 'DATETIME(YYYYMMdd_HHmmss)', 'EXPORT_TIME',
]);

/** What "Dataset Schedule Params" says in prose: the frequencies, the export modes, seconds not milliseconds. */
export function checkDatasetScheduleRules(s: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(s.startTime)) problems.push('scheduleParams.startTime must be an integer (epoch seconds)');
  else if ((s.startTime as number) > 1e11) problems.push('scheduleParams.startTime is in epoch seconds, not milliseconds');
  if (s.endTime !== undefined) {
    if (!Number.isInteger(s.endTime)) problems.push('scheduleParams.endTime must be an integer (epoch seconds)');
    else if ((s.endTime as number) > 1e11) problems.push('scheduleParams.endTime is in epoch seconds, not milliseconds');
    else if (Number.isInteger(s.startTime) && (s.endTime as number) <= (s.startTime as number)) problems.push('scheduleParams.endTime must be after startTime');
  }
  // The prose says "only 3,6,9, or 12-hour and 1-day frequencies are supported"; since July 2026
  // incremental dataset exports may also run every hour (API-NOTES §10), which the interval enum
  // (1, 3, 6, 9, 12) already allows.
  if (s.timeUnit === 'hour' && ![1, 3, 6, 9, 12].includes(s.interval as number)) problems.push('scheduleParams.interval must be 1, 3, 6, 9 or 12 with timeUnit hour');
  if (s.timeUnit === 'day' && s.interval !== 1) problems.push('scheduleParams.interval must be 1 with timeUnit day');
  // DAILY_FULL_EXPORT "can only be used in combination with timeUnit: day and interval: 0", which the
  // interval enum excludes; "Daily full exports of datasets are not supported".
  if (s.exportMode === 'DAILY_FULL_EXPORT') problems.push('scheduleParams.exportMode DAILY_FULL_EXPORT: daily full exports of datasets are not supported');
  if (s.folderNameTemplate !== undefined) {
    for (const macro of String(s.folderNameTemplate).match(/%[^%]*%/g) ?? []) {
      if (!FOLDER_NAME_MACROS.has(macro.slice(1, -1))) problems.push(`scheduleParams.folderNameTemplate: unknown macro ${macro}`);
    }
  }
  return problems;
}

/**
 * "Dataset export dataflows created without endTime default to ending six months after creation"
 * (API-NOTES §5.7; DATAFLOWS §6.14: not in every revision). Inference: a schedule replaced without
 * an endTime gets the same default, counted from the flow's creation.
 */
export function defaultDatasetEndTime(flow: StoredFlow): void {
  if (flow.flowSpec.id !== DataflowIds.S3_DATASET_FLOW_SPEC || !isObject(flow.scheduleParams) || flow.scheduleParams.endTime !== undefined) return;
  const end = new Date(Number(flow.createdAt));
  end.setUTCMonth(end.getUTCMonth() + 6);
  flow.scheduleParams.endTime = Math.floor(end.getTime() / 1000);
}
