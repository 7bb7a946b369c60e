import { judgeAepDrift } from './aep-drift';
import {
  createOrAdopt, deleteItem, type FlowItem, type FlowKind, type FlowRef, getItem, markedDescription, nameAndDescriptionOps,
  onFlowResourceEvent, patchItem, type PatchOp, watchForLateTwins,
} from './flow-resource';
import { AepClient } from '../../aep/aep-client';
import { classifyAepError, hasStatus } from '../../aep/errors';
import { generalTransformName, type LiveFlowSpec, readFlowSpec, typedMapping, typedSchedule } from '../../aep/flow-specs';
import { flowKind, flowKindOf } from '../../decisions/kinds';
import { type Invocation, operationDeadline } from '../../plumbing/config';
import type { CustomResourceEvent, CustomResourceResponse } from '../../plumbing/events';
import { errorMessage, log } from '../../plumbing/log';
import { canonical, optionalObject, optionalString, type RawProps, requireString } from '../../plumbing/props';
import { retry } from '../../plumbing/retry';
import { adoptionMarker, AepIds, DataflowIds, FlowProps } from '../../private/contract';

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
    kindOf: flowKindOf,
    desiredKind: (e) => desiredKind(desiredState(e)),
    create,
    driftOps: async (e, current, _invocation, client) => {
      const d = desiredState(e);
      return flowOps(current, d, await resolveFlowSpec(client, d));
    },
    afterUpdate: async (client, ref, e, current) => {
      // What AEP changed on its own (a disable with its reason, an export past its endTime) decides the state and is reported.
      const drift = judgeAepDrift(current, { enabled: desiredState(e).enabled, reEnableWhenDisabledByAep: optionalString(e.ResourceProperties, FlowProps.RE_ENABLE_WHEN_DISABLED_BY_AEP) === 'true' });
      const next = await setState(client, ref, current.state, drift.enabled);
      return drift.notice ? { ...next, notice: drift.notice } : next;
    },
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
  /** Source flows: `scheduleParams` as CloudFormation sends them; typed by the live flow spec ({@link typedSchedule}). */
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
    schedule: optionalObject(props, FlowProps.SCHEDULE),
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

function desiredKind(d: DesiredFlow): FlowKind {
  return flowKind(isDatasetFlow(d) ? undefined : d.sourceConnectionId, d.targetConnectionId);
}

/**
 * How long, in HTTP timeouts, a flow Create that had to POST again after an ambiguous POST keeps
 * watching for that POST to be applied late (the settle window before the second POST is 3).
 */
const LATE_TWIN_WATCH_TIMEOUTS = 8;

/** Time kept back from configuring a new flow, in HTTP timeouts, for deleting it if that fails. */
const CLEANUP_RESERVE_TIMEOUTS = 2;

const isAudienceFlow = (d: DesiredFlow) => d.audiences !== undefined;
const isDatasetFlow = (d: DesiredFlow) => d.datasetSchedule !== undefined;

async function create(event: CustomResourceEvent, invocation: Invocation, replacing?: string): Promise<FlowRef> {
  const client = await AepClient.fromProps(event.ResourceProperties, invocation);
  const d = desiredState(event);
  const spec = await resolveFlowSpec(client, d);
  const desired = desiredKind(d);
  const ref = await createOrAdopt(client, COLLECTION, {
    filters: desired.filters,
    marker: d.marker,
    excludeId: replacing,
    sameKind: (item) => flowKindOf(item).key === desired.key,
    body: createBody(d, spec),
    // Whatever differs (an adopted flow, audiences added after the POST) is patched below.
    reconcile: () => [],
  });
  // Configuring stops early enough that removing a half-made flow still fits in the invocation.
  const configuring = client.within(invocation.deadline - CLEANUP_RESERVE_TIMEOUTS * invocation.config.httpTimeoutMs);
  try {
    const current = await getItem(configuring, COLLECTION, ref.id);
    const ops = flowOps(current, d, spec);
    const patched = ops.length
      ? await patchItem(configuring, COLLECTION, ref.id, ops, current.etag, async (fresh) => flowOps(fresh, d, spec))
      : { id: ref.id, etag: current.etag ?? ref.etag };
    const done = await setState(configuring, patched, current.state, d.enabled);
    if (ref.afterAmbiguous) {
      // The ambiguous POST may still be applied: a second enabled flow would move the data twice.
      const timeout = invocation.config.httpTimeoutMs;
      const until = Math.min(Date.now() + LATE_TWIN_WATCH_TIMEOUTS * timeout, invocation.deadline - CLEANUP_RESERVE_TIMEOUTS * timeout);
      const sameKind = (item: FlowItem) => flowKindOf(item).key === desired.key;
      const ownership = { filters: desired.filters, marker: d.marker, excludeId: replacing, sameKind };
      await watchForLateTwins(client, COLLECTION, ownership, ref.id, until)
        .catch((err: unknown) => log('warn', 'could not check for a late duplicate dataflow; the next event of this resource removes it', { id: ref.id, error: errorMessage(err) }));
    }
    return done;
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
 * The live flow spec: by name when one is given (`GET /flowSpecs?property=name=="…"`, §1.4), else by
 * the documented id (`GET /flowSpecs/{id}`); the documented id is the fallback when the name
 * finds nothing. Read once per container (flow-specs.ts). The spec must accept the source and
 * target connection specs when it lists them (§6.1: unprinted for the destination specs).
 */
async function resolveFlowSpec(client: AepClient, d: DesiredFlow): Promise<LiveFlowSpec> {
  let spec: LiveFlowSpec | undefined;
  if (d.flowSpecName) {
    spec = await readFlowSpec(client, { name: d.flowSpecName });
    if (!spec) log('warn', 'flow spec not found by name; using the documented id', { name: d.flowSpecName, id: d.flowSpecId });
    else if (spec.id !== d.flowSpecId) log('warn', 'flow spec found by name has another id than documented', { name: d.flowSpecName, found: spec.id, documented: d.flowSpecId });
  }
  spec = spec ?? await readFlowSpec(client, { id: d.flowSpecId });
  if (!spec) throw new Error(`AEP flow spec ${d.flowSpecId} not found`);
  const destination = isAudienceFlow(d) || isDatasetFlow(d);
  const target = destination ? AepIds.S3_DESTINATION_CONNECTION_SPEC : DataflowIds.DATA_LAKE_TARGET_CONNECTION_SPEC;
  if (spec.targetConnectionSpecIds && !spec.targetConnectionSpecIds.includes(target)) {
    throw new Error(`AEP flow spec ${spec.id} (${String(spec.name)}) does not accept target connection spec ${target}`);
  }
  const source = isAudienceFlow(d) ? DataflowIds.PROFILE_STORE_SOURCE_SPEC
    : isDatasetFlow(d) ? DataflowIds.DATA_LAKE_SOURCE_SPEC : AepIds.S3_SOURCE_CONNECTION_SPEC;
  if (spec.sourceConnectionSpecIds && !spec.sourceConnectionSpecIds.includes(source)) {
    throw new Error(`AEP flow spec ${spec.id} (${String(spec.name)}) does not accept source connection spec ${source}`);
  }
  return spec;
}

function createBody(d: DesiredFlow, spec: LiveFlowSpec): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: d.name,
    description: d.description,
    flowSpec: { id: spec.id, version: '1.0' },
    sourceConnectionIds: [d.sourceConnectionId],
    targetConnectionIds: [d.targetConnectionId],
  };
  if (isAudienceFlow(d)) {
    // The skeleton [spec-dst] requires (empty at creation); audiences and keys are PATCHed into it.
    // The spelling the live spec declares (DATAFLOWS §6.4).
    const params = { mandatoryFields: [], primaryFields: [], profileMapping: {}, segmentSelectors: { selectors: [] } };
    body.transformations = [{ name: generalTransformName(spec), params }];
  } else if (isDatasetFlow(d)) {
    // [spec-dst] "For dataset dataflows, the `transformations` list will always be empty."
    body.transformations = [];
    body.scheduleParams = d.datasetSchedule;
  } else {
    if (d.mapping) body.transformations = [{ name: 'Mapping', params: typedMapping(d.mapping, spec) }];
    if (d.schedule) body.scheduleParams = typedSchedule(d.schedule, spec);
  }
  return body;
}

/** Every op that moves `current` to `d` (drift included); audiences one op each. */
function flowOps(current: FlowItem, d: DesiredFlow, spec: LiveFlowSpec): PatchOp[] {
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
  if (d.schedule) {
    // Both sides typed alike: AEP echoing `30` for `"30"` is not drift.
    const desired = typedSchedule(d.schedule, spec);
    const stored = current.scheduleParams && typeof current.scheduleParams === 'object' ? typedSchedule(current.scheduleParams as Record<string, unknown>, spec) : undefined;
    if (canonical(stored) !== canonical(desired)) ops.push(...scheduleOps(current.scheduleParams, stored, desired));
  }
  if (d.mapping) {
    const now = transformations[0]?.params;
    if (!now || String(now.mappingId) !== d.mapping.mappingId || String(now.mappingVersion) !== d.mapping.mappingVersion) {
      ops.push({ op: transformations.length ? 'replace' : 'add', path: transformations.length ? '/transformations/0' : '/transformations/-', value: { name: 'Mapping', params: typedMapping(d.mapping, spec) } });
    }
  }
  return ops;
}

/**
 * A source flow's schedule change, field by field (`replace /scheduleParams/frequency`), the only
 * form Adobe documents for source flows (DATAFLOWS §3.6); whether AEP also takes the whole object
 * there is not documented (§6.9). Only with no stored schedule is the whole object added.
 */
function scheduleOps(raw: unknown, stored: Record<string, unknown> | undefined, desired: Record<string, unknown>): PatchOp[] {
  if (!stored || !raw || typeof raw !== 'object') return [{ op: 'add', path: '/scheduleParams', value: desired }];
  const present = raw as Record<string, unknown>;
  const ops: PatchOp[] = [];
  for (const key of [...new Set([...Object.keys(stored), ...Object.keys(desired)])].sort()) {
    const path = `/scheduleParams/${key}`;
    // Adobe's specs require a value on every patch op, remove included: the one removed.
    if (desired[key] === undefined) ops.push({ op: 'remove', path, value: present[key] ?? stored[key] });
    else if (canonical(stored[key]) !== canonical(desired[key])) ops.push({ op: present[key] === undefined ? 'add' : 'replace', path, value: desired[key] });
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

function selectorsOf(params: Record<string, unknown>): Array<{ type?: string; value?: Record<string, unknown> }> {
  const selectors = (params.segmentSelectors as { selectors?: unknown } | undefined)?.selectors;
  return Array.isArray(selectors) ? selectors : [];
}

/**
 * [spec-dst] names the selector's file name key `fileNameTemplate` (schema) and `filenameTemplate`
 * (every example, DATAFLOWS §6.4): a stored selector read back under either spelling is the same.
 */
function selectorKey(key: string): string {
  return key === 'filenameTemplate' ? 'fileNameTemplate' : key;
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
    const stored = Object.fromEntries(Object.entries(value)
      .filter(([k]) => !SYSTEM_SELECTOR_FIELDS.includes(k)).map(([k, v]) => [selectorKey(k), v]));
    if (canonical(stored) !== canonical(want)) {
      replaces.push({ op: 'replace', path: `${SELECTORS}/${index}`, value: { type: 'PLATFORM_SEGMENT', value: { ...want, ...system } } });
    }
  });
  const adds: PatchOp[] = desired.filter((a) => !seen.has(a.id)).map((a) => ({ op: 'add', path: `${SELECTORS}/-`, value: { type: 'PLATFORM_SEGMENT', value: a } }));
  return [...replaces, ...removes, ...adds];
}

/**
 * Enables or disables the flow when its state differs (`POST /flows/{id}/action?op=…`, §3.7). The
 * action is not idempotent: repeated after AEP applied it (answer lost), it is refused with
 * `1422-400` "cannot be applied on the current state". So it is never repeated blindly: before
 * another attempt, and on a 1422, the flow's state is read, and the desired state is success.
 */
async function setState(client: AepClient, ref: FlowRef, state: unknown, enabled: boolean): Promise<FlowRef> {
  const want = enabled ? 'enabled' : 'disabled';
  if (state === want) return ref;
  const op = enabled ? 'enable' : 'disable';
  log('info', `${op} AEP dataflow`, { id: ref.id, from: state });
  const path = `${COLLECTION}/${encodeURIComponent(ref.id)}/action`;
  const { config } = client.invocation;
  /** The flow's etag when it already is in the desired state, else undefined. */
  const alreadyThere = async (): Promise<string | undefined> => {
    const current = await getItem(client, COLLECTION, ref.id);
    return current.state === want ? current.etag ?? ref.etag : undefined;
  };
  return retry({
    operation: `POST ${COLLECTION}/{id}/action`,
    maxAttempts: config.retryMaxAttempts,
    baseDelayMs: config.retryBaseMs,
    deadline: operationDeadline(client.invocation, config.deadlineMs),
    classify: classifyAepError,
  }, async (attempt) => {
    if (attempt > 1) {
      const etag = await alreadyThere();
      if (etag !== undefined) {
        log('info', `the dataflow is ${want} already (an earlier ${op} was applied; its answer was lost)`, { id: ref.id });
        return { id: ref.id, etag };
      }
    }
    try {
      const res = await client.request('POST', path, { query: [['op', op]], retry: false });
      const etag = (res.data as { etag?: unknown } | undefined)?.etag;
      return { id: ref.id, etag: typeof etag === 'string' ? etag : ref.etag };
    } catch (err) {
      if (!(hasStatus(err, 400) && /1422|cannot be applied on the current state/i.test(`${err.code ?? ''} ${err.detail}`))) throw err;
      const etag = await alreadyThere();
      if (etag === undefined) throw err;
      log('info', `the dataflow is ${want} already`, { id: ref.id });
      return { id: ref.id, etag };
    }
  });
}
