import { createHash } from 'crypto';
import { isAmbiguous, SETTLE_TIMEOUTS } from './flow-resource';
import { AepClient } from '../../aep/aep-client';
import { AepError, classifyAepError } from '../../aep/errors';
import { type Invocation, operationDeadline } from '../../plumbing/config';
import { type CustomResourceEvent, type CustomResourceResponse, requirePhysicalId } from '../../plumbing/events';
import { log } from '../../plumbing/log';
import { canonical, requireString } from '../../plumbing/props';
import { retry, sleep } from '../../plumbing/retry';
import { adoptionMarker, CommonProps, DataflowAttributes, DataflowIds, MappingSetProps } from '../../private/contract';

/**
 * `Custom::AepMappingSet`: a Data Prep mapping set (DATAFLOWS §3.4, shape B of the Data Prep API).
 * Data Prep has no DELETE and no PATCH: a change makes a new set (the flow's mapping is then
 * patched to it), and a Delete leaves the set in AEP (nothing refers to it once its flow is
 * gone). Its name carries the adoption marker and a hash of its content, so a Create whose POST
 * answer was lost finds the set instead of making a second one, and a changed mapping never
 * adopts the old set.
 */
export async function onMappingSetEvent(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  if (event.RequestType === 'Delete') {
    log('info', 'AEP mapping sets cannot be deleted (no DELETE in the Data Prep API); leaving it', { id: event.PhysicalResourceId });
    return { PhysicalResourceId: requirePhysicalId(event) };
  }
  const client = await dataPrepClient(event.ResourceProperties, invocation);
  const desired = desiredState(event);
  const current = event.RequestType === 'Update' ? await getSet(client, requirePhysicalId(event)) : undefined;
  const ref = current && sameContent(current, desired) ? current : await createOrAdoptMappingSet(client, desired.name, async () => body(desired));
  return {
    PhysicalResourceId: ref.id,
    Data: { [DataflowAttributes.MAPPING_SET_ID]: ref.id, [DataflowAttributes.MAPPING_SET_VERSION]: String(ref.version ?? 0) },
  };
}

/** Data Prep lives beside Flow Service: `…/data/foundation/conversion` (DATAFLOWS conventions). */
export function dataPrepUrl(flowServiceUrl: string): string {
  return flowServiceUrl.replace(/\/+$/, '').replace(/\/flowservice$/, '/conversion');
}

/** A client for the Data Prep API of the event's Flow Service. */
export async function dataPrepClient(props: Record<string, unknown>, invocation: Invocation): Promise<AepClient> {
  const url = dataPrepUrl(requireString(props, CommonProps.FLOW_SERVICE_URL));
  return AepClient.fromProps({ ...props, [CommonProps.FLOW_SERVICE_URL]: url }, invocation);
}

interface Mapping {
  readonly source: string;
  readonly destination: string;
  readonly sourceType: string;
}

interface DesiredSet {
  readonly name: string;
  readonly schemaId: string;
  readonly mappings: Mapping[];
}

/** A mapping set as Data Prep returns it. */
export interface StoredSet {
  readonly id: string;
  readonly version?: number;
  readonly name?: string;
  readonly outputSchema?: { schemaRef?: { id?: string }; id?: string };
  readonly inputSchema?: { id?: string };
  readonly mappings?: Array<{ source?: string; destination?: string }>;
}

function desiredState(event: CustomResourceEvent): DesiredSet {
  const props = event.ResourceProperties;
  const raw = props[MappingSetProps.MAPPINGS];
  if (!Array.isArray(raw) || raw.length === 0) throw new Error(`Property '${MappingSetProps.MAPPINGS}' must be a non-empty list`);
  const mappings = raw.map((m, i) => {
    const o = (m ?? {}) as Record<string, unknown>;
    if (typeof o.source !== 'string' || typeof o.destination !== 'string') {
      throw new Error(`Property '${MappingSetProps.MAPPINGS}[${i}]' needs string 'source' and 'destination'`);
    }
    return { source: o.source, destination: o.destination, sourceType: typeof o.sourceType === 'string' ? o.sourceType : 'ATTRIBUTE' };
  });
  const schemaId = requireString(props, MappingSetProps.SCHEMA_ID);
  const hash = createHash('sha256').update(canonical({ schemaId, mappings })).digest('hex').substring(0, 12);
  return { name: `cdk-aep-s3 mapping ${hash} ${adoptionMarker(event.StackId, event.LogicalResourceId)}`, schemaId, mappings };
}

function body(d: DesiredSet): Record<string, unknown> {
  return {
    name: d.name,
    outputSchema: { schemaRef: { id: d.schemaId, contentType: DataflowIds.XDM_FULL_CONTENT_TYPE } },
    mappings: d.mappings,
  };
}

/** Stored mappings come back with `sourceType: "text/x.schema-path"`: compare what they map, not how. */
function sameContent(set: StoredSet, d: DesiredSet): boolean {
  const pairs = (ms: ReadonlyArray<{ source?: string; destination?: string }>) => canonical(ms.map((m) => [m.source, m.destination]));
  return set.outputSchema?.schemaRef?.id === d.schemaId && pairs(set.mappings ?? []) === pairs(d.mappings);
}

/** GET by id; undefined when gone. */
export async function getSet(client: AepClient, id: string): Promise<StoredSet | undefined> {
  try {
    const res = await client.request('GET', `/mappingSets/${encodeURIComponent(id)}`);
    return res.data as StoredSet;
  } catch (err) {
    if (err instanceof AepError && err.status === 404) return undefined;
    throw err;
  }
}

/**
 * Pages of the name lookup read at most (10,000 sets): bounded time in a sandbox full of sets made
 * by others. Past it, the set counts as not found (a second set is harmless: nothing references it).
 */
const MAX_LOOKUP_PAGES = 100;
const LOOKUP_PAGE = 100;

async function findByName(client: AepClient, name: string): Promise<StoredSet | undefined> {
  // data-prep.yaml requires both `limit` and `start` on this list (listMappingSets). Whether AEP
  // filters `name` exactly is unsaid (README guess 20): names are compared here and every page read.
  const found: StoredSet[] = [];
  for (let page = 0; page < MAX_LOOKUP_PAGES; page++) {
    const res = await client.request('GET', '/mappingSets', { query: [['name', name], ['limit', String(LOOKUP_PAGE)], ['start', String(page * LOOKUP_PAGE)]] });
    const data = (res.data as { data?: unknown } | undefined)?.data;
    const sets = (Array.isArray(data) ? data : []) as StoredSet[];
    found.push(...sets.filter((s) => s.name === name));
    if (sets.length < LOOKUP_PAGE) break;
    if (page === MAX_LOOKUP_PAGES - 1) log('warn', 'mapping set lookup stopped after the page limit', { pages: MAX_LOOKUP_PAGES });
  }
  return found.sort((a, b) => a.id.localeCompare(b.id))[0];
}

/**
 * Look up by the marked name, POST only when there is none. After a POST whose fate is unknown
 * the lookup is repeated for the same settle window as Flow Service creates before anything is
 * POSTed anew (AEP may still apply it, and Data Prep can never delete the second set it would
 * leave). The body is built once, on the first POST (building it may itself create Data Prep objects).
 */
export async function createOrAdoptMappingSet(client: AepClient, name: string, makeBody: () => Promise<Record<string, unknown>>): Promise<StoredSet> {
  const { config } = client.invocation;
  const deadline = operationDeadline(client.invocation, config.deadlineMs);
  let built: Record<string, unknown> | undefined;
  let settleUntil = 0;
  return retry({
    operation: 'POST /mappingSets',
    maxAttempts: config.retryMaxAttempts,
    baseDelayMs: config.retryBaseMs,
    deadline,
    classify: (err) => {
      const verdict = classifyAepError(err);
      if (!(isAmbiguous(err) && verdict.retryable)) return verdict;
      settleUntil = Math.min(Date.now() + SETTLE_TIMEOUTS * config.httpTimeoutMs, deadline - config.httpTimeoutMs);
      return { retryable: true, retryAfterMs: Math.max(verdict.retryAfterMs ?? 0, config.httpTimeoutMs) };
    },
  }, async () => {
    let existing = await findByName(client, name);
    while (!existing && Date.now() < settleUntil) {
      await sleep(Math.min(Math.max(config.retryBaseMs, config.httpTimeoutMs / 4), settleUntil - Date.now()));
      existing = await findByName(client, name);
    }
    if (existing) {
      log('info', 'adopting existing AEP mapping set', { id: existing.id });
      return (await getSet(client, existing.id)) ?? existing;
    }
    built = built ?? await makeBody();
    const res = await client.request('POST', '/mappingSets', { body: built, retry: false });
    const data = (res.data ?? {}) as { id?: unknown; version?: unknown };
    if (typeof data.id !== 'string') throw new AepError('POST /mappingSets', res.status, undefined, 'response lacks the new id', true);
    log('info', 'created AEP mapping set', { id: data.id });
    return { id: data.id, version: typeof data.version === 'number' ? data.version : 0, ...built } as StoredSet;
  });
}
