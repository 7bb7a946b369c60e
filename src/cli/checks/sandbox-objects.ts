import { flowServiceFailure } from './failures';
import type { DoctorCheck, DoctorContext, ListedObject, MarkedItem } from './types';
import { registerSecret } from '../../plumbing/log';
import { ADOPTION_MARKER_PREFIX, parseMarker, RETIRED_MARKER_PREFIX } from '../../private/contract';

/** Collections whose descriptions carry markers (mapping sets carry theirs in the name, and cannot be deleted). */
const MARKED_COLLECTIONS = ['/connections', '/targetConnections', '/sourceConnections', '/flows'] as const;

/** Secret auth params AEP may or may not mask in reads (undocumented). */
const SECRET_AUTH_PARAMS = ['s3SecretKey', 's3SessionToken', 's3Role'];

/** Items per page: the most a Flow Service list answers. */
export const PAGE_SIZE = 100;
/** Upper bound on pages per collection. */
const MAX_PAGES = 50;

/**
 * Lists the four collections once (one request per 100 objects) and keeps what carries our
 * markers, plus every flow: the checks after it read this listing instead of asking again.
 */
export const sandboxObjects: DoctorCheck = {
  id: 'sandbox-objects',
  title: 'the objects of the sandbox that carry cdk-aep-s3 markers (one request per 100 objects listed)',
  async run(ctx) {
    const items: MarkedItem[] = [];
    const flows = new Map<string, ListedObject>();
    let listed = 0;
    let requests = 0;
    for (const collection of MARKED_COLLECTIONS) {
      try {
        const page = await listAll(ctx, collection);
        requests += page.requests;
        listed += page.items.length;
        for (const item of page.items) {
          if (collection === '/flows') flows.set(item.id, item);
          const marked = markedItem(collection, item);
          if (marked) items.push(marked);
        }
      } catch (err) {
        flowServiceFailure(err, ctx.add, `list${collection.replace('/', '-')}`, `list ${collection} (GET ${collection}) in sandbox ${ctx.options.sandbox}`,
          ctx.options.sandbox, ctx.options.flowServiceUrl);
        return;
      }
    }
    ctx.sandbox = { items, flows, listed, listRequests: requests };
    ctx.add('sandbox-read', 'ok', `sandbox ${ctx.options.sandbox}: listed ${listed} objects in ${MARKED_COLLECTIONS.join(', ')} (${requests} requests); `
      + `${items.length} carry cdk-aep-s3 markers`);
  },
};

async function listAll(ctx: DoctorContext, collection: string): Promise<{ items: ListedObject[]; requests: number }> {
  const items: ListedObject[] = [];
  let token: string | undefined;
  let requests = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: Array<[string, string]> = [['limit', String(PAGE_SIZE)]];
    if (token) query.push(['continuationToken', token]);
    const res = await ctx.aep('GET', collection, { query });
    requests += 1;
    const data = res.data as { items?: unknown[]; _links?: { next?: { href?: string } } } | undefined;
    items.push(...(data?.items ?? []).filter((i): i is ListedObject => !!i && typeof i === 'object' && typeof (i as { id?: unknown }).id === 'string'));
    const next = data?._links?.next?.href;
    token = next ? new URL(next, 'http://x').searchParams.get('continuationToken') ?? undefined : undefined;
    if (!token) break;
  }
  return { items, requests };
}

function markedItem(collection: string, item: Record<string, unknown>): MarkedItem | undefined {
  const description = typeof item.description === 'string' ? item.description : '';
  if (!description.includes(ADOPTION_MARKER_PREFIX) && !description.includes(RETIRED_MARKER_PREFIX)) return undefined;
  const m = parseMarker(description);
  if (!m) return undefined;
  const params = (item.auth as { params?: Record<string, unknown> } | undefined)?.params;
  let secretParams: Record<string, 'masked' | 'clear'> | undefined;
  if (params) {
    for (const p of SECRET_AUTH_PARAMS) {
      const value = params[p];
      if (typeof value !== 'string') continue;
      // A clear value must never reach the report: registered, then only its state is kept.
      const masked = /^\*+$/.test(value) || value === '';
      if (!masked) registerSecret(value);
      (secretParams ??= {})[p] = masked ? 'masked' : 'clear';
    }
  }
  return {
    collection,
    id: String(item.id),
    name: typeof item.name === 'string' ? item.name : undefined,
    logicalId: m.logicalId,
    stackName: m.stackName,
    stackUuid: m.stackUuid,
    ...(m.region !== undefined ? { stackRegion: m.region, stackAccount: m.account } : {}),
    connectionSpecId: (item.connectionSpec as { id?: string } | undefined)?.id,
    ...(collection === '/connections' && typeof (item.auth as { specName?: unknown } | undefined)?.specName === 'string'
      ? { authSpecName: (item.auth as { specName: string }).specName } : {}),
    retained: m.retired,
    ...(secretParams ? { secretParams } : {}),
  };
}
