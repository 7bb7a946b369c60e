/**
 * The destructive-change comparer: given the template a stack had and the one it gets, lists the
 * AEP objects and IAM identities a connection depends on that the deployment would REPLACE or
 * DELETE (rules: destructive-rules.ts), and checks them against acknowledgements.
 */
import { AEP_RULES, NOT_FOLLOWED_PROPERTIES, ruleOf } from './destructive-rules';

/** A CloudFormation template (the parts read here). */
export interface CfnTemplate {
  readonly Resources?: { readonly [logicalId: string]: CfnResource };
  readonly [section: string]: unknown;
}

/** One resource of a template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** One replacement or deletion the deployment would make. */
export interface DestructiveChange {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly change: 'replace' | 'delete';
  /** Why (one entry per replacing property, or the removal). */
  readonly reasons: readonly string[];
  /** What it does to AEP. */
  readonly consequence: string;
}

/** One entry of acknowledged-replacements.json. */
export interface Acknowledgement {
  readonly stack: string;
  readonly logicalId: string;
  readonly change: 'replace' | 'delete';
  /** Why the replacement is intended (required: it is the pull request's record). */
  readonly why: string;
}

/** Key-order-independent JSON, so a reordered object is no change. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v) ?? 'undefined';
}

/** Logical ids `value` refers to through Ref, Fn::GetAtt and Fn::Sub. */
export function referencedIds(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((v) => referencedIds(v, out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) {
        out.add(v);
      } else if (k === 'Fn::GetAtt' && Array.isArray(v) && typeof v[0] === 'string') {
        out.add(v[0]);
      } else if (k === 'Fn::GetAtt' && typeof v === 'string') {
        out.add(v.split('.')[0]);
      } else if (k === 'Fn::Sub') {
        const text = Array.isArray(v) ? v[0] : v;
        const named = typeof text === 'string' ? [...text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)].map((m) => m[1]) : [];
        named.filter((n) => !n.startsWith('AWS')).forEach((n) => out.add(n));
        if (Array.isArray(v)) referencedIds(v[1], out);
      } else {
        referencedIds(v, out);
      }
    }
  }
  return out;
}

/**
 * The resources the gate watches in one template: every gated AEP resource, and every IAM
 * user, role or access key reachable from one through property references (not its
 * ServiceToken: the provider's own role is not something a connection depends on).
 */
export function watchedIds(template: CfnTemplate): Set<string> {
  const resources = template.Resources ?? {};
  const watched = new Set<string>();
  const seen = new Set<string>();
  const queue: string[] = [];
  const followed = (r: CfnResource) => Object.fromEntries(Object.entries(r.Properties ?? {}).filter(([k]) => !NOT_FOLLOWED_PROPERTIES.includes(k)));
  for (const [id, r] of Object.entries(resources)) {
    if (AEP_RULES[r.Type]) {
      watched.add(id);
      queue.push(...referencedIds(followed(r)));
    }
  }
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id) || !resources[id]) continue;
    seen.add(id);
    const r = resources[id];
    if (ruleOf(r.Type)) watched.add(id);
    queue.push(...referencedIds(followed(r)));
  }
  return watched;
}

const show = (v: unknown): string => (v === undefined ? '(unset)' : canonical(v));

/** The replacements and deletions turning `before` into `after` for the watched resources. */
export function destructiveChanges(stack: string, before: CfnTemplate, after: CfnTemplate): DestructiveChange[] {
  const was = before.Resources ?? {};
  const now = after.Resources ?? {};
  const watched = new Set([...watchedIds(before), ...watchedIds(after)]);
  const changes = new Map<string, DestructiveChange>();

  for (const id of watched) {
    const old = was[id];
    if (!old) continue; // new: nothing existing is lost
    const rule = ruleOf(old.Type)!;
    const cur = now[id];
    if (!cur) {
      const retained = (old.Properties ?? {}).RemovalPolicy === 'retain' ? ' (kept in AEP, unmanaged: removal policy retain)' : '';
      changes.set(id, {
        stack,
        logicalId: id,
        type: old.Type,
        change: 'delete',
        reasons: [`logical id ${id} is gone from the template (construct renamed, moved or removed)${retained}`],
        consequence: rule.consequence,
      });
    } else if (cur.Type !== old.Type) {
      changes.set(id, {
        stack,
        logicalId: id,
        type: old.Type,
        change: 'replace',
        reasons: [`resource type changed from ${old.Type} to ${cur.Type} (CloudFormation deletes the old resource and creates the new one)`],
        consequence: rule.consequence,
      });
    }
  }

  // Replacements by property, to a fixed point: a property that still reads `GetAtt X.Id` changes
  // value when X is replaced (a flow on a replaced source connection is replaced too).
  let grew = true;
  while (grew) {
    grew = false;
    for (const id of watched) {
      const old = was[id];
      const cur = now[id];
      if (!old || !cur || cur.Type !== old.Type || changes.has(id)) continue;
      const rule = ruleOf(cur.Type)!;
      const reasons: string[] = [];
      for (const { property, why } of rule.replacingProperties) {
        const when = rule.replacesWhen?.[property];
        if (when && !when(cur.Properties ?? {})) continue;
        const a = (old.Properties ?? {})[property];
        const b = (cur.Properties ?? {})[property];
        if (canonical(a) !== canonical(b)) {
          reasons.push(`${property} ${show(a)} → ${show(b)}: ${why}`);
        } else {
          const moved = [...referencedIds(b)].filter((ref) => changes.has(ref));
          if (moved.length) reasons.push(`${property} refers to ${moved.join(', ')}, which is replaced or deleted: ${why}`);
        }
      }
      if (reasons.length) {
        changes.set(id, { stack, logicalId: id, type: cur.Type, change: 'replace', reasons, consequence: rule.consequence });
        grew = true;
      }
    }
  }
  return [...changes.values()].sort((a, b) => (a.logicalId < b.logicalId ? -1 : a.logicalId > b.logicalId ? 1 : 0));
}

/** What the gate concludes from the changes and the acknowledgements. */
export interface GateVerdict {
  readonly unacknowledged: readonly DestructiveChange[];
  readonly acknowledged: readonly DestructiveChange[];
  /** Acknowledgements matching no change (harmless; may be removed once the change is merged). */
  readonly unused: readonly Acknowledgement[];
}

/** Matches changes to acknowledgements (same stack, logical id and kind of change). */
export function judge(changes: readonly DestructiveChange[], acks: readonly Acknowledgement[]): GateVerdict {
  for (const a of acks) {
    if (!a.why || !a.why.trim()) throw new Error(`acknowledgement of ${a.stack}/${a.logicalId} has no 'why': say why the ${a.change} is intended`);
  }
  const matches = (c: DestructiveChange, a: Acknowledgement) => a.stack === c.stack && a.logicalId === c.logicalId && a.change === c.change;
  return {
    unacknowledged: changes.filter((c) => !acks.some((a) => matches(c, a))),
    acknowledged: changes.filter((c) => acks.some((a) => matches(c, a))),
    unused: acks.filter((a) => !changes.some((c) => matches(c, a))),
  };
}

/** One human-readable line per change. */
export function describe(c: DestructiveChange): string {
  return `${c.stack}/${c.logicalId} (${c.type}) would be ${c.change === 'replace' ? 'REPLACED' : 'DELETED'}: ${c.reasons.join('; ')}. Effect: ${c.consequence}.`;
}

/** The acknowledgement entry that lets `c` through (printed for the author to paste). */
export function acknowledgementFor(c: DestructiveChange): Acknowledgement {
  return { stack: c.stack, logicalId: c.logicalId, change: c.change, why: '<why this is intended>' };
}
