/**
 * What the handler will do to one AEP object, decided without HTTP or a clock, so that the
 * handler (which then performs it) and `cdk-aep-s3 plan` (which prints it) decide alike.
 */
import { canonical, optionalString, type RawProps } from '../plumbing/props';
import { ConnectionProps, RemovalPolicies } from '../private/contract';

/** A Flow Service resource as returned by GET. */
export interface FlowItem {
  readonly id: string;
  readonly etag?: string;
  readonly name?: string;
  readonly description?: string;
  readonly [key: string]: unknown;
}

/** One RFC 6902 operation (lower-case `op`, as Adobe documents it). */
export interface PatchOp {
  readonly op: 'add' | 'replace' | 'remove';
  readonly path: string;
  readonly value?: unknown;
}

/**
 * The fields AEP cannot patch (connection spec, auth type, base connection): two objects of the
 * same kind carrying the same marker are duplicates; of different kinds, one replaces the other.
 */
export interface FlowKind {
  /** Canonical text of the unchangeable fields. */
  readonly key: string;
  /** `property` filters that list every object of this kind. */
  readonly filters: readonly string[];
}

/** What happens to one AEP object. */
export type DecisionAction = 'create' | 'patch' | 'replace' | 'delete' | 'retain' | 'none';

/** One decision: the action, the fields it touches and why. */
export interface Decision {
  readonly action: DecisionAction;
  /** Patch: the fields patched; replace: the unchangeable fields that differ. */
  readonly fields: readonly string[];
  /** Patch: the JSON-patch ops (values of secret params are never part of a plan). */
  readonly ops?: readonly PatchOp[];
  /** Replace, delete, retain: why, in a sentence. */
  readonly reason?: string;
  /** Fields where AEP differs from what the last deploy set (drift the action overwrites). */
  readonly drift?: readonly string[];
}

/**
 * An Update's first decision: replace when the object the physical id names is not there (in
 * the desired sandbox) or its unchangeable fields differ from the desired ones; undefined when it
 * can be moved in place (then {@link decidePatch} on its ops).
 */
export function decideUpdate(desired: FlowKind, current: FlowItem | undefined, currentKind: FlowKind | undefined): Decision | undefined {
  if (!current || !currentKind) {
    return {
      action: 'replace',
      fields: [],
      reason: 'the AEP object is not found where the stack now points (sandbox changed, or deleted outside CloudFormation): a new one is made',
    };
  }
  if (currentKind.key === desired.key) return undefined;
  const fields = keyDifferences(currentKind.key, desired.key);
  return { action: 'replace', fields, reason: `AEP cannot patch ${fields.join(', ') || 'its unchangeable fields'}: a new object is made and the old one deleted` };
}

/** An in-place Update: patch when there are ops, else nothing to do. */
export function decidePatch(ops: readonly PatchOp[], drift?: readonly string[]): Decision {
  const fields = [...new Set(ops.map((o) => fieldOfPath(o.path)))];
  const withDrift = drift && drift.length ? { drift } : {};
  return ops.length ? { action: 'patch', fields, ops, ...withDrift } : { action: 'none', fields: [], ...withDrift };
}

/** A Delete (every type names its removal policy property alike, contract): nothing when the object is gone, retain (marker retired) under RETAIN, else delete. */
export function decideDelete(props: RawProps, current: FlowItem | undefined): Decision {
  if (!current) return { action: 'none', fields: [], reason: 'already gone' };
  if (optionalString(props, ConnectionProps.REMOVAL_POLICY) === RemovalPolicies.RETAIN) {
    return { action: 'retain', fields: [], reason: 'removal policy RETAIN: left in AEP with its adoption marker retired' };
  }
  return { action: 'delete', fields: [], reason: 'removed from the stack' };
}

/** `/transformations/0/params/segmentSelectors/selectors/2` → `transformations.params.segmentSelectors` (what a reviewer reads). */
export function fieldOfPath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '-' && !/^\d+$/.test(p));
  if (parts[0] === 'transformations' && parts[1] === 'params' && parts[2]) return parts[2] === 'segmentSelectors' ? 'audiences' : parts[2];
  if (parts[0] === 'transformations') return 'mapping';
  return parts[0] ?? path;
}

/** Top-level keys whose values differ between two canonical kind keys. */
function keyDifferences(a: string, b: string): string[] {
  const parse = (s: string): Record<string, unknown> => {
    try {
      const v = JSON.parse(s) as unknown;
      return v && typeof v === 'object' ? v as Record<string, unknown> : {};
    } catch {
      return {};
    }
  };
  const [x, y] = [parse(a), parse(b)];
  return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => canonical(x[k] ?? null) !== canonical(y[k] ?? null)).sort();
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
