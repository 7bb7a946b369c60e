import { stillUsedMessage } from './dependants';
import { AepClient } from '../../aep/aep-client';
import { AepError, classifyAepError, hasStatus } from '../../aep/errors';
import { decideDelete, decidePatch, decideUpdate, type FlowItem, type FlowKind, type PatchOp } from '../../decisions/decision';
import { type Invocation, operationDeadline } from '../../plumbing/config';
import { type CustomResourceEvent, type CustomResourceResponse, requirePhysicalId } from '../../plumbing/events';
import { errorMessage, log } from '../../plumbing/log';
import { backoffDelay, retry, RetryExhaustedError, sleep } from '../../plumbing/retry';
import { ADOPTION_MARKER_PREFIX, adoptionMarker, Attributes, ConnectionProps, DataflowAttributes, ownMarkers, RETIRED_MARKER_PREFIX } from '../../private/contract';

/**
 * What base connections and target connections share: read by id, find by adoption marker,
 * create-or-adopt, PATCH with If-Match, delete.
 */

/** A Flow Service collection this handler manages. */
export type Collection = '/connections' | '/targetConnections' | '/sourceConnections' | '/flows';

const NOUNS: Record<Collection, string> = {
  '/connections': 'connection',
  '/targetConnections': 'target connection',
  '/sourceConnections': 'source connection',
  '/flows': 'dataflow',
};

export type { FlowItem, FlowKind, PatchOp } from '../../decisions/decision';

/** Id and current etag of a created, adopted or patched resource. */
export interface FlowRef {
  readonly id: string;
  readonly etag: string;
  /**
   * Set by {@link createOrAdopt} when it adopted an object that existed before this call rather
   * than POSTing one: whoever undoes a failed step must not delete what it did not make.
   */
  readonly adopted?: boolean;
  /** What an Update found AEP had changed on its own (aep-drift.ts): returned in `Data` as `AepNotice`. */
  readonly notice?: string;
  /**
   * Set by {@link createOrAdopt} when the object was POSTed after an earlier POST of this call
   * failed ambiguously: that earlier POST may still be applied later (see {@link watchForLateTwins}).
   */
  readonly afterAmbiguous?: boolean;
}

/** Human name of a collection's items, for error messages. */
export function noun(collection: Collection): string {
  return NOUNS[collection];
}

/** GET by id; Flow Service wraps even a single item in `{ items: [...] }` (API-NOTES §3.1). */
export async function getItem(client: AepClient, collection: Collection, id: string): Promise<FlowItem> {
  const path = `${collection}/${encodeURIComponent(id)}`;
  const res = await client.request('GET', path);
  const item = itemsOf(res.data)[0];
  if (!item) throw new AepError(`GET ${path}`, 404, undefined, `${noun(collection)} ${id} not found`, false);
  return item;
}

/** Like {@link getItem} but fails with a message that says what to do when the resource is gone. */
export async function getExistingItem(client: AepClient, collection: Collection, id: string): Promise<FlowItem> {
  try {
    return await getItem(client, collection, id);
  } catch (err) {
    if (!hasStatus(err, 404)) throw err;
    throw new Error(
      `AEP ${noun(collection)} ${id} no longer exists (deleted outside CloudFormation?). ` +
      'Remove the resource from the stack and add it back (or change its logical id) to create a new one.',
    );
  }
}

/** Options of {@link createOrAdopt}. */
export interface CreateOrAdoptOptions {
  /** `property` filters that narrow the lookup server-side (AND-ed). */
  readonly filters: readonly string[];
  /** The adoption marker the description must contain. */
  readonly marker: string;
  /**
   * Names the objects may carry (see {@link namesOf}). Where
   * Flow Service filters by name (base connections, API-NOTES §3.5) the lookup asks for each name,
   * so it reads our objects only, however many others the sandbox holds; the marker is still
   * checked here. An object of ours under another name (renamed in the UI, or POSTed two deploys
   * back) is then not seen.
   * @default every object of the kind is listed
   */
  readonly names?: readonly string[];
  /** An id never to adopt: the resource being replaced carries the same marker. */
  readonly excludeId?: string;
  /**
   * Whether an item's unchangeable fields (connection spec, auth type, base connection) are the
   * desired ones. An item carrying our marker but of another kind is the resource being replaced
   * (or the one a rollback returns to): never adopted, never removed as a duplicate.
   */
  readonly sameKind: (item: FlowItem) => boolean;
  /** The POST body. */
  readonly body: Record<string, unknown>;
  /** Patch ops that bring an adopted resource (made by an earlier, interrupted invocation) to the desired state. */
  readonly reconcile: (item: FlowItem) => PatchOp[];
}

/**
 * How long, after a POST whose fate is unknown, lookups keep polling before POSTing again, in
 * HTTP timeouts. AEP may apply a POST well after the client gave up on it; POSTing again too soon
 * is what would create a duplicate.
 */
export const SETTLE_TIMEOUTS = 3;

/**
 * Time kept back from the create loop, in HTTP timeouts, so that a failed Create can still wait
 * out one settle window and remove what its own ambiguous POSTs made: after a failed Create the
 * Provider framework answers the rollback Delete itself, so nothing else would ever remove it.
 */
const CLEANUP_RESERVE_TIMEOUTS = SETTLE_TIMEOUTS + 2;

/**
 * Creates a resource without ever duplicating it. POST is not idempotent, so it is never retried
 * blindly: each round first looks for resources carrying this logical resource's marker and
 * adopts one (removing any others: every object carrying the marker is ours), and only POSTs when
 * there is none. A POST that AEP applied but whose response was lost (timeout, reset, 504) is
 * therefore adopted on the next round: after such an ambiguous failure the lookup is repeated for
 * a settle window before anything is POSTed again, and a POST that still follows one is checked
 * for a late twin, which is removed. If the Create fails anyway, what it may have made is removed
 * before the failure is reported.
 */
export async function createOrAdopt(client: AepClient, collection: Collection, options: CreateOrAdoptOptions): Promise<FlowRef> {
  const { config } = client.invocation;
  const reserve = CLEANUP_RESERVE_TIMEOUTS * config.httpTimeoutMs;
  const deadline = Math.min(operationDeadline(client.invocation, config.deadlineMs), client.invocation.deadline - reserve);
  const scoped = client.within(deadline);
  let postedBody = false;
  let settleUntil = 0;
  try {
    return await retry({
      operation: `POST ${collection}`,
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
      let existing = await adoptable(scoped, collection, options);
      while (!existing && Date.now() < settleUntil) {
        await sleep(Math.min(Math.max(config.retryBaseMs, config.httpTimeoutMs / 4), settleUntil - Date.now()));
        existing = await adoptable(scoped, collection, options);
      }
      if (existing) {
        // A match after our own POST is that POST: it already has the desired state.
        const ops = postedBody ? [] : options.reconcile(existing);
        log('info', 'adopting existing AEP resource', { collection, id: existing.id, patchOps: ops.map((o) => o.path) });
        // Adopting what our own POST of this call made is still making it.
        const adopted = !postedBody;
        if (ops.length) return { ...await patchItem(scoped, collection, existing.id, ops, existing.etag), adopted };
        return { id: existing.id, etag: existing.etag ?? (await getItem(scoped, collection, existing.id)).etag ?? '', adopted };
      }
      const afterAmbiguous = settleUntil > 0;
      postedBody = true;
      const res = await scoped.request('POST', collection, { body: options.body, retry: false });
      const data = (res.data ?? {}) as { id?: unknown; etag?: unknown };
      if (typeof data.id !== 'string' || data.id === '') {
        throw new AepError(`POST ${collection}`, res.status, undefined, 'response lacks the new id', true);
      }
      log('info', 'created AEP resource', { collection, id: data.id });
      // From here on the resource exists: nothing may fail the Create, or the Provider framework
      // would report CREATE_FAILED and never delete what we just made.
      if (afterAmbiguous) {
        await removeTwins(scoped, collection, options, data.id).catch((err: unknown) =>
          log('warn', 'could not check for a late duplicate; the next event of this resource removes it', { collection, kept: data.id, error: errorMessage(err) }));
      }
      const etag = typeof data.etag === 'string' ? data.etag
        : await getItem(scoped, collection, data.id).then((item) => item.etag ?? '', () => '');
      return afterAmbiguous ? { id: data.id, etag, afterAmbiguous } : { id: data.id, etag };
    });
  } catch (err) {
    if (postedBody) await cleanUpFailedCreate(client, collection, options, settleUntil);
    throw err;
  }
}

/** True when a failed request may still have been applied: no response (timeout, reset) or a gateway timeout. */
export function isAmbiguous(err: unknown): boolean {
  return err instanceof AepError && (err.status === undefined || err.status === 504);
}

/**
 * A failed Create removes every object of the desired kind carrying its marker (its own POSTs,
 * applied late or not), waiting out the settle window first; bounded by the invocation deadline.
 */
async function cleanUpFailedCreate(client: AepClient, collection: Collection, options: CreateOrAdoptOptions, settleUntil: number): Promise<void> {
  const { config } = client.invocation;
  const scoped = client.within(client.invocation.deadline);
  try {
    const waitUntil = Math.min(settleUntil, client.invocation.deadline - 2 * config.httpTimeoutMs);
    if (waitUntil > Date.now()) await sleep(waitUntil - Date.now());
    const made = await owned(scoped, collection, options);
    for (const item of made) {
      log('warn', 'removing what the failed create made', { collection, id: item.id });
      await deleteItem(scoped, collection, item.id);
    }
  } catch (err) {
    log('error', 'could not remove what the failed create may have made; delete AEP objects carrying this marker by hand', {
      collection, marker: options.marker, error: errorMessage(err),
    });
  }
}

/** How to find the objects a logical resource owns. */
export type Ownership = Pick<CreateOrAdoptOptions, 'filters' | 'marker' | 'names' | 'excludeId' | 'sameKind'>;

/** Deletes objects carrying our marker (of the desired kind) other than `keepId`: duplicates from a POST applied late. */
export async function removeTwins(client: AepClient, collection: Collection, options: Ownership, keepId: string): Promise<void> {
  await deleteTwins(client, collection, (await owned(client, collection, options)).filter((item) => item.id !== keepId), keepId);
}

/**
 * After a POST that followed an ambiguous one, keeps looking for the earlier POST applied late
 * until `until`, removing it as soon as it appears. For a dataflow a twin is not inert: it is a
 * second enabled flow that ingests or exports everything again. Past `until` a twin can still
 * appear; the resource's next Update or its Delete removes it.
 */
export async function watchForLateTwins(client: AepClient, collection: Collection, options: Ownership, keepId: string, until: number): Promise<void> {
  const { config } = client.invocation;
  const interval = Math.max(config.retryBaseMs, config.httpTimeoutMs / 4);
  const scoped = client.within(until + config.httpTimeoutMs);
  while (Date.now() + interval < until) {
    await sleep(interval);
    const twins = (await owned(scoped, collection, options)).filter((item) => item.id !== keepId);
    if (twins.length) {
      await deleteTwins(scoped, collection, twins, keepId);
      return;
    }
  }
  log('warn', `no late duplicate of the ${noun(collection)} appeared while watching; one appearing later is removed by the next Update or the Delete`, { id: keepId });
}

async function deleteTwins(client: AepClient, collection: Collection, twins: readonly FlowItem[], keepId: string): Promise<void> {
  for (const twin of twins) {
    log('warn', 'removing a duplicate created by a POST applied after its response was lost', { collection, id: twin.id, kept: keepId });
    await deleteItem(client, collection, twin.id);
  }
}

/**
 * The one resource to adopt, if any. Every object carrying the marker (of the desired kind) is
 * ours, so when there are several the oldest is kept and the others deleted.
 */
async function adoptable(client: AepClient, collection: Collection, options: CreateOrAdoptOptions): Promise<FlowItem | undefined> {
  const matches = await owned(client, collection, options);
  if (matches.length === 0) return undefined;
  const [keep, ...twins] = [...matches].sort(byAge);
  // The list just read holds the twins: no second lookup.
  await deleteTwins(client, collection, twins, keep.id);
  return keep;
}

/** Objects of the desired kind carrying the marker, except `excludeId`. */
export async function owned(client: AepClient, collection: Collection, options: Ownership): Promise<FlowItem[]> {
  const byName = nameFilters(collection, options.names);
  // The name replaces the kind's filters rather than joining them: both specs declare the
  // connections list's `property` a single string, and `sameKind` checks the kind here anyway.
  const listed = byName
    ? (await Promise.all(byName.map((f) => list(client, collection, [f])))).flat()
    : await list(client, collection, options.filters);
  const unique = [...new Map(listed.map((item) => [item.id, item])).values()];
  return unique.filter((item) =>
    item.id !== options.excludeId && carriesMarker(item, options.marker) && options.sameKind(item));
}

/**
 * Collections whose items Flow Service documents as filterable by `name`: connections (API-NOTES
 * §3.5) and source connections (sort-and-filter: "filtering can be applied generically on any
 * property", its example filters source connections by a `params` field). Source connections
 * need it: every audience export has its own Profile Store source connection, all of one spec, so
 * a spec filter alone pages through every export of the sandbox (issue 19).
 */
const FILTERABLE_BY_NAME: readonly Collection[] = ['/connections', '/sourceConnections'];

/**
 * One `name==` filter per distinct name, quoted as Adobe's example does (a comma inside quotes is
 * not an OR); undefined, so the whole kind is listed, where names cannot narrow: a collection not
 * filterable by name, no names, or a name a quoted value cannot carry (a double quote).
 */
function nameFilters(collection: Collection, names: readonly string[] | undefined): string[] | undefined {
  if (!FILTERABLE_BY_NAME.includes(collection) || !names?.length) return undefined;
  const distinct = [...new Set(names)];
  if (distinct.some((n) => n === '' || n.includes('"'))) return undefined;
  return distinct.map((n) => `name=="${n}"`);
}

/**
 * The names a logical resource's objects may carry: the desired name, the previous deploy's on an
 * Update (a late twin was POSTed under it), and the name AEP holds for the object being handled.
 */
export function namesOf(event: CustomResourceEvent, current?: FlowItem): string[] {
  const names = [event.ResourceProperties[ConnectionProps.NAME], event.OldResourceProperties?.[ConnectionProps.NAME], current?.name];
  return [...new Set(names.filter((n): n is string => typeof n === 'string'))];
}

/**
 * Whether the item's description carries the live marker, or the one earlier versions wrote for
 * the same stack and logical id (a retained object's marker is retired).
 */
export function carriesMarker(item: FlowItem, marker: string): boolean {
  const description = item.description;
  return typeof description === 'string' && ownMarkers(marker).some((m) => description.includes(m));
}

function byAge(a: FlowItem, b: FlowItem): number {
  const t = (i: FlowItem) => (typeof i.createdAt === 'number' ? i.createdAt : Number.MAX_SAFE_INTEGER);
  return t(a) - t(b) || a.id.localeCompare(b.id);
}

/** Upper bound on pages followed by a lookup (100 items each). */
const MAX_PAGES = 20;

/**
 * Lists a collection with AND-ed `property` filters. Filters into arrays (`sourceConnectionIds[]==…`)
 * are documented for filtering in general (API-NOTES §3.5), never shown on flows: if AEP refuses
 * one (400), the list is read without them and they are applied here, with the same meaning
 * (any element equal to any listed value).
 */
async function list(client: AepClient, collection: Collection, filters: readonly string[]): Promise<FlowItem[]> {
  try {
    return await listPages(client, collection, filters);
  } catch (err) {
    const inArrays = filters.map(arrayFilter).filter((f): f is ArrayFilter => f !== undefined);
    if (!inArrays.length || !hasStatus(err, 400)) throw err;
    log('warn', 'AEP refused a filter into an array; listing without it and filtering here', { collection, filters: inArrays.map((f) => f.raw), error: errorMessage(err) });
    const items = await listPages(client, collection, filters.filter((f) => !arrayFilter(f)));
    return items.filter((item) => inArrays.every((f) => {
      const values = item[f.field];
      return Array.isArray(values) && values.some((v) => f.values.includes(String(v)));
    }));
  }
}

interface ArrayFilter {
  readonly raw: string;
  readonly field: string;
  readonly values: readonly string[];
}

function arrayFilter(raw: string): ArrayFilter | undefined {
  const match = /^([A-Za-z]+)\[\]==(.*)$/.exec(raw);
  return match ? { raw, field: match[1], values: match[2].split(',') } : undefined;
}

/** Lists a collection with AND-ed `property` filters, following `continuationToken` pages. */
async function listPages(client: AepClient, collection: Collection, filters: readonly string[]): Promise<FlowItem[]> {
  const items: FlowItem[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: Array<[string, string]> = filters.map((f) => ['property', f]);
    if (token) query.push(['continuationToken', token]);
    const res = await client.request('GET', collection, { query });
    items.push(...itemsOf(res.data));
    token = nextToken(res.data);
    if (!token) return items;
  }
  log('warn', `stopped listing after ${MAX_PAGES} pages; an object beyond them is not seen`, { collection, filters });
  return items;
}

/**
 * Applies `ops` with `If-Match`. The etag is read first (unless the caller just read it); a 412 means someone (or our own PATCH
 * retried after a lost response) changed the resource in between, so it is re-read and the patch
 * applied once more: with `recompute`, the ops are rebuilt from what was re-read (index-based ops,
 * such as audience selectors, would otherwise hit the wrong entry); without, the same ops are
 * re-sent (replace ops are idempotent).
 */
export async function patchItem(
  client: AepClient, collection: Collection, id: string, ops: PatchOp[], knownEtag?: string,
  recompute?: (fresh: FlowItem) => Promise<PatchOp[]>,
): Promise<FlowRef> {
  const path = `${collection}/${encodeURIComponent(id)}`;
  const attempt = async (body: PatchOp[], etag?: string): Promise<FlowRef> => {
    const ifMatch = etag ?? (await getExistingItem(client, collection, id)).etag;
    if (!ifMatch) throw new Error(`AEP ${noun(collection)} ${id} has no etag`);
    const res = await client.request('PATCH', path, { body, ifMatch });
    const newEtag = (res.data as { etag?: unknown } | undefined)?.etag;
    return { id, etag: typeof newEtag === 'string' ? newEtag : (await getItem(client, collection, id)).etag ?? '' };
  };
  try {
    return await attempt(ops, knownEtag);
  } catch (err) {
    if (!hasStatus(err, 412)) throw err;
    log('warn', 'etag changed under the PATCH; re-reading and retrying once', { collection, id });
    if (!recompute) return attempt(ops);
    const fresh = await getExistingItem(client, collection, id);
    const again = await recompute(fresh);
    log('info', 'patch recomputed from the re-read state', { collection, id, paths: again.map((o) => o.path) });
    return again.length ? attempt(again, fresh.etag) : { id, etag: fresh.etag ?? '' };
  }
}

/**
 * How long a refusal because dependants still exist (`1447-400` "Found active flows", `1418-400`)
 * is retried, in HTTP timeouts: a dataflow deleted just before is removed asynchronously (202,
 * DATAFLOWS §3.8, §4.9) and blocks its connections until it is gone. A dependant that stays (one
 * made in the UI) is reported once the window is over, without spending the whole invocation.
 */
const IN_USE_WAIT_TIMEOUTS = 3;

/** AEP refused the delete because flows or connections still use the object (`1447-400`, `1418-400`). */
export function isInUse(err: unknown): err is AepError {
  return hasStatus(err, 400, 409) && /1418|1447|in use|used by|being used|active flows/i.test(`${err.code ?? ''} ${err.detail}`);
}

/**
 * Deletes; 404 counts as done (already gone, or our earlier attempt succeeded). A refusal because
 * dependants still exist is retried with backoff and jitter for a short window (a dataflow deleted
 * just before may still be going), then reported with what to do (API-NOTES §3.6 `1418-400`). A
 * dataflow's delete is accepted before it is carried out (202): the call returns once
 * `GET /flows/{id}` answers 404 (or `reserveMs` before the deadline), so that what depended on it can be deleted next.
 */
export async function deleteItem(
  client: AepClient, collection: Collection, id: string, options: { readonly reserveMs?: number } = {},
): Promise<void> {
  const { config } = client.invocation;
  const deadline = operationDeadline(client.invocation, config.deadlineMs);
  try {
    await retry({
      operation: `DELETE ${collection}`,
      maxAttempts: Number.POSITIVE_INFINITY,
      baseDelayMs: config.retryBaseMs,
      deadline: Math.min(deadline, Date.now() + IN_USE_WAIT_TIMEOUTS * config.httpTimeoutMs),
      classify: (err) => ({ retryable: isInUse(err) }),
    }, () => client.within(deadline).request('DELETE', `${collection}/${encodeURIComponent(id)}`));
    log('info', 'deleted AEP resource', { collection, id });
  } catch (thrown) {
    const err = thrown instanceof RetryExhaustedError ? thrown.lastError : thrown;
    if (hasStatus(err, 404)) {
      log('info', 'AEP resource already gone', { collection, id });
      return;
    }
    if (isInUse(err)) {
      const users = collection === '/connections' ? await flowsUsing(client, id).catch(() => [])
        : collection === '/targetConnections' ? await list(client, '/flows', [`targetConnectionIds[]==${id}`]).catch(() => []) : [];
      if (users.length) throw new Error(stillUsedMessage(`AEP ${noun(collection)} ${id}`, users));
      throw new Error(
        `AEP ${noun(collection)} ${id} is still used by dataflows, so AEP refuses to delete it (${err.message}). ` +
        'Delete the dataflows that use it first, or set the removal policy to RETAIN to leave it in AEP.',
      );
    }
    throw thrown;
  }
  if (collection === '/flows') await waitUntilGone(client, collection, id, deadline - (options.reserveMs ?? 0));
}

/** HTTP timeouts a resource's Delete keeps back from the wait for its dataflow's deletion, for the look for late twins after it. */
const TWIN_LOOKUP_RESERVE_TIMEOUTS = 2;

/**
 * Polls `GET {collection}/{id}` until 404, with backoff and jitter, no later than `deadline`. Past
 * it the delete stays accepted (AEP carries it out): a warning, and the connections' own
 * in-use retry covers the rest. So does a poll that keeps failing for a transient reason (5xx,
 * timeout, network, past its retries): the DELETE was accepted, only the confirmation is missing,
 * and failing the stack's Delete for it would leave a DELETE_FAILED stack over a deletion AEP is
 * carrying out.
 */
async function waitUntilGone(client: AepClient, collection: Collection, id: string, deadline: number): Promise<void> {
  const scoped = client.within(deadline);
  const { config } = client.invocation;
  for (let n = 1; ; n++) {
    try {
      await getItem(scoped, collection, id);
    } catch (err) {
      if (hasStatus(err, 404)) {
        log('info', `AEP ${noun(collection)} is gone`, { id, polls: n });
        return;
      }
      if (err instanceof RetryExhaustedError) {
        log('warn', `AEP accepted the deletion of the ${noun(collection)} but could not confirm it (${errorMessage(err)}); its connections wait for it`, { id, polls: n });
        return;
      }
      throw err;
    }
    const delayMs = Math.max(backoffDelay(n, config.retryBaseMs), config.retryBaseMs);
    if (Date.now() + delayMs >= deadline) {
      log('warn', `AEP accepted the deletion of the ${noun(collection)} but it still exists at the deadline; its connections wait for it`, { id, polls: n });
      return;
    }
    await sleep(delayMs);
  }
}

/**
 * The dataflows that use a base connection: through the source connections (ingestion) or target
 * connections (exports) made on it (`[]` reaches into arrays, API-NOTES §3.5).
 */
export async function flowsUsing(client: AepClient, baseConnectionId: string): Promise<FlowItem[]> {
  const [sources, targets] = await Promise.all([
    list(client, '/sourceConnections', [`baseConnectionId==${baseConnectionId}`]),
    list(client, '/targetConnections', [`baseConnectionId==${baseConnectionId}`]),
  ]);
  const flows: FlowItem[] = [];
  if (sources.length) flows.push(...await list(client, '/flows', [`sourceConnectionIds[]==${sources.map((s) => s.id).join(',')}`]));
  if (targets.length) flows.push(...await list(client, '/flows', [`targetConnectionIds[]==${targets.map((t) => t.id).join(',')}`]));
  return [...new Map(flows.map((f) => [f.id, f])).values()];
}

function itemsOf(data: unknown): FlowItem[] {
  const items = (data as { items?: unknown } | undefined)?.items;
  return Array.isArray(items)
    ? items.filter((i): i is FlowItem => !!i && typeof i === 'object' && typeof (i as FlowItem).id === 'string')
    : [];
}

function nextToken(data: unknown): string | undefined {
  const href = (data as { _links?: { next?: { href?: unknown } } } | undefined)?._links?.next?.href;
  if (typeof href !== 'string') return undefined;
  return new URL(href, 'http://x').searchParams.get('continuationToken') ?? undefined;
}

export { markedDescription, nameAndDescriptionOps } from '../../decisions/decision';

/** How one resource type creates, updates and reports a Flow Service item. */
export interface FlowResourceType {
  readonly collection: Collection;
  /** The `Data` key carrying the AEP id (`ConnectionId`, `TargetConnectionId`). */
  readonly idAttribute: string;
  /** State changes that are not PATCHes (a flow's enable/disable action), after an in-place update. */
  readonly afterUpdate?: (client: AepClient, ref: FlowRef, event: CustomResourceEvent, current: FlowItem) => Promise<FlowRef>;
  /**
   * The kind of an object as seen against the event's desired state, when AEP may add or
   * normalise fields the stack never set (only what the stack sets then counts).
   * @default kindOf
   */
  readonly kindOfAsDesired?: (item: FlowItem, event: CustomResourceEvent) => FlowKind;
  /** The kind of an object as AEP returns it. */
  kindOf(item: FlowItem): FlowKind;
  /** The desired state and the ops that move `current` to it (everything patchable: name, description, params…). */
  create(event: CustomResourceEvent, invocation: Invocation, replacing?: string): Promise<FlowRef>;
  /** The desired kind for the event's properties. */
  desiredKind(event: CustomResourceEvent): FlowKind;
  /** Ops that move `current` (as read from AEP) to the event's desired state, drift included. */
  driftOps(event: CustomResourceEvent, current: FlowItem, invocation: Invocation, client: AepClient): Promise<PatchOp[]>;
}

/**
 * The CloudFormation lifecycle both connection types share, with AEP as the source of truth:
 *
 * - Create: create-or-adopt by marker.
 * - Update: if the object CloudFormation names already has the desired kind (an in-place change,
 *   or the rollback of a failed replacement returning to it), read it and patch every mutable
 *   field that differs from the desired state (drift made in the AEP UI included); otherwise
 *   create the replacement (CloudFormation deletes the old one in cleanup). Either way, any other
 *   object of the same kind carrying the marker (a late-applied POST) is removed.
 * - Delete: delete (404 = done) and remove same-kind twins; under RETAIN keep the object but
 *   retire its marker so no later adoption can pick it up.
 */
export async function onFlowResourceEvent(
  type: FlowResourceType, event: CustomResourceEvent, invocation: Invocation,
): Promise<CustomResourceResponse> {
  const respond = (ref: FlowRef): CustomResourceResponse => ({
    PhysicalResourceId: ref.id,
    Data: { [type.idAttribute]: ref.id, [Attributes.ETAG]: ref.etag, ...(ref.notice ? { [DataflowAttributes.AEP_NOTICE]: ref.notice } : {}) },
  });
  const marker = adoptionMarker(event.StackId, event.LogicalResourceId);
  const lookup = (kind: FlowKind, excludeId?: string, current?: FlowItem) => ({
    filters: kind.filters,
    marker,
    names: namesOf(event, current),
    excludeId,
    sameKind: (item: FlowItem) => type.kindOf(item).key === kind.key,
  });
  // Compared with the desired state: only what the stack sets counts.
  const asDesired = (item: FlowItem) => (type.kindOfAsDesired ? type.kindOfAsDesired(item, event) : type.kindOf(item));
  switch (event.RequestType) {
    case 'Create':
      return respond(await type.create(event, invocation));
    case 'Update': {
      const id = requirePhysicalId(event);
      const client = await AepClient.fromProps(event.ResourceProperties, invocation);
      const desired = type.desiredKind(event);
      const current = await getItem(client, type.collection, id).catch((err: unknown) => {
        if (hasStatus(err, 404)) return undefined;
        throw err;
      });
      const replacement = decideUpdate(desired, current, current && asDesired(current));
      if (replacement || !current) {
        log('info', `the AEP ${noun(type.collection)} cannot become the desired one in place (unchangeable field or sandbox changed): creating a replacement`,
          { replacing: id, found: current !== undefined });
        // Only an object that was read can be excluded as the one replaced: when the GET said 404
        // but the list shows it (same kind, our marker), it is not gone, and adopting it is the
        // in-place update; a twin would be removed with it by the cleanup Delete of this id.
        return respond(await type.create(event, invocation, current ? id : undefined));
      }
      const decision = decidePatch(await type.driftOps(event, current, invocation, client));
      const ops = [...decision.ops ?? []];
      // Flow ops address audience selectors by index: after a 412 they are rebuilt from the re-read
      // flow. Connection ops are by name (and may mint credentials): re-sent as they are.
      const recompute = type.collection === '/flows' ? (fresh: FlowItem) => type.driftOps(event, fresh, invocation, client) : undefined;
      const patched = await updateInPlace(client, type.collection, id, ops, current.etag, recompute);
      const ref = type.afterUpdate ? await type.afterUpdate(client, patched, event, current) : patched;
      const asDesiredKind = (item: FlowItem) => asDesired(item).key === desired.key;
      await removeTwins(client, type.collection, { ...lookup(desired, undefined, current), sameKind: asDesiredKind }, id);
      return respond(ref);
    }
    case 'Delete': {
      const id = requirePhysicalId(event);
      const props = event.ResourceProperties;
      const client = await AepClient.fromProps(props, invocation);
      const current = await getItem(client, type.collection, id).catch((err: unknown) => {
        if (hasStatus(err, 404)) return undefined;
        throw err;
      });
      const decision = decideDelete(props, current);
      if (!current || decision.action === 'none') {
        log('info', `AEP ${noun(type.collection)} already gone`, { id });
        return { PhysicalResourceId: id };
      }
      // Same-kind twins as the object being deleted, never as the properties: a Delete during
      // rollback cleanup may carry the properties of the object the stack returns to.
      const twins = lookup(type.kindOf(current), id, current);
      // Both connection types name the removal policy property the same (contract).
      if (decision.action === 'retain') {
        log('info', `removal policy is retain; leaving the AEP ${noun(type.collection)} in place with its adoption marker retired`, { id });
        await retireMarker(client, type.collection, current);
      } else {
        // Waiting to the very deadline for AEP to carry out a dataflow's deletion left the twin
        // lookup below no time: its list timed out and failed the Delete.
        await deleteItem(client, type.collection, id, { reserveMs: TWIN_LOOKUP_RESERVE_TIMEOUTS * invocation.config.httpTimeoutMs });
      }
      await removeTwins(client, type.collection, twins, id);
      return { PhysicalResourceId: id };
    }
  }
}

/** An in-place update: PATCH `ops` with If-Match, or, when nothing changed, just report the etag. */
export async function updateInPlace(
  client: AepClient, collection: Collection, id: string, ops: PatchOp[], etag?: string, recompute?: (fresh: FlowItem) => Promise<PatchOp[]>,
): Promise<FlowRef> {
  if (!ops.length) return { id, etag: etag ?? (await getExistingItem(client, collection, id)).etag ?? '' };
  log('info', `patching AEP ${noun(collection)} in place`, { id, paths: ops.map((o) => o.path) });
  return patchItem(client, collection, id, ops, etag, recompute);
}

/** Rewrites the marker of a retained object so that no later create adopts it. */
export async function retireMarker(client: AepClient, collection: Collection, item: FlowItem): Promise<void> {
  if (typeof item.description !== 'string' || !item.description.includes(ADOPTION_MARKER_PREFIX)) return;
  const description = item.description.split(ADOPTION_MARKER_PREFIX).join(RETIRED_MARKER_PREFIX);
  try {
    await patchItem(client, collection, item.id, [{ op: 'replace', path: '/description', value: description }], item.etag);
  } catch (err) {
    if (!hasStatus(err, 404)) throw err;
  }
}
