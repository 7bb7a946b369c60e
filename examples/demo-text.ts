/**
 * The words `npm run demo` prints, kept apart from the run so a test can hold the README to them
 * (test/docs/readme-facts.test.ts): what the example app holds, each lifecycle step in AEP terms,
 * schedules as dates, the expected key-propagation 403s labelled as such, and a short doctor summary.
 */
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { buildExampleApp } from './app';
import { AepS3Destination, AepS3Source, DatasetDataflow, DestinationDataflow, SourceDataflow } from '../src';

/** What the example app declares, by construct. */
export interface ExampleInventory {
  /** Construct ids of the AepS3Destination constructs (AEP writes files into S3). */
  readonly destinations: string[];
  /** Construct ids of the AepS3Source constructs (AEP reads files from S3). */
  readonly sources: string[];
  /** Paths of the dataflows (the schedules that move data). */
  readonly dataflows: string[];
  /** CloudFormation logical id → readable construct path (stack name dropped). */
  readonly names: Map<string, string>;
}

/** Counts the example app's constructs (builds it in memory; nothing is synthesized). */
export function exampleInventory(app: App = buildExampleApp()): ExampleInventory {
  const all: IConstruct[] = app.node.findAll();
  const rel = (c: IConstruct) => c.node.path.split('/').slice(1).join('/');
  const names = new Map<string, string>();
  for (const c of all) {
    if (c instanceof CfnResource) {
      names.set(Stack.of(c).resolve(c.logicalId), rel(c).replace(/(\/(Resource|Default))+$/, ''));
    }
  }
  return {
    destinations: all.filter((c) => c instanceof AepS3Destination).map(rel),
    sources: all.filter((c) => c instanceof AepS3Source).map(rel),
    dataflows: all.filter((c) => c instanceof SourceDataflow || c instanceof DestinationDataflow || c instanceof DatasetDataflow).map(rel),
    names,
  };
}

const WORDS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

/** "three destinations" style, as the README writes counts. */
export function countInWords(n: number, noun: string): string {
  return `${WORDS[n] ?? String(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** The phrase the README uses for the example app, e.g. "three destinations, two sources, three dataflows". */
export function inventoryPhrase(inv: ExampleInventory): string {
  return [countInWords(inv.destinations.length, 'destination'), countInWords(inv.sources.length, 'source'),
    countInWords(inv.dataflows.length, 'dataflow')].join(', ');
}

/** What the demo prints about the example app. */
export function inventoryLines(inv: ExampleInventory): string[] {
  return [
    `The example app (examples/app.ts) holds ${inventoryPhrase(inv)}:`,
    `  destinations (AEP writes files into your S3 bucket): ${inv.destinations.join(', ')}`,
    `  sources (AEP reads files from your S3 bucket):       ${inv.sources.join(', ')}`,
    `  dataflows (the schedules that move the data):       ${inv.dataflows.join(', ')}`,
  ];
}

/** What one custom-resource event did, in AEP terms. */
export function whatItDid(resourceType: string, requestType: string): string {
  const verb = requestType === 'Create' ? 'created' : requestType === 'Update' ? 'updated in place' : requestType === 'Delete' ? 'deleted' : requestType;
  const what: Record<string, string> = {
    'Custom::AepDestinationConnection': 'the S3 destination: a base connection (how AEP logs in to S3) and a target connection (format, folder)',
    'Custom::AepConnection': 'the S3 source connection (how AEP logs in to read the bucket)',
    'Custom::AepIamRoleLookup': 'the IAM role AEP on AWS reads buckets with (asked AEP; nothing to delete)',
    'Custom::AepSourceConnection': 'the source connection of a dataflow (what the flow reads)',
    'Custom::AepDatasetTargetConnection': 'the target connection into the AEP dataset',
    'Custom::AepMappingSet': 'the mapping set (CSV columns to XDM schema fields)',
    'Custom::AepProfileMapping': 'the profile attribute mapping of the audience export',
    'Custom::AepFlow': 'the dataflow (the schedule that moves the data)',
  };
  if (requestType === 'Refresh') return 'pushed a fresh STS session token to the source connection (scheduled Lambda)';
  if (resourceType === 'Custom::AepIamRoleLookup' && requestType !== 'Create') return `${verb}: nothing in AEP to change`;
  return `${verb} ${what[resourceType] ?? resourceType}`;
}

/** A readable name for a logical id: the construct path when known, else the id without its hash. */
export function readableName(logicalId: string, names: ReadonlyMap<string, string>): string {
  return names.get(logicalId) ?? logicalId.replace(/[0-9A-F]{8}$/, '');
}

/** `1735689600` (epoch seconds, as AEP takes it) → `2025-01-01 00:00 UTC`. */
export function epochToUtc(epoch: string | number): string {
  const ms = Number(epoch) * 1000;
  if (!Number.isFinite(ms)) return String(epoch);
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function every(interval: string | number | undefined, unit: string): string {
  const n = Number(interval ?? 1);
  const u = unit.toLowerCase().replace(/s$/, '');
  return n === 1 ? `every ${u}` : `every ${n} ${u}s`;
}

/** A source flow's `Schedule` property in words. */
export function ingestionScheduleText(s: { startTime?: string; frequency?: string; interval?: string; backfill?: string } = {}): string {
  if (s.frequency === 'once') return `once, at ${epochToUtc(s.startTime ?? '')}`;
  return `${every(s.interval, s.frequency ?? 'hour')} from ${epochToUtc(s.startTime ?? '')}${s.backfill === 'true' ? ', with backfill' : ''}`;
}

/** The `DatasetSchedule` property of a dataset export flow. */
export interface DatasetScheduleProps { interval?: string; timeUnit?: string; startTime?: string; endTime?: string; exportMode?: string }

/** A dataset export flow's `DatasetSchedule` property in words. */
export function datasetScheduleText(s: DatasetScheduleProps = {}): string {
  const mode = s.exportMode === 'FIRST_FULL_THEN_INCREMENTAL' ? 'a full file first, then only what changed' : s.exportMode === 'DAILY_FULL_EXPORT' ? 'a full file each time' : s.exportMode ?? '';
  return `${every(s.interval, s.timeUnit ?? 'hour')} from ${epochToUtc(s.startTime ?? '')}${s.endTime ? ` until ${epochToUtc(s.endTime)}` : ''} (${mode})`;
}

const AUDIENCE_FREQUENCY: Record<string, string> = {
  DAILY: 'daily',
  ONCE: 'once',
  EVERY_HOUR: 'every hour',
  EVERY_3_HOURS: 'every 3 hours',
  EVERY_6_HOURS: 'every 6 hours',
  EVERY_8_HOURS: 'every 8 hours',
  EVERY_12_HOURS: 'every 12 hours',
};

/** One entry of an audience export flow's `Audiences` property. */
export interface AudienceProps {
  id: string;
  exportMode?: string;
  schedule?: { frequency?: string; triggerType?: string; startDate?: string; endDate?: string; startTime?: string };
}

/** One audience of an audience export flow in words. */
export function audienceText(a: AudienceProps): string {
  const s = a.schedule ?? {};
  const what = a.exportMode === 'FIRST_FULL_THEN_INCREMENTAL' ? 'full file first, then changes' : 'full file';
  const when = `${AUDIENCE_FREQUENCY[s.frequency ?? ''] ?? s.frequency}${s.triggerType === 'AFTER_SEGMENT_EVAL' ? ' after AEP evaluates the audience' : s.startTime ? ` at ${s.startTime} UTC` : ''}`;
  return `audience ${a.id.slice(0, 8)}…: ${what}, ${when}, from ${s.startDate}${s.endDate ? ` to ${s.endDate}` : ''}`;
}

/** A created flow's properties in words. */
export function flowText(p: { Audiences?: any[]; DatasetSchedule?: any; Schedule?: any }): string[] {
  if (p.Audiences) return [`exports ${countInWords(p.Audiences.length, 'audience')} to files:`, ...p.Audiences.map((a) => `  ${audienceText(a)}`)];
  if (p.DatasetSchedule) return [`exports datasets to files ${datasetScheduleText(p.DatasetSchedule)}`];
  return [`ingests new files into the dataset ${ingestionScheduleText(p.Schedule)}`];
}

/**
 * The doctor's report reduced to what a newcomer needs: how many checks passed, problems by name,
 * and where the full text is.
 */
export function doctorSummary(stdout: string, code: number, fullReportPath: string): string[] {
  const lines = stdout.split('\n');
  const ok = lines.filter((l) => l.startsWith('[ok]')).length;
  const bad = lines.filter((l) => /^\[(PROBLEM|warn)/.test(l));
  const head = code === 0
    ? `the doctor found no problem: ${ok} checks passed (it logged in to IMS, read the S3 connection and flow specs AEP serves, listed the sandbox)`
    : `the doctor found problems (exit code ${code}):`;
  return [head, ...bad.map((l) => `  ${l}`), `full report: ${fullReportPath}`];
}
