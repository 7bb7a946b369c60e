/**
 * "Decorated GET": AEP answers a read with more than was written. It adds fields of its own,
 * orders keys its own way and may echo a number for a numeric string (or the reverse). Turned on
 * with `AepStandIn.decorateGets(true)`, every `GET` of a Flow Service connection (by id or
 * listed) is answered that way, so a client that compares what it reads with what it wrote byte
 * for byte is caught mistaking a rename for a change it cannot patch.
 */

/** The collections whose reads are decorated (the handler's kinds are computed from them). */
const DECORATED = /\/(connections|targetConnections|sourceConnections)(\/[^/]+)?$/;

/** Field AEP adds to the objects it returns (a made-up name no client sets). */
export const DECORATION_FIELD = 'aepAddedField';

/** Whether a `GET` of `path` is decorated. */
export function isDecoratedRead(method: string, path: string): boolean {
  return method === 'GET' && DECORATED.test(path);
}

/** The `{ items: [...] }` body of a read as a decorated AEP would send it. */
export function decorateBody(body: unknown): unknown {
  if (!isObject(body) || !Array.isArray(body.items)) return body;
  return { ...body, items: body.items.map((item) => (isObject(item) ? decorateItem(item) : item)) };
}

/** Keys reversed, an added top-level field, `params`/`data`/`auth.params` and the encryption block decorated. */
function decorateItem(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { [DECORATION_FIELD]: { decoratedBy: 'stand-in' } };
  for (const key of Object.keys(item).reverse()) {
    const value = item[key];
    if ((key === 'params' || key === 'data') && isObject(value)) {
      out[key] = decorateDeep(value);
    } else if ((key === 'encryption' || key === 'encryptionSpecs') && isObject(value) && isObject(value.params)) {
      // The encryption block as AEP may echo it: keys reordered, a field of its own in its params.
      out[key] = { [DECORATION_FIELD]: 'added by AEP', ...reversed({ ...value, params: { ...reversed(value.params), [DECORATION_FIELD]: 'added by AEP' } }) };
    } else if (key === 'auth' && isObject(value) && isObject(value.params)) {
      out[key] = { ...value, params: reversed(value.params) };
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Objects: keys reversed plus an added field; numbers echoed as strings and numeric strings as numbers. */
function decorateDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decorateDeep);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).reverse()) out[key] = decorateDeep(value[key]);
    out[DECORATION_FIELD] = 'added by AEP';
    return out;
  }
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

function reversed(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).reverse());
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
