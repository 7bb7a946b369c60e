import { clone, LiveResource } from './model';

/**
 * IAM's eventual consistency: a policy created, changed or attached by CloudFormation is not in
 * force the moment its resource is CREATE_COMPLETE / UPDATE_COMPLETE, and a policy deleted or
 * detached keeps applying for a while (AWS IAM User Guide, "Changes that I make are not always
 * immediately visible": changes propagate in seconds). Each IAM resource's versions are recorded
 * as CloudFormation makes them; IAM decides a call with the version in force at that moment, i.e.
 * the newest one made at least `delayMs` ago.
 *
 * Modelled: AWS::IAM::Policy and ManagedPolicy (document and attachments), and the inline
 * `Policies` / `ManagedPolicyArns` / `Groups` of roles, users and groups. A role or user exists
 * at once (so a function can run); what it is allowed is what had propagated.
 */

/** IAM resource types whose changes propagate with a delay. */
const PROPAGATING = new Set(['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group']);

/** Principals: they exist at once, with none of their grants in force until those propagate. */
const PRINCIPALS = new Set(['AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group']);

interface Version {
  /** Epoch ms from which IAM decides with this version. */
  readonly inForceFrom: number;
  /** Undefined once deleted. */
  readonly resource?: LiveResource;
}

/** The versions of one stack's IAM resources, by logical id and physical id. */
export class IamPropagation {
  private readonly versions = new Map<string, Version[]>();

  /** @param delayMs how long a change takes to be in force (0: at once, the default of the simulator). */
  constructor(private readonly delayMs: () => number) {}

  /** Records what CloudFormation just did to a resource (`undefined`: deleted). */
  public record(logicalId: string, before: LiveResource | undefined, after: LiveResource | undefined): void {
    const delay = this.delayMs();
    if (delay <= 0) return;
    const now = Date.now();
    if (before && PROPAGATING.has(before.type) && (!after || after.physicalId !== before.physicalId)) {
      this.push(`${logicalId}|${before.physicalId}`, { inForceFrom: now + delay }, before);
    }
    if (after && PROPAGATING.has(after.type)) {
      const previous = before && before.physicalId === after.physicalId ? before : undefined;
      this.push(`${logicalId}|${after.physicalId}`, { inForceFrom: now + delay, resource: clone(after) }, previous);
    }
  }

  private push(key: string, version: Version, previous?: LiveResource): void {
    const list = this.versions.get(key) ?? [];
    // What was in force before the first recorded change (a resource from before the delay was modelled).
    if (!list.length && previous) list.push({ inForceFrom: 0, resource: clone(previous) });
    list.push(version);
    this.versions.set(key, list);
  }

  /**
   * The resources IAM sees now: `live` with every IAM resource replaced by its version in force
   * (absent when none is yet, or kept when its deletion has not propagated).
   */
  public inForce(live: Map<string, LiveResource>): LiveResource[] {
    if (!this.versions.size) return [...live.values()];
    const now = Date.now();
    const out: LiveResource[] = [];
    const seen = new Set<string>();
    for (const [key, list] of this.versions) {
      seen.add(key);
      const version = [...list].reverse().find((v) => v.inForceFrom <= now);
      if (version?.resource) {
        out.push(version.resource);
        continue;
      }
      // A principal that exists but whose grants have not propagated: no permissions yet.
      const [logicalId, physicalId] = key.split('|');
      const current = live.get(logicalId);
      if (!version && current && current.physicalId === physicalId && PRINCIPALS.has(current.type)) {
        out.push({ ...current, properties: { ...current.properties, Policies: [], ManagedPolicyArns: [], Groups: [] } });
      }
    }
    for (const [logicalId, res] of live) if (!seen.has(`${logicalId}|${res.physicalId}`)) out.push(res);
    return out;
  }
}

/** The stack's resources by logical id; every change is reported (IAM propagation records them). */
export class TrackedResources extends Map<string, LiveResource> {
  constructor(private readonly onChange: (logicalId: string, before?: LiveResource, after?: LiveResource) => void) {
    super();
  }

  public set(logicalId: string, resource: LiveResource): this {
    const before = this.get(logicalId);
    super.set(logicalId, resource);
    // Called by Map's constructor before onChange is assigned.
    this.onChange?.(logicalId, before, resource);
    return this;
  }

  public delete(logicalId: string): boolean {
    const before = this.get(logicalId);
    const deleted = super.delete(logicalId);
    if (deleted) this.onChange(logicalId, before, undefined);
    return deleted;
  }
}
