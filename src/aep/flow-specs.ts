import type { AepClient } from './aep-client';
import { ContainerCache } from './container-cache';
import { log } from '../plumbing/log';

/**
 * The live flow spec (`GET /flowSpecs/{id}` or `?property=name==…`, DATAFLOWS §1.4) settles what
 * Adobe's documents disagree on for a flow request: the transformation name AEP declares
 * (`GeneralTransform` in every example, `General Transform` in the [spec-dst] enum, §6.4) and the
 * JSON types of the schedule (`interval` an integer in the printed `scheduleSpec`, a string in
 * [spec-src] `ScheduleSpecDTO`, §6.8). Read once per container per AEP environment and spec, as
 * connection specs are (connection-specs.ts).
 */

/** JSON type a schedule field is declared with. */
export type ScheduleFieldType = 'integer' | 'string';

/** What the live flow spec says, reduced to what the handler builds flow requests from. */
export interface LiveFlowSpec {
  readonly id: string;
  readonly name?: string;
  /** Undefined when AEP's answer carries no list (then nothing is checked against it). */
  readonly sourceConnectionSpecIds?: readonly string[];
  readonly targetConnectionSpecIds?: readonly string[];
  /** Names of the declared transformation specs (`transformationSpecs` or `transformationSpec`, object or array). */
  readonly transformationNames: readonly string[];
  /** Declared types of `scheduleSpec.spec.properties.{startTime,interval}`; absent when not declared. */
  readonly scheduleTypes: Readonly<Partial<Record<'startTime' | 'interval', ScheduleFieldType>>>;
  /** Declared type of the `Mapping` transformation's `mappingVersion` (a string as printed; the tutorial sends `0`). */
  readonly mappingVersionType?: ScheduleFieldType;
}

const cache = new ContainerCache<LiveFlowSpec | undefined>();

/** Drops the per-container cache (tests switch the stand-in's variant between cases). */
export function forgetFlowSpecs(): void {
  cache.clear();
}

/**
 * The flow spec by name (when given; `undefined` when AEP finds none by that name) or by id,
 * read once per container per AEP environment (endpoint, org, sandbox) and lookup.
 */
export function readFlowSpec(client: AepClient, lookup: { id: string } | { name: string }): Promise<LiveFlowSpec | undefined> {
  const key = `${client.environment} ${'id' in lookup ? `id ${lookup.id}` : `name ${lookup.name}`}`;
  return cache.get(key, () => {
    const request = 'id' in lookup
      ? client.request('GET', `/flowSpecs/${encodeURIComponent(lookup.id)}`)
      : client.request('GET', '/flowSpecs', { query: [['property', `name=="${lookup.name}"`]] });
    return request.then((res) => {
      const item = ((res.data as { items?: unknown[] } | undefined)?.items ?? [])[0];
      if (!item || typeof item !== 'object') return undefined;
      const parsed = parseFlowSpec(item as Record<string, unknown>);
      log('info', 'read the live flow spec', { id: parsed.id, name: parsed.name, transformations: parsed.transformationNames, schedule: parsed.scheduleTypes });
      return parsed;
    });
  });
}

/** Parses one flow spec item; tolerant of both documented spellings of the transformation list. */
export function parseFlowSpec(item: Record<string, unknown>): LiveFlowSpec {
  const ids = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
  // The printed response says `transformationSpec` (an array), [spec-src] `transformationSpecs` (an object).
  const raw = item.transformationSpecs ?? item.transformationSpec;
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? [raw] : [];
  const transformationNames = list.map((t) => (t as { name?: unknown })?.name).filter((n): n is string => typeof n === 'string');
  const mapping = list.find((t) => (t as { name?: unknown })?.name === 'Mapping') as { spec?: { properties?: Record<string, { type?: unknown }> } } | undefined;
  const properties = ((item.scheduleSpec as { spec?: { properties?: Record<string, { type?: unknown }> } } | undefined)?.spec?.properties) ?? {};
  const scheduleTypes: Partial<Record<'startTime' | 'interval', ScheduleFieldType>> = {};
  for (const field of ['startTime', 'interval'] as const) {
    const type = fieldType(properties[field]?.type);
    if (type) scheduleTypes[field] = type;
  }
  return {
    id: String(item.id),
    name: typeof item.name === 'string' ? item.name : undefined,
    sourceConnectionSpecIds: ids(item.sourceConnectionSpecIds),
    targetConnectionSpecIds: ids(item.targetConnectionSpecIds),
    transformationNames,
    scheduleTypes,
    mappingVersionType: fieldType(mapping?.spec?.properties?.mappingVersion?.type),
  };
}

function fieldType(type: unknown): ScheduleFieldType | undefined {
  return type === 'integer' || type === 'number' ? 'integer' : type === 'string' ? 'string' : undefined;
}

/**
 * A source flow's `Mapping` params with `mappingVersion` typed as the live spec declares it: a
 * string (the printed `transformationSpec`, [spec-src] `TransformationSpecDTO`) unless it declares
 * an integer (the tutorial sends `0`).
 */
export function typedMapping(mapping: { mappingId: string; mappingVersion: string }, spec: LiveFlowSpec | undefined): Record<string, unknown> {
  return { mappingId: mapping.mappingId, mappingVersion: spec?.mappingVersionType === 'integer' ? Number(mapping.mappingVersion) : mapping.mappingVersion };
}

/** The spellings Adobe documents for the destination flows' one transformation (DATAFLOWS §0.1). */
const GENERAL_TRANSFORM_NAMES = ['GeneralTransform', 'General Transform'];

/**
 * The name of a destination flow's transformation: the documented spelling the live spec
 * declares; `GeneralTransform` (every example and GET response) when it declares neither.
 */
export function generalTransformName(spec: LiveFlowSpec | undefined): string {
  return spec?.transformationNames.find((n) => GENERAL_TRANSFORM_NAMES.includes(n)) ?? 'GeneralTransform';
}

/**
 * A source flow's `scheduleParams` typed as the live spec declares them: `startTime` an integer
 * unless declared a string; `interval` a string ([spec-src] `ScheduleSpecDTO`) unless the live
 * spec declares an integer (the printed `CloudStorageToAEP` spec does).
 */
export function typedSchedule(raw: Record<string, unknown>, spec: LiveFlowSpec | undefined): Record<string, unknown> {
  const types = spec?.scheduleTypes ?? {};
  const as = (value: unknown, type: ScheduleFieldType) => (type === 'integer' ? Number(value) : String(value));
  const out: Record<string, unknown> = { startTime: as(raw.startTime, types.startTime ?? 'integer'), frequency: String(raw.frequency) };
  if (raw.interval !== undefined) out.interval = as(raw.interval, types.interval ?? 'string');
  if (raw.backfill !== undefined) out.backfill = raw.backfill === true || raw.backfill === 'true';
  return out;
}
