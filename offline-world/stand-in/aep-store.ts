/**
 * In-memory Flow Service resources (base and target connections) with the read-side behaviour
 * of the real API: sandbox isolation, `property=` filters, ordering, `limit` paging, secret masking.
 */
import { randomUUID } from 'node:crypto';
import { Violation, violation } from './aep-rules';
import { MASKED, MASKED_AUTH_PARAMS } from './redact';

/** Fields every stored Flow Service resource has (API-NOTES §3.2). */
/** What Flow Service stamps on every stored item: identity, audit fields, sandbox and etag. */
export interface StampedItem {
  id: string;
  createdAt: number;
  updatedAt: number;
  createdBy: string;
  updatedBy: string;
  createdClient: string;
  updatedClient: string;
  sandboxId: string;
  sandboxName: string;
  imsOrgId: string;
  etag: string;
}

export interface StoredResource extends StampedItem {
  name: string;
  description?: string;
  connectionSpec: { id: string; version: string };
  state: 'enabled' | 'disabled';
  /** Same quoted string as `etag` (`"\"<uuid>\""`). */
  version: string;
  [extra: string]: unknown;
}

/** A base connection (`/connections`) as stored, secrets in clear. */
export interface StoredConnection extends StoredResource {
  auth: { specName: string; params: Record<string, unknown> };
  encryption?: { specName: string; params: Record<string, unknown> };
  /** The older request key for the same block (served-spec variant `PGPGPG`). */
  encryptionSpecs?: { specName: string; params: Record<string, unknown> };
}

/** A target connection (`/targetConnections`) as stored. */
export interface StoredTargetConnection extends StoredResource {
  baseConnectionId?: string;
  params?: Record<string, unknown>;
  /** Server-set; destinations.yaml `TargetConnectionItem` requires it: `{baseConnection: <id>}`. */
  inheritedAttributes?: { baseConnection?: string };
}

/** A parsed `property=` filter: `field op value[,value…]` (values are OR-ed). */
interface Filter {
  readonly field: string;
  readonly op: '==' | '!=' | '>=' | '<=' | '>' | '<';
  readonly values: readonly string[];
}

/**
 * Most items one list answer holds, whatever `limit` asks ([spec-dst]: `limit` ≤ 100, a list
 * returns at most 100, newest first; API-NOTES §3.4): the rest is behind `_links.next`.
 */
export const MAX_PAGE_SIZE = 100;

/** A fresh etag. Flow Service etags carry their own double quotes (API-NOTES §3.4). */
export function newEtag(): string {
  return `"${randomUUID()}"`;
}

/** One resource collection (connections or target connections). */
export class ResourceStore<T extends StoredResource> {
  private readonly items = new Map<string, T>();
  /** Stored but not yet visible to reads (eventual consistency, see {@link hide}). */
  private readonly hidden = new Set<string>();

  /** @param filterable fields `property=` may filter on (API-NOTES §3.5). */
  constructor(private readonly filterable: readonly string[]) {}

  /**
   * All stored resources, every sandbox, oldest first, secrets in clear (test accessor). Includes
   * resources not yet visible to reads: they exist, the API just does not show them yet.
   */
  public all(): T[] {
    return [...this.items.values()];
  }

  /**
   * The resource if it exists and is visible in `sandbox`; resources of other sandboxes, and
   * hidden ones, are invisible.
   */
  public get(id: string, sandbox?: string): T | undefined {
    const item = this.items.get(id);
    return item && !this.hidden.has(id) && (sandbox === undefined || item.sandboxName === sandbox) ? item : undefined;
  }

  public put(item: T): void {
    this.items.set(item.id, item);
  }

  /** Keeps a stored resource out of every read until {@link reveal}. */
  public hide(id: string): void {
    this.hidden.add(id);
  }

  public reveal(id: string): void {
    this.hidden.delete(id);
  }

  /** Whether `id` is stored but not yet visible. */
  public isHidden(id: string): boolean {
    return this.hidden.has(id);
  }

  public delete(id: string): void {
    this.items.delete(id);
    this.hidden.delete(id);
  }

  public clear(): void {
    this.items.clear();
    this.hidden.clear();
  }

  /**
   * `GET` on the collection: filters (`property`, repeated = AND), `orderby` (default newest
   * first, as Flow Service lists), pages of at most {@link MAX_PAGE_SIZE} (fewer with `limit`)
   * linked by `continuationToken`, or `count=true`.
   */
  public list(sandbox: string, query: URLSearchParams, selfUrl: string): { status: number; body: unknown } | Violation {
    const filters: Filter[] = [];
    for (const raw of query.getAll('property')) {
      const parsed = parseFilter(raw, this.filterable);
      if ('messages' in parsed) {
        return parsed;
      }
      filters.push(parsed);
    }
    const countOnly = query.get('count') === 'true';
    const limitText = query.get('limit');
    if (countOnly && limitText !== null) {
      return violation('limit and count cannot be used together', '1401-400');
    }
    let limit: number | undefined;
    if (limitText !== null) {
      limit = Number(limitText);
      if (!Number.isInteger(limit) || limit < 1) {
        return violation('limit must be a positive integer');
      }
    }
    const matching = this.all()
      .filter((item) => item.sandboxName === sandbox && !this.hidden.has(item.id) && filters.every((f) => matchesFilter(item, f)))
      .sort(comparator(query.get('orderby') ?? '-createdAt'));
    if (countOnly) {
      return { status: 200, body: { count: matching.length } };
    }
    const offset = decodeContinuation(query.get('continuationToken'));
    const page = matching.slice(offset, offset + Math.min(limit ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE));
    const body: Record<string, unknown> = { items: page };
    if (offset + page.length < matching.length) {
      const next = new URLSearchParams(query);
      next.set('continuationToken', Buffer.from(String(offset + page.length)).toString('base64url'));
      body._links = { next: { href: `${selfUrl}?${next.toString()}` } };
    }
    return { status: 200, body };
  }
}

/** What `GET` returns for a connection: secret auth params masked (API-NOTES §3.2, §9.11). */
export function maskConnection<T extends StoredResource>(item: T): T {
  const copy = structuredClone(item);
  const params = (copy as unknown as StoredConnection).auth?.params;
  if (params) {
    for (const key of Object.keys(params)) {
      if (MASKED_AUTH_PARAMS.has(key)) {
        params[key] = MASKED;
      }
    }
  }
  return copy;
}

// `field[]` reaches into an array (API-NOTES §3.5): it matches when any element does.
const FILTER = /^([A-Za-z][A-Za-z0-9_.]*(?:\[\])?)(==|!=|>=|<=|>|<)(.*)$/;

function parseFilter(raw: string, filterable: readonly string[]): Filter | Violation {
  const match = FILTER.exec(raw);
  if (!match) {
    return violation(`property filter '${raw}' is not of the form <field><op><value>`);
  }
  const [, field, op, rest] = match;
  if (!filterable.includes(field)) {
    return violation(`property filter on '${field}' is not supported (filterable: ${filterable.join(', ')})`);
  }
  return { field, op: op as Filter['op'], values: splitValues(rest) };
}

/** `a,"b,c",d` → `['a', 'b,c', 'd']`: comma means OR, double quotes are optional around a value. */
function splitValues(text: string): string[] {
  const values: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      values.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  values.push(current);
  return values;
}

function matchesFilter(item: StoredResource, filter: Filter): boolean {
  if (filter.field.endsWith('[]')) {
    const list = filter.field.slice(0, -2).split('.').reduce<unknown>((obj, key) => (obj && typeof obj === 'object' ? (obj as Record<string, unknown>)[key] : undefined), item);
    const elements = Array.isArray(list) ? list : [];
    return filter.op === '!='
      ? elements.every((e) => filter.values.every((v) => String(e) !== v))
      : elements.some((e) => filter.values.some((v) => String(e) === v));
  }
  const actual = filter.field.split('.').reduce<unknown>((obj, key) => (obj && typeof obj === 'object' ? (obj as Record<string, unknown>)[key] : undefined), item);
  if (actual === undefined || actual === null) {
    return filter.op === '!=';
  }
  switch (filter.op) {
    case '==':
      return filter.values.some((v) => String(actual) === v);
    case '!=':
      return filter.values.every((v) => String(actual) !== v);
    default: {
      const a = Number(actual);
      const b = Number(filter.values[0]);
      return filter.op === '>' ? a > b : filter.op === '<' ? a < b : filter.op === '>=' ? a >= b : a <= b;
    }
  }
}

function comparator(orderby: string): (a: StoredResource, b: StoredResource) => number {
  const descending = orderby.startsWith('-');
  const field = orderby.replace(/^[-+]/, '');
  return (a, b) => {
    const x = a[field] as string | number;
    const y = b[field] as string | number;
    const order = x < y ? -1 : x > y ? 1 : 0;
    return descending ? -order : order;
  };
}

function decodeContinuation(token: string | null): number {
  if (!token) {
    return 0;
  }
  const offset = Number(Buffer.from(token, 'base64url').toString('utf8'));
  return Number.isInteger(offset) && offset >= 0 ? offset : 0;
}
