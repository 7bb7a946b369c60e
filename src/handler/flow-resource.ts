import { AepClient } from './aep-client';
import { type Invocation, operationDeadline } from './config';
import { AepError, classifyAepError, hasStatus } from './errors';
import { type CustomResourceEvent, type CustomResourceResponse, requirePhysicalId } from './events';
import { errorMessage, log } from './log';
import { optionalString } from './props';
import { retry, sleep } from './retry';
import { Attributes, ConnectionProps, RemovalPolicies } from '../private/contract';

/**
 * What base connections and target connections share: read by id, find by adoption marker,
 * create-or-adopt, PATCH with If-Match, delete.
 */

/** A Flow Service collection this handler manages. */
export type Collection = '/connections' | '/targetConnections';

/** A Flow Service resource as returned by GET. */
export interface FlowItem {
  readonly id: string;
  readonly etag?: string;
  readonly name?: string;
  readonly description?: string;
  readonly [key: string]: unknown;
}

/** One RFC 6902 operation (lower-case `op`, API-NOTES §3.4). */
export interface PatchOp {
  readonly op: 'add' | 'replace' | 'remove';
  readonly path: string;
  readonly value?: unknown;
}

/** Id and current etag of a created, adopted or patched resource. */
export interface FlowRef {
  readonly id: string;
  readonly etag: string;
}

/** Human name of a collection's items, for error messages. */
export function noun(collection: Collection): string {
  return collection === '/connections' ? 'connection' : 'target connection';
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
  /** An id never to adopt: the resource being replaced carries the same marker. */
  readonly excludeId?: string;
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
const SETTLE_TIMEOUTS = 3;

/**
 * Creates a resource without ever duplicating it. POST is not idempotent, so it is never retried
 * blindly: each round first looks for a resource carrying this logical resource's marker and
 * adopts it, and only POSTs when there is none. A POST that AEP applied but whose response was
 * lost (timeout, reset, 504) is therefore adopted on the next round: after such an ambiguous
 * failure the lookup is repeated for a settle window before anything is POSTed again, and a POST
 * that still follows one is checked for a late twin, which is removed.
 */
export async function createOrAdopt(client: AepClient, collection: Collection, options: CreateOrAdoptOptions): Promise<FlowRef> {
  const { config } = client.invocation;
  const deadline = operationDeadline(client.invocation, config.deadlineMs);
  const scoped = client.within(deadline);
  let postedBody = false;
  let settleUntil = 0;
  return retry({
    operation: `POST ${collection}`,
    maxAttempts: config.retryMaxAttempts,
    baseDelayMs: config.retryBaseMs,
    deadline,
    classify: (err) => {
      const verdict = classifyAepError(err);
      // No response (timeout, reset) or a gateway timeout: AEP may still be applying the POST.
      const ambiguous = err instanceof AepError && (err.status === undefined || err.status === 504);
      if (!(ambiguous && verdict.retryable)) return verdict;
      settleUntil = Math.min(Date.now() + SETTLE_TIMEOUTS * config.httpTimeoutMs, deadline - config.httpTimeoutMs);
      return { retryable: true, retryAfterMs: Math.max(verdict.retryAfterMs ?? 0, config.httpTimeoutMs) };
    },
  }, async () => {
    let existing = await findByMarker(scoped, collection, options);
    while (!existing && Date.now() < settleUntil) {
      await sleep(Math.min(Math.max(config.retryBaseMs, config.httpTimeoutMs / 4), settleUntil - Date.now()));
      existing = await findByMarker(scoped, collection, options);
    }
    if (existing) {
      // A match after our own POST is that POST: it already has the desired state.
      const ops = postedBody ? [] : options.reconcile(existing);
      log('info', 'adopting existing AEP resource', { collection, id: existing.id, patchOps: ops.map((o) => o.path) });
      if (ops.length) return patchItem(scoped, collection, existing.id, ops);
      return { id: existing.id, etag: existing.etag ?? (await getItem(scoped, collection, existing.id)).etag ?? '' };
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
      await removeLateTwins(scoped, collection, options, data.id).catch((err: unknown) =>
        log('warn', 'could not check for a late duplicate; delete it in AEP if one shows up', { collection, kept: data.id, error: errorMessage(err) }));
    }
    const etag = typeof data.etag === 'string' ? data.etag
      : await getItem(scoped, collection, data.id).then((item) => item.etag ?? '', () => '');
    return { id: data.id, etag };
  });
}

/** Deletes resources carrying our marker other than `keepId`: an earlier POST applied after we gave up on it. */
async function removeLateTwins(client: AepClient, collection: Collection, options: CreateOrAdoptOptions, keepId: string): Promise<void> {
  const twins = (await list(client, collection, options.filters)).filter((item) =>
    item.id !== keepId && item.id !== options.excludeId && typeof item.description === 'string' && item.description.includes(options.marker));
  for (const twin of twins) {
    log('warn', 'removing a duplicate created by a POST applied after its timeout', { collection, id: twin.id, kept: keepId });
    await deleteItem(client, collection, twin.id);
  }
}

/** The single resource carrying the marker, if any; several is an error a human must resolve. */
async function findByMarker(client: AepClient, collection: Collection, options: CreateOrAdoptOptions): Promise<FlowItem | undefined> {
  const matches = (await list(client, collection, options.filters)).filter((item) =>
    item.id !== options.excludeId && typeof item.description === 'string' && item.description.includes(options.marker));
  if (matches.length > 1) {
    throw new Error(
      `Found ${matches.length} AEP ${noun(collection)}s carrying marker ${options.marker} (ids ${matches.map((m) => m.id).join(', ')}); ` +
      'delete all but one in AEP, then retry the deployment',
    );
  }
  return matches[0];
}

/** Upper bound on pages followed by a lookup (100 items each). */
const MAX_PAGES = 20;

/** Lists a collection with AND-ed `property` filters, following `continuationToken` pages. */
async function list(client: AepClient, collection: Collection, filters: readonly string[]): Promise<FlowItem[]> {
  const items: FlowItem[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: Array<[string, string]> = filters.map((f) => ['property', f]);
    if (token) query.push(['continuationToken', token]);
    const res = await client.request('GET', collection, { query });
    items.push(...itemsOf(res.data));
    token = nextToken(res.data);
    if (!token) break;
  }
  return items;
}

/**
 * Applies `ops` with `If-Match`. The etag is read first; a 412 means someone (or our own PATCH
 * retried after a lost response) changed the resource in between, so the etag is re-read and the
 * patch applied once more (replace ops are idempotent).
 */
export async function patchItem(client: AepClient, collection: Collection, id: string, ops: PatchOp[]): Promise<FlowRef> {
  const path = `${collection}/${encodeURIComponent(id)}`;
  const attempt = async (): Promise<FlowRef> => {
    const current = await getExistingItem(client, collection, id);
    if (!current.etag) throw new Error(`AEP ${noun(collection)} ${id} has no etag`);
    const res = await client.request('PATCH', path, { body: ops, ifMatch: current.etag });
    const etag = (res.data as { etag?: unknown } | undefined)?.etag;
    return { id, etag: typeof etag === 'string' ? etag : (await getItem(client, collection, id)).etag ?? '' };
  };
  try {
    return await attempt();
  } catch (err) {
    if (!hasStatus(err, 412)) throw err;
    log('warn', 'etag changed under the PATCH; re-reading and retrying once', { collection, id });
    return attempt();
  }
}

/**
 * Deletes; 404 counts as done (already gone, or our earlier attempt succeeded). A base connection
 * still used by dataflows cannot be deleted (API-NOTES §3.6 `1418-400`): say what to do.
 */
export async function deleteItem(client: AepClient, collection: Collection, id: string): Promise<void> {
  try {
    await client.request('DELETE', `${collection}/${encodeURIComponent(id)}`);
    log('info', 'deleted AEP resource', { collection, id });
  } catch (err) {
    if (hasStatus(err, 404)) {
      log('info', 'AEP resource already gone', { collection, id });
      return;
    }
    if (hasStatus(err, 400) && /1418|in use|used by|being used/i.test(err.detail)) {
      throw new Error(
        `AEP ${noun(collection)} ${id} is still used by dataflows, so AEP refuses to delete it (${err.message}). ` +
        'Delete the dataflows that use it first, or set the removal policy to RETAIN to leave it in AEP.',
      );
    }
    throw err;
  }
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

/** The description AEP stores: the user's text followed by our adoption marker. */
export function markedDescription(description: string | undefined, marker: string): string {
  return description ? `${description} ${marker}` : marker;
}

/** Ops that move `/name` and `/description` from `current` to `desired`. */
export function nameAndDescriptionOps(
  current: { name?: unknown; description?: unknown }, desired: { name: string; description: string },
): PatchOp[] {
  const ops: PatchOp[] = [];
  if (current.name !== desired.name) ops.push({ op: 'replace', path: '/name', value: desired.name });
  if (current.description !== desired.description) ops.push({ op: 'replace', path: '/description', value: desired.description });
  return ops;
}

/** An in-place update: PATCH `ops` with If-Match, or, when nothing changed, just read the etag. */
export async function updateInPlace(client: AepClient, collection: Collection, id: string, ops: PatchOp[]): Promise<FlowRef> {
  if (!ops.length) return { id, etag: (await getExistingItem(client, collection, id)).etag ?? '' };
  log('info', `patching AEP ${noun(collection)} in place`, { id, paths: ops.map((o) => o.path) });
  return patchItem(client, collection, id, ops);
}

/** How one resource type creates, updates and reports a Flow Service item. */
export interface FlowResourceType {
  readonly collection: Collection;
  /** The `Data` key carrying the AEP id (`ConnectionId`, `TargetConnectionId`). */
  readonly idAttribute: string;
  create(event: CustomResourceEvent, invocation: Invocation): Promise<FlowRef>;
  update(event: CustomResourceEvent, invocation: Invocation): Promise<FlowRef>;
}

/**
 * The CloudFormation lifecycle both connection types share: Create/Update by the type, Delete
 * (or keep, under a retain removal policy) here, and the response with the AEP id as physical id.
 */
export async function onFlowResourceEvent(
  type: FlowResourceType, event: CustomResourceEvent, invocation: Invocation,
): Promise<CustomResourceResponse> {
  const respond = (ref: FlowRef): CustomResourceResponse => ({
    PhysicalResourceId: ref.id,
    Data: { [type.idAttribute]: ref.id, [Attributes.ETAG]: ref.etag },
  });
  switch (event.RequestType) {
    case 'Create':
      return respond(await type.create(event, invocation));
    case 'Update':
      return respond(await type.update(event, invocation));
    case 'Delete': {
      const id = requirePhysicalId(event);
      const props = event.ResourceProperties;
      // Both connection types name the removal policy property the same (contract).
      if (optionalString(props, ConnectionProps.REMOVAL_POLICY) === RemovalPolicies.RETAIN) {
        log('info', `removal policy is retain; leaving the AEP ${noun(type.collection)} in place`, { id });
      } else {
        await deleteItem(await AepClient.fromProps(props, invocation), type.collection, id);
      }
      return { PhysicalResourceId: id };
    }
  }
}
