/**
 * Decoders for custom-resource properties. CloudFormation hands every scalar over as a string
 * and nested objects as objects of strings (contract serialization rule); these helpers turn
 * them into typed values and name the offending property when something is missing.
 */

/** Raw `ResourceProperties` of a custom resource (or the refresh event). */
export type RawProps = Record<string, unknown>;

/** A required non-empty string property. */
export function requireString(props: RawProps, key: string): string {
  const value = optionalString(props, key);
  if (value === undefined) throw new Error(`Property '${key}' is required`);
  return value;
}

/** An optional string property (empty string counts as absent). */
export function optionalString(props: RawProps, key: string): string | undefined {
  const value = props[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`Property '${key}' must be a string`);
}

/** An optional positive integer carried as a string. */
export function optionalInt(props: RawProps, key: string): number | undefined {
  const raw = optionalString(props, key);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`Property '${key}' must be a positive integer, got '${raw}'`);
  return value;
}

/** An optional `{ [k]: string }` object (absent → `{}`). */
export function stringMap(props: RawProps, key: string): Record<string, string> {
  const value = optionalObject(props, key) ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new Error(`Property '${key}.${k}' must be a string`);
    out[k] = v;
  }
  return out;
}

/** An optional nested object. */
export function optionalObject(props: RawProps, key: string): Record<string, unknown> | undefined {
  const value = props[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`Property '${key}' must be an object`);
  return value as Record<string, unknown>;
}

/** Key-order-independent JSON, to tell whether two property values differ. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v) ?? 'undefined';
}

/** True when any of `keys` has a different value in `a` and `b`. */
export function anyChanged(a: RawProps, b: RawProps, keys: readonly string[]): boolean {
  // Every key is compared (no short-circuit): each input is read on every Update, so the contract
  // test sees the handler read every property the constructs emit.
  return keys.map((k) => canonical(a[k] ?? null) !== canonical(b[k] ?? null)).includes(true);
}

/** `actual` reduced to the shape of `desired`: the keys it sets, array items index by index, scalars compared as text. */
export function projectLike(actual: unknown, desired: unknown): unknown {
  if (desired === undefined || desired === null) return desired;
  if (Array.isArray(desired)) {
    return Array.isArray(actual) && actual.length === desired.length ? actual.map((a, i) => projectLike(a, desired[i])) : actual;
  }
  if (typeof desired === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return actual;
    const out: Record<string, unknown> = {};
    const [a, d] = [actual as Record<string, unknown>, desired as Record<string, unknown>];
    for (const key of Object.keys(d)) out[key] = projectLike(a[key], d[key]);
    return out;
  }
  return actual !== undefined && actual !== null && String(actual) === String(desired) ? desired : actual;
}
