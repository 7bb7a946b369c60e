/**
 * Evaluates a synthesized `AWS::CloudWatch::Alarm` (single metric, static threshold) over a
 * timeline of datapoints the way CloudWatch does:
 *
 * - The alarm is evaluated every minute from its creation (state INSUFFICIENT_DATA until then).
 * - Datapoints are aggregated by `Statistic` into the `EvaluationPeriods` periods of `Period`
 *   seconds ending at the evaluation time (the window slides by a minute per evaluation); a
 *   datapoint counts only once ingested (`ingestionDelaySeconds` after its timestamp).
 * - The `EvaluationPeriods` most recent periods are classified breaching / not breaching / missing;
 *   the alarm goes to ALARM when at least `DatapointsToAlarm` (default: all) are breaching.
 * - `TreatMissingData`: `breaching` and `notBreaching` classify missing periods; `missing` (the
 *   default) goes INSUFFICIENT_DATA when every period is missing, `ignore` keeps the state then.
 *   With some periods missing both judge the present ones; CloudWatch may look further back in
 *   that case (a documented refinement this model does not need: our alarms use `breaching`).
 *
 * Metric math alarms (`Metrics`) are refused rather than guessed.
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** The alarm properties the evaluation needs, as CloudFormation names them. */
export interface AlarmDefinition {
  readonly Period: number;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly TreatMissingData?: string;
  readonly Statistic: string;
}

/** One published value (time in seconds since the epoch). */
export interface Datapoint {
  readonly time: number;
  readonly value: number;
}

/** Evaluation window and CloudWatch's delays. */
export interface EvaluationOptions {
  /** Alarm creation time (seconds). */
  readonly from: number;
  /** Last evaluation time (seconds). */
  readonly to: number;
  /** Seconds before a datapoint can be seen by the alarm. @default 60 */
  readonly ingestionDelaySeconds?: number;
}

/** The alarm state after each evaluation. */
export interface Evaluation {
  readonly time: number;
  readonly state: AlarmState;
}

const COMPARISONS: Record<string, (v: number, t: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};

const STATISTICS: Record<string, (values: number[]) => number> = {
  Minimum: (v) => Math.min(...v),
  Maximum: (v) => Math.max(...v),
  Sum: (v) => v.reduce((a, b) => a + b, 0),
  Average: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  SampleCount: (v) => v.length,
};

const MISSING_TREATMENTS = ['breaching', 'notBreaching', 'ignore', 'missing'];

/** Reads and checks the definition from a template resource (`{ Type, Properties }`). */
export function alarmDefinition(resource: any): AlarmDefinition {
  if (resource?.Type !== 'AWS::CloudWatch::Alarm') throw new Error(`not an AWS::CloudWatch::Alarm: ${resource?.Type}`);
  const p = resource.Properties ?? {};
  if (p.Metrics) throw new Error('metric math alarms (Metrics) are not modelled');
  const def: AlarmDefinition = {
    Period: Number(p.Period),
    EvaluationPeriods: Number(p.EvaluationPeriods),
    DatapointsToAlarm: p.DatapointsToAlarm === undefined ? undefined : Number(p.DatapointsToAlarm),
    Threshold: Number(p.Threshold),
    ComparisonOperator: String(p.ComparisonOperator),
    TreatMissingData: p.TreatMissingData,
    Statistic: String(p.Statistic),
  };
  validate(def);
  return def;
}

/** The limits PutMetricAlarm enforces for these fields. */
export function validate(def: AlarmDefinition): void {
  const { Period: period, EvaluationPeriods: n, DatapointsToAlarm: m } = def;
  if (![10, 20, 30].includes(period) && (period < 60 || period % 60 !== 0)) throw new Error(`Period ${period}: must be 10, 20, 30 or a multiple of 60`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`EvaluationPeriods ${n}: must be a positive integer`);
  if (m !== undefined && (!Number.isInteger(m) || m < 1 || m > n)) throw new Error(`DatapointsToAlarm ${m}: must be between 1 and EvaluationPeriods`);
  const max = period < 3600 ? 86_400 : 604_800;
  if (period * n > max) throw new Error(`Period x EvaluationPeriods = ${period * n}s exceeds ${max}s`);
  if (!COMPARISONS[def.ComparisonOperator]) throw new Error(`ComparisonOperator ${def.ComparisonOperator} not modelled`);
  if (!STATISTICS[def.Statistic]) throw new Error(`Statistic ${def.Statistic} not modelled`);
  if (def.TreatMissingData !== undefined && !MISSING_TREATMENTS.includes(def.TreatMissingData)) throw new Error(`TreatMissingData ${def.TreatMissingData}`);
}

/** Evaluates the alarm every minute from `from` to `to`. */
export function evaluateAlarm(def: AlarmDefinition, datapoints: Datapoint[], options: EvaluationOptions): Evaluation[] {
  validate(def);
  const delay = options.ingestionDelaySeconds ?? 60;
  const m = def.DatapointsToAlarm ?? def.EvaluationPeriods;
  const treat = def.TreatMissingData ?? 'missing';
  const compare = COMPARISONS[def.ComparisonOperator];
  const aggregate = STATISTICS[def.Statistic];
  const sorted = [...datapoints].sort((a, b) => a.time - b.time);
  const out: Evaluation[] = [];
  let state: AlarmState = 'INSUFFICIENT_DATA';
  for (let t = options.from; t <= options.to; t += 60) {
    // Period i covers [t - (i+1)P, t - iP): the window slides with each evaluation.
    const windowStart = t - def.EvaluationPeriods * def.Period;
    const periods: number[][] = Array.from({ length: def.EvaluationPeriods }, () => []);
    for (const d of sorted) {
      if (d.time < windowStart || d.time >= t || d.time + delay > t) continue;
      periods[Math.floor((t - 1 - d.time) / def.Period)].push(d.value);
    }
    let breaching = 0;
    let present = 0;
    for (const values of periods) {
      if (values.length === 0) {
        if (treat === 'breaching') breaching++;
        continue;
      }
      present++;
      if (compare(aggregate(values), def.Threshold)) breaching++;
    }
    if (present === 0 && treat === 'missing') state = 'INSUFFICIENT_DATA';
    else if (present > 0 || treat !== 'ignore') state = breaching >= m ? 'ALARM' : 'OK';
    out.push({ time: t, state });
  }
  return out;
}
