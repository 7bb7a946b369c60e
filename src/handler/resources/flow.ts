import {
  createOrAdopt, deleteItem, type FlowItem, type FlowKind, type FlowRef, getItem, markedDescription, nameAndDescriptionOps,
  onFlowResourceEvent, patchItem, type PatchOp,
} from './flow-resource';
import { adoptionMarker, AepIds, DataflowIds, FlowProps } from '../../private/contract';
import { AepClient } from '../aep/aep-client';
import type { Invocation } from '../plumbing/config';
import type { CustomResourceEvent, CustomResourceResponse } from '../plumbing/events';
import { errorMessage, log } from '../plumbing/log';
import { canonical, optionalObject, optionalString, type RawProps, requireString } from '../plumbing/props';

const COLLECTION = '/flows';
const SELECTORS = '/transformations/0/params/segmentSelectors/selectors';
/** System fields AEP adds to a stored audience selector (DATAFLOWS §4.5). */
const SYSTEM_SELECTOR_FIELDS = ['createTime', 'updateTime'];

/**
 * `Custom::AepFlow`: an ingestion flow (`CloudStorageToAEP`, DATAFLOWS §3.5), an audience
 * export flow (S3 audiences spec, §4.4) or a dataset export flow (S3 datasets spec, §4.4). What
 * AEP cannot patch, its source and target connections, is its kind (a change replaces the flow);
 * a dataset export is re-pointed to a new Data Lake source connection in place instead
 * (`replace /sourceConnectionIds`, §4.2), so only its target is its kind. Name, description,
 * schedule, mapping, audiences (one selector op per audience added, removed or changed, §4.5),
 * mandatory and deduplication keys are patched in place with If-Match; enabled/disabled goes
 * through the action endpoint (§3.7).
 */
export function onFlowEvent(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  return onFlowResourceEvent({
    collection: COLLECTION,
    idAttribute: 'FlowId',
    kindOf,
    desiredKind: (e) => desiredKind(desiredState(e)),
    create,
    driftOps: async (e, current) => flowOps(current, desiredState(e)),
    afterUpdate: (client, ref, e, current) => setState(client, ref, current.state, desiredState(e).enabled),
  }, event, invocation);
}

interface Audience {
  readonly id: string;
  readonly [key: string]: unknown;
}

interface DesiredFlow {
  readonly name: string;
  readonly description: string;
  readonly marker: string;
  readonly flowSpecName?: string;
  readonly flowSpecId: string;
  readonly sourceConnectionId: string;
  readonly targetConnectionId: string;
  readonly mapping?: { mappingId: string; mappingVersion: string };
  readonly schedule?: Record<string, unknown>;
  /** Dataset export flows: `scheduleParams` as [spec-dst] "Dataset Schedule Params" types it. */
  readonly datasetSchedule?: Record<string, unknown>;
  readonly audiences?: Audience[];
  readonly mandatoryFields?: string[];
  readonly primaryFields?: unknown[];
  /** Audience flows: `{}` when no attributes are mapped (what creation sends, [spec-dst]). */
  readonly profileMapping?: { mappingId: string; mappingVersion: number } | Record<string, never>;
  readonly enabled: boolean;
}

function desiredState(event: CustomResourceEvent): DesiredFlow {
  const props = event.ResourceProperties;
  const marker = adoptionMarker(event.StackId, event.LogicalResourceId);
  const mapping = optionalObject(props, FlowProps.MAPPING);
  const audiences = optionalList(props, FlowProps.AUDIENCES);
  const profile = optionalObject(props, FlowProps.PROFILE_MAPPING);
  return {
    name: requireString(props, FlowProps.NAME),
    description: markedDescription(optionalString(props, FlowProps.DESCRIPTION), marker),
    marker,
    flowSpecName: optionalString(props, FlowProps.FLOW_SPEC_NAME),
    flowSpecId: requireString(props, FlowProps.FLOW_SPEC_ID),
    sourceConnectionId: requireString(props, FlowProps.SOURCE_CONNECTION_ID),
    targetConnectionId: requireString(props, FlowProps.TARGET_CONNECTION_ID),
    mapping: mapping ? { mappingId: requireString(mapping, 'mappingId'), mappingVersion: requireString(mapping, 'mappingVersion') } : undefined,
    schedule: scheduleParams(optionalObject(props, FlowProps.SCHEDULE)),
    datasetSchedule: datasetScheduleParams(optionalObject(props, FlowProps.DATASET_SCHEDULE)),
    audiences: audiences?.map((a, i) => audience(a, i)),
    mandatoryFields: optionalList(props, FlowProps.MANDATORY_FIELDS)?.map(String),
    primaryFields: optionalList(props, FlowProps.PRIMARY_FIELDS),
    // [spec-dst] "(Beta) Profile Mapping": `mappingVersion` is an integer (CloudFormation sends strings).
    profileMapping: audiences === undefined ? undefined
      : profile ? { mappingId: requireString(profile, 'mappingId'), mappingVersion: Number(requireString(profile, 'mappingVersion')) } : {},
    enabled: optionalString(props, FlowProps.ENABLED) !== 'false',
  };
}

function optionalList(props: RawProps, key: string): unknown[] | undefined {
  const value = props[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (!Array.isArray(value)) throw new Error(`Property '${key}' must be a list`);
  return value;
}

function audience(raw: unknown, index: number): Audience {
  const a = (raw ?? {}) as Record<string, unknown>;
  if (typeof a.id !== 'string' || !a.id) throw new Error(`Property '${FlowProps.AUDIENCES}[${index}].id' is required`);
  return a as Audience;
}

/** `scheduleSpec` types (DATAFLOWS §3.5): `startTime` an integer, `interval` a string as [spec-src] types it, `backfill` a boolean. */
function scheduleParams(raw: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!raw) return undefined;
  const out: Record<string, unknown> = { startTime: Number(raw.startTime), frequency: String(raw.frequency) };
  if (raw.interval !== undefined) out.interval = String(raw.interval);
  if (raw.backfill !== undefined) out.backfill = raw.backfill === true || raw.backfill === 'true';
  return out;
}

/**
 * [spec-dst] "Dataset Schedule Params": `interval`, `startTime`, `endTime` integers (epoch
 * seconds), the rest strings; CloudFormation sends every scalar as a string.
 */
function datasetScheduleParams(raw: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!raw) return undefined;
  const integer = (key: string) => {
    const n = Number(raw[key]);
    if (!Number.isInteger(n)) throw new Error(`Property '${FlowProps.DATASET_SCHEDULE}.${key}' must be an integer, got ${JSON.stringify(raw[key])}`);
    return n;
  };
  const out: Record<string, unknown> = { interval: integer('interval'), timeUnit: String(raw.timeUnit), startTime: integer('startTime') };
  if (raw.endTime !== undefined) out.endTime = integer('endTime');
  if (raw.exportMode !== undefined) out.exportMode = String(raw.exportMode);
  if (raw.folderNameTemplate !== undefined) out.folderNameTemplate = String(raw.folderNameTemplate);
  return out;
}

/** A dataset export's kind leaves the source out (`sourceConnectionId` undefined): AEP re-points it in place. */
function kind(sourceConnectionId: string | undefined, targetConnectionId: string): FlowKind {
  if (sourceConnectionId === undefined) {
    return { key: canonical({ datasetExport: true, targetConnectionId }), filters: [`targetConnectionIds[]==${targetConnectionId}`] };
  }
  return {
    key: canonical({ sourceConnectionId, targetConnectionId }),
    filters: [`sourceConnectionIds[]==${sourceConnectionId}`, `targetConnectionIds[]==${targetConnectionId}`],
  };
}

function kindOf(item: FlowItem): FlowKind {
  const first = (v: unknown) => (Array.isArray(v) && v.length === 1 ? String(v[0]) : canonical(v));
  const datasetExport = (item.flowSpec as { id?: unknown } | undefined)?.id === DataflowIds.S3_DATASET_FLOW_SPEC;
  return kind(datasetExport ? undefined : first(item.sourceConnectionIds), first(item.targetConnectionIds));
}

function desiredKind(d: DesiredFlow): FlowKind {
  return kind(isDatasetFlow(d) ? undefined : d.sourceConnectionId, d.targetConnectionId);
}

/** Time kept back from configuring a new flow, in HTTP timeouts, for deleting it if that fails. */
const CLEANUP_RESERVE_TIMEOUTS = 2;

const isAudienceFlow = (d: DesiredFlow) => d.audiences !== undefined;
const isDatasetFlow = (d: DesiredFlow) => d.datasetSchedule !== undefined;

async function create(event: CustomResourceEvent, invocation: Invocation, replacing?: string): Promise<FlowRef> {
  const client = await AepClient.fromProps(event.ResourceProperties, invocation);
  const d = desiredState(event);
  const flowSpecId = await resolveFlowSpec(client, d);
  const desired = desiredKind(d);
  const ref = await createOrAdopt(client, COLLECTION, {
    filters: desired.filters,
    marker: d.marker,
    excludeId: replacing,
    sameKind: (item) => kindOf(item).key === desired.key,
    body: createBody(d, flowSpecId),
    // Whatever differs (an adopted flow, audiences added after the POST) is patched below.
    reconcile: () => [],
  });
  // Configuring stops early enough that removing a half-made flow still fits in the invocation.
  const configuring = client.within(invocation.deadline - CLEANUP_RESERVE_TIMEOUTS * invocation.config.httpTimeoutMs);
  try {
    const current = await getItem(configuring, COLLECTION, ref.id);
    const ops = flowOps(current, d);
    const patched = ops.length
      ? await patchItem(configuring, COLLECTION, ref.id, ops, current.etag, async (fresh) => flowOps(fresh, d))
      : { id: ref.id, etag: current.etag ?? ref.etag };
    return await setState(configuring, patched, current.state, d.enabled);
  } catch (err) {
    // On an Update, a flow an earlier POST of this resource made stays: it may be the original a
    // rollback is returning to (a replacement rolled back adopts it by marker), and deleting it
    // would break the very dataflow the rollback restores. (A failed Create owns what it adopted:
    // nothing else will ever delete it.)
    if (ref.adopted && event.RequestType !== 'Create') throw err;
    // The flow this call POSTed is not what the stack asked for: a failed Create is never deleted
    // by the Provider framework, so remove it here before failing.
    log('warn', 'configuring the new dataflow failed; removing it', { id: ref.id, error: errorMessage(err) });
    await deleteItem(client, COLLECTION, ref.id).catch((e: unknown) => log('error', 'could not remove the half-made dataflow; delete it by hand', { id: ref.id, error: errorMessage(e) }));
    throw err;
  }
}

/**
 * The flow spec id: by name when one is given (`GET /flowSpecs?property=name=="…"`, §1.4), else by
 * the documented id (`GET /flowSpecs/{id}`); the documented id is the fallback when the name
 * finds nothing. Either way the spec must accept the source and target connection specs.
 */
async function resolveFlowSpec(client: AepClient, d: DesiredFlow): Promise<string> {
  let spec: FlowItem | undefined;
  if (d.flowSpecName) {
    const res = await client.request('GET', '/flowSpecs', { query: [['property', `name=="${d.flowSpecName}"`]] });
    spec = ((res.data as { items?: FlowItem[] } | undefined)?.items ?? [])[0];
    if (!spec) log('warn', 'flow spec not found by name; using the documented id', { name: d.flowSpecName, id: d.flowSpecId });
    else if (spec.id !== d.flowSpecId) log('warn', 'flow spec found by name has another id than documented', { name: d.flowSpecName, found: spec.id, documented: d.flowSpecId });
  }
  if (!spec) {
    const res = await client.request('GET', `/flowSpecs/${encodeURIComponent(d.flowSpecId)}`);
    spec = ((res.data as { items?: FlowItem[] } | undefined)?.items ?? [])[0];
    if (!spec) throw new Error(`AEP flow spec ${d.flowSpecId} not found`);
  }
  const targets = spec.targetConnectionSpecIds;
  const expected = isAudienceFlow(d) || isDatasetFlow(d) ? AepIds.S3_DESTINATION_CONNECTION_SPEC : DataflowIds.DATA_LAKE_TARGET_CONNECTION_SPEC;
  if (Array.isArray(targets) && !targets.includes(expected)) {
    throw new Error(`AEP flow spec ${spec.id} (${String(spec.name)}) does not accept target connection spec ${expected}`);
  }
  return spec.id;
}

function createBody(d: DesiredFlow, flowSpecId: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: d.name,
    description: d.description,
    flowSpec: { id: flowSpecId, version: '1.0' },
    sourceConnectionIds: [d.sourceConnectionId],
    targetConnectionIds: [d.targetConnectionId],
  };
  if (isAudienceFlow(d)) {
    // The skeleton [spec-dst] requires (empty at creation); audiences and keys are PATCHed into it.
    body.transformations = [{ name: 'GeneralTransform', params: { mandatoryFields: [], primaryFields: [], profileMapping: {}, segmentSelectors: { selectors: [] } } }];
  } else if (isDatasetFlow(d)) {
    // [spec-dst] "For dataset dataflows, the `transformations` list will always be empty."
    body.transformations = [];
    body.scheduleParams = d.datasetSchedule;
  } else {
    if (d.mapping) body.transformations = [{ name: 'Mapping', params: d.mapping }];
    if (d.schedule) body.scheduleParams = d.schedule;
  }
  return body;
}

/** Every op that moves `current` to `d` (drift included); audiences one op each. */
function flowOps(current: FlowItem, d: DesiredFlow): PatchOp[] {
  const ops = nameAndDescriptionOps(current, d);
  type Transformation = { name?: string; params?: Record<string, unknown> };
  const transformations = Array.isArray(current.transformations) ? current.transformations as Transformation[] : [];
  if (isAudienceFlow(d)) {
    const params = transformations[0]?.params ?? {};
    ops.push(...audienceOps(selectorsOf(params), d.audiences ?? []));
    if (canonical(params.mandatoryFields ?? []) !== canonical(d.mandatoryFields ?? [])) {
      ops.push({ op: 'add', path: '/transformations/0/params/mandatoryFields', value: d.mandatoryFields ?? [] });
    }
    if (canonical(params.primaryFields ?? []) !== canonical(d.primaryFields ?? [])) {
      ops.push({ op: 'add', path: '/transformations/0/params/primaryFields', value: d.primaryFields ?? [] });
    }
    // DATAFLOWS §4.6 step 6 (Adobe writes `"ADD"`; lower case as for every other op, §3.6).
    if (canonical(params.profileMapping ?? {}) !== canonical(d.profileMapping ?? {})) {
      ops.push({ op: 'add', path: '/transformations/0/params/profileMapping', value: d.profileMapping ?? {} });
    }
    return ops;
  }
  if (isDatasetFlow(d)) {
    const sources = Array.isArray(current.sourceConnectionIds) ? current.sourceConnectionIds : [];
    if (sources.length !== 1 || sources[0] !== d.sourceConnectionId) {
      ops.push({ op: 'replace', path: '/sourceConnectionIds', value: [d.sourceConnectionId] });
    }
    if (canonical(currentDatasetSchedule(current.scheduleParams, d.datasetSchedule!)) !== canonical(d.datasetSchedule)) {
      ops.push({ op: 'replace', path: '/scheduleParams', value: d.datasetSchedule });
    }
    return ops;
  }
  if (d.schedule && canonical(normalizedSchedule(current.scheduleParams)) !== canonical(d.schedule)) {
    ops.push({ op: 'replace', path: '/scheduleParams', value: d.schedule });
  }
  if (d.mapping) {
    const now = transformations[0]?.params;
    if (!now || String(now.mappingId) !== d.mapping.mappingId || String(now.mappingVersion) !== d.mapping.mappingVersion) {
      ops.push({ op: transformations.length ? 'replace' : 'add', path: transformations.length ? '/transformations/0' : '/transformations/-', value: { name: 'Mapping', params: d.mapping } });
    }
  }
  return ops;
}

/**
 * The stored dataset schedule as the desired one would read. Without a desired `endTime` AEP
 * picks one (six months after creation, API-NOTES §5.7; DATAFLOWS §6.14): not drift.
 */
function currentDatasetSchedule(raw: unknown, desired: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const current: Record<string, unknown> = { ...raw as Record<string, unknown> };
  if (desired.endTime === undefined) delete current.endTime;
  return current;
}

function normalizedSchedule(raw: unknown): Record<string, unknown> | undefined {
  return raw && typeof raw === 'object' ? scheduleParams(raw as Record<string, unknown>) : undefined;
}

function selectorsOf(params: Record<string, unknown>): Array<{ type?: string; value?: Record<string, unknown> }> {
  const selectors = (params.segmentSelectors as { selectors?: unknown } | undefined)?.selectors;
  return Array.isArray(selectors) ? selectors : [];
}

/**
 * Selector ops by audience id: changed ones replaced whole at their index (system fields kept, as
 * the docs require), then removals from the highest index down (so earlier indexes stay valid),
 * then additions appended.
 */
export function audienceOps(current: Array<{ type?: string; value?: Record<string, unknown> }>, desired: Audience[]): PatchOp[] {
  const wanted = new Map(desired.map((a) => [a.id, a]));
  const replaces: PatchOp[] = [];
  const removes: PatchOp[] = [];
  const seen = new Set<string>();
  current.forEach((selector, index) => {
    const value = selector.value ?? {};
    const id = String(value.id);
    const want = wanted.get(id);
    if (!want || seen.has(id)) {
      // destinations.yaml's PatchFlowItem requires a `value` on every op; Adobe's documented
      // removal sends the selector's type with an empty value (DATAFLOWS §4.5).
      removes.unshift({ op: 'remove', path: `${SELECTORS}/${index}`, value: { type: 'PLATFORM_SEGMENT', value: {} } });
      return;
    }
    seen.add(id);
    const system = Object.fromEntries(SYSTEM_SELECTOR_FIELDS.filter((k) => value[k] !== undefined).map((k) => [k, value[k]]));
    const stored = Object.fromEntries(Object.entries(value).filter(([k]) => !SYSTEM_SELECTOR_FIELDS.includes(k)));
    if (canonical(stored) !== canonical(want)) {
      replaces.push({ op: 'replace', path: `${SELECTORS}/${index}`, value: { type: 'PLATFORM_SEGMENT', value: { ...want, ...system } } });
    }
  });
  const adds: PatchOp[] = desired.filter((a) => !seen.has(a.id)).map((a) => ({ op: 'add', path: `${SELECTORS}/-`, value: { type: 'PLATFORM_SEGMENT', value: a } }));
  return [...replaces, ...removes, ...adds];
}

/** Enables or disables the flow when its state differs (`POST /flows/{id}/action?op=…`, §3.7). */
async function setState(client: AepClient, ref: FlowRef, state: unknown, enabled: boolean): Promise<FlowRef> {
  const want = enabled ? 'enabled' : 'disabled';
  if (state === want) return ref;
  const op = enabled ? 'enable' : 'disable';
  log('info', `${op} AEP dataflow`, { id: ref.id, from: state });
  const res = await client.request('POST', `${COLLECTION}/${encodeURIComponent(ref.id)}/action`, { query: [['op', op]] });
  const etag = (res.data as { etag?: unknown } | undefined)?.etag;
  return { id: ref.id, etag: typeof etag === 'string' ? etag : ref.etag };
}
