/**
 * The flow specs the Flow Service stand-in serves at `GET /flowSpecs` (DATAFLOWS.md §1.4), in each
 * documented variant, and the checks of a flow against the variant served. Adobe's documents
 * disagree (§6.4, §6.8), so a test picks the variant and proves the handler builds the flow the
 * served spec declares instead of a spelling it hard-codes.
 *
 * Modelling choices (inference, stated once here):
 * - `CloudStorageToAEP` as printed (abridged): `scheduleSpec` and `transformationSpec` (the
 *   printed array spelling). Its `interval` type is the variant's: the printed spec says
 *   `integer`, [spec-src] `ScheduleSpecDTO` (the POST /flows schema) says `string`; the default
 *   serves `string`, which the request schema the stand-in validates with agrees with.
 * - The destination specs are never printed (§6.1): names are the [spec-dst] enum labels, the
 *   connection spec lists the inference of §1.4, and `transformationSpecs` (the [spec-src] object
 *   spelling) names the one transformation by the variant's spelling.
 * - A flow's transformation must carry the declared name; a stored audience selector is read back
 *   under the variant's file name key (the stored object keeps what was sent).
 */
import { isObject } from './aep-rules';
import { AepIds, DataflowIds } from '../../src/private/contract';

/** Which documented variant of the flow specs the stand-in serves and enforces. */
export interface FlowSpecVariant {
  /** Destination flows' transformation name. Default `GeneralTransform` (examples); `General Transform` is the [spec-dst] enum. */
  readonly transformationName?: 'GeneralTransform' | 'General Transform';
  /** `CloudStorageToAEP` `scheduleSpec` type of `interval`. Default `string` ([spec-src]); `integer` as printed. */
  readonly intervalType?: 'string' | 'integer';
  /** `CloudStorageToAEP` `Mapping` transformation type of `mappingVersion`. Default `string` (as printed, [spec-src]); `integer` (the tutorial's `0`). */
  readonly mappingVersionType?: 'string' | 'integer';
  /**
   * Whether a source flow's PATCH may replace `/scheduleParams` whole. Default true (the stand-in
   * takes both); false: only the field paths Adobe documents for source flows (DATAFLOWS §3.6).
   */
  readonly wholeSourceSchedulePatch?: boolean;
  /**
   * Whether `GET /flows` takes filters into arrays (`sourceConnectionIds[]==…`). Default true
   * (API-NOTES §3.5 documents `[]` for filtering in general); false: refused with `1453-400`.
   */
  readonly arrayFilters?: boolean;
  /** Key an audience selector's file name template is read back under. Default `fileNameTemplate` (schema); `filenameTemplate` (examples). */
  readonly selectorFileNameKey?: 'fileNameTemplate' | 'filenameTemplate';
}

/** The variant served when none is chosen. */
export const DEFAULT_FLOW_SPEC_VARIANT: Required<FlowSpecVariant> = {
  transformationName: 'GeneralTransform',
  intervalType: 'string',
  mappingVersionType: 'string',
  wholeSourceSchedulePatch: true,
  arrayFilters: true,
  selectorFileNameKey: 'fileNameTemplate',
};

/** A served flow spec (the fields the stand-in's checks read are typed). */
export interface ServedFlowSpec {
  readonly id: string;
  readonly name: string;
  readonly providerId: string;
  readonly version: string;
  readonly sourceConnectionSpecIds: readonly string[];
  readonly targetConnectionSpecIds: readonly string[];
  readonly attributes: Record<string, unknown>;
  readonly [key: string]: unknown;
}

const SCHEMA = 'http://json-schema.org/draft-07/schema#';
const DESTINATIONS_PROVIDER = '14e34fac-d307-11e9-bb65-2a2ae2dbcce4';

/** The flow specs of `variant`, in the order served by a list. */
export function flowSpecDocuments(variant: FlowSpecVariant = {}): ServedFlowSpec[] {
  const v = { ...DEFAULT_FLOW_SPEC_VARIANT, ...variant };
  const generalTransform = {
    name: v.transformationName,
    spec: { $schema: SCHEMA, type: 'object', properties: { segmentSelectors: { type: 'object' }, profileMapping: { type: 'object' }, mandatoryFields: { type: 'array' }, primaryFields: { type: 'array' } } },
  };
  return [
    {
      id: DataflowIds.CLOUD_STORAGE_FLOW_SPEC,
      name: DataflowIds.CLOUD_STORAGE_FLOW_SPEC_NAME,
      providerId: '0ed90a81-07f4-4586-8190-b40eccef1c5a',
      version: '1.0',
      attributes: { isSourceFlow: true, flacValidationSupported: true, frequency: 'batch' },
      sourceConnectionSpecIds: [AepIds.S3_SOURCE_CONNECTION_SPEC, '4c10e202-c428-4796-9208-5f1f5732b1cf', '32e8f412-cdf7-464c-9885-78184cb113fd'],
      targetConnectionSpecIds: [DataflowIds.DATA_LAKE_TARGET_CONNECTION_SPEC],
      scheduleSpec: {
        name: 'PeriodicSchedule',
        type: 'Periodic',
        spec: {
          $schema: SCHEMA,
          type: 'object',
          properties: {
            startTime: { description: 'epoch time', type: 'integer' },
            frequency: { type: 'string', enum: ['once', 'minute', 'hour', 'day', 'week'] },
            interval: { type: v.intervalType },
            backfill: { type: 'boolean', default: true },
          },
          required: ['startTime', 'frequency'],
        },
      },
      transformationSpec: [{ name: 'Mapping', spec: { $schema: SCHEMA, type: 'object', properties: { mappingId: { type: 'string' }, mappingVersion: { type: v.mappingVersionType } } } }],
    },
    {
      id: DataflowIds.S3_AUDIENCE_FLOW_SPEC,
      name: '(Beta) Amazon S3 - Segment',
      providerId: DESTINATIONS_PROVIDER,
      version: '1.0',
      attributes: { isDestinationFlow: true, _workflow: 'SEGMENTS' },
      sourceConnectionSpecIds: [DataflowIds.PROFILE_STORE_SOURCE_SPEC],
      targetConnectionSpecIds: [AepIds.S3_DESTINATION_CONNECTION_SPEC],
      transformationSpecs: generalTransform,
    },
    {
      id: DataflowIds.S3_DATASET_FLOW_SPEC,
      name: '(Beta) Amazon S3 - Dataset',
      providerId: DESTINATIONS_PROVIDER,
      version: '1.0',
      attributes: { isDestinationFlow: true, _workflow: 'DATASETS' },
      sourceConnectionSpecIds: [DataflowIds.DATA_LAKE_SOURCE_SPEC],
      targetConnectionSpecIds: [AepIds.S3_DESTINATION_CONNECTION_SPEC],
    },
  ];
}

/** `scheduleParams` field types against the served `CloudStorageToAEP` spec. */
export function scheduleTypeProblems(raw: unknown, variant: FlowSpecVariant): string[] {
  if (!isObject(raw)) return [];
  const type = { ...DEFAULT_FLOW_SPEC_VARIANT, ...variant }.intervalType;
  if (raw.interval === undefined) return [];
  const ok = type === 'integer' ? Number.isInteger(raw.interval) : typeof raw.interval === 'string';
  return ok ? [] : [`scheduleParams.interval must be of type ${type} (the flow spec's scheduleSpec declares it so)`];
}

/** A PATCH path the variant refuses on a flow of `flowSpecId`, or undefined. */
export function refusedPatchPath(flowSpecId: string, paths: readonly string[], variant: FlowSpecVariant): string | undefined {
  if (flowSpecId !== DataflowIds.CLOUD_STORAGE_FLOW_SPEC || { ...DEFAULT_FLOW_SPEC_VARIANT, ...variant }.wholeSourceSchedulePatch) return undefined;
  return paths.find((p) => p === '/scheduleParams');
}

/** A `Mapping` transformation's `mappingVersion` against the served `CloudStorageToAEP` spec. */
export function mappingVersionProblems(params: unknown, variant: FlowSpecVariant): string[] {
  if (!isObject(params)) return [];
  const type = { ...DEFAULT_FLOW_SPEC_VARIANT, ...variant }.mappingVersionType;
  const ok = type === 'integer' ? Number.isInteger(params.mappingVersion) : typeof params.mappingVersion === 'string';
  return ok ? [] : [`transformations[0].params.mappingVersion must be of type ${type} (the flow spec's Mapping transformationSpec declares it so)`];
}

/**
 * The create request as the OpenAPI schema should see it: [spec-dst]'s enum says
 * `General Transform` and [spec-src] types `interval` as a string; the served variant's spelling
 * and type are what AEP takes (stale-spec exception, DATAFLOWS §6.4, §6.8).
 */
export function schemaView(body: Record<string, unknown>, variant: FlowSpecVariant): Record<string, unknown> {
  const v = { ...DEFAULT_FLOW_SPEC_VARIANT, ...variant };
  type View = { transformations?: Array<{ name?: unknown; params?: Record<string, unknown> }>; scheduleParams?: Record<string, unknown> };
  const view = structuredClone(body) as View;
  for (const t of Array.isArray(view.transformations) ? view.transformations : []) {
    if (t?.name === v.transformationName) t.name = 'General Transform';
    if (t?.name === 'Mapping' && isObject(t.params) && v.mappingVersionType === 'integer' && Number.isInteger(t.params.mappingVersion)) {
      t.params.mappingVersion = String(t.params.mappingVersion);
    }
  }
  if (isObject(view.scheduleParams) && v.intervalType === 'integer' && Number.isInteger(view.scheduleParams.interval)) {
    view.scheduleParams.interval = String(view.scheduleParams.interval);
  }
  return view as Record<string, unknown>;
}

/** A flow as read back: audience selectors' file name key spelled as the variant says. */
export function readBack<T>(flow: T, variant: FlowSpecVariant): T {
  const key = { ...DEFAULT_FLOW_SPEC_VARIANT, ...variant }.selectorFileNameKey;
  if (key === 'fileNameTemplate' || !isObject(flow)) return flow;
  const out = structuredClone(flow) as Record<string, unknown>;
  for (const t of Array.isArray(out.transformations) ? out.transformations : []) {
    const selectors = isObject(t) && isObject(t.params) && isObject(t.params.segmentSelectors) ? t.params.segmentSelectors.selectors : undefined;
    for (const s of Array.isArray(selectors) ? selectors : []) {
      if (isObject(s) && isObject(s.value) && s.value.fileNameTemplate !== undefined) {
        s.value[key] = s.value.fileNameTemplate;
        delete s.value.fileNameTemplate;
      }
    }
  }
  return out as T;
}
