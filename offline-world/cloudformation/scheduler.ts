import { deploymentOrder, references } from './intrinsics';

/**
 * CloudFormation's scheduler: a resource operation starts as soon as every resource it depends on
 * is done, so independent resources are created, updated and deleted concurrently (creates and
 * updates in dependency order, deletes in reverse dependency order). After the first failure no
 * new operation starts; the ones in progress run to their end (CloudFormation waits for them
 * before it rolls back).
 *
 * Determinism: the ready resources start together, in the template's deployment order, in one
 * tick; which finishes first is then up to the work itself, as in AWS. `parallel: false` runs one
 * operation at a time in deployment order (for debugging a scenario step by step).
 */

/** The resources of `resources` each one depends on (Ref, GetAtt, Sub, DependsOn), within the template. */
export function dependencies(resources: Record<string, any>): Map<string, Set<string>> {
  const deps = new Map<string, Set<string>>();
  for (const [id, res] of Object.entries(resources)) {
    const set = references(res.Properties ?? {});
    for (const d of [res.DependsOn ?? []].flat()) set.add(String(d));
    deps.set(id, new Set([...set].filter((d) => d in resources && d !== id)));
  }
  return deps;
}

/** The resources that depend on each resource of `resources` (the graph deletes walk). */
export function dependents(resources: Record<string, any>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>(Object.keys(resources).map((id) => [id, new Set<string>()]));
  for (const [id, deps] of dependencies(resources)) for (const d of deps) out.get(d)!.add(id);
  return out;
}

/** Options of {@link runGraph}. */
export interface GraphOptions {
  /** Start every ready node at once (default) or one at a time. */
  readonly parallel: boolean;
  /** After a failure, start nothing new (create/update) or keep going where possible (delete, rollback). */
  readonly stopOnFailure: boolean;
  /** Whether a node whose prerequisite failed still runs (rollback Updates) or is skipped (deletes). */
  readonly afterFailedPrerequisite: 'run' | 'skip';
  /**
   * Each operation starts up to this many ms (random) after it is ready (default 0): shakes the
   * order of concurrent operations, to find a dependency a template forgot.
   */
  readonly jitterMs?: number;
}

/** What {@link runGraph} did. */
export interface GraphResult {
  /** Nodes whose work succeeded, in the order they finished. */
  readonly succeeded: string[];
  /** Nodes whose work failed. */
  readonly failed: string[];
  /** Nodes never started (a failure stopped the walk, or a prerequisite failed). */
  readonly skipped: string[];
}

/**
 * Runs `work` for each of `nodes` (given in the order to prefer) once all of its prerequisites
 * among `nodes` are finished. `work` resolves true on success; it must not throw.
 */
export async function runGraph(
  nodes: string[], prerequisites: (id: string) => Iterable<string>, work: (id: string) => Promise<boolean>, options: GraphOptions,
): Promise<GraphResult> {
  const pending = new Set(nodes);
  const before = new Map(nodes.map((id) => [id, [...prerequisites(id)].filter((p) => pending.has(p) && p !== id)]));
  const succeeded: string[] = [];
  const failed: string[] = [];
  const skipped: string[] = [];
  const finished = new Set<string>();
  const running = new Map<string, Promise<void>>();
  let stopped = false;
  for (;;) {
    if (!stopped) {
      for (const id of nodes) {
        if (!pending.has(id)) continue;
        if (!options.parallel && running.size > 0) break;
        const prereqs = before.get(id)!;
        if (!prereqs.every((p) => finished.has(p))) continue;
        if (options.afterFailedPrerequisite === 'skip' && prereqs.some((p) => failed.includes(p) || skipped.includes(p))) {
          pending.delete(id);
          skipped.push(id);
          finished.add(id);
          continue;
        }
        pending.delete(id);
        const started = options.jitterMs ? new Promise<void>((ok) => setTimeout(ok, Math.random() * options.jitterMs!)) : Promise.resolve();
        running.set(id, started.then(() => work(id)).then((ok) => {
          running.delete(id);
          finished.add(id);
          (ok ? succeeded : failed).push(id);
          if (!ok && options.stopOnFailure) stopped = true;
        }));
        if (!options.parallel) break;
      }
    }
    if (running.size === 0) {
      // Nothing runs and nothing more can start: what is pending stays undone.
      if (stopped || ![...pending].some((id) => before.get(id)!.every((p) => finished.has(p)))) break;
      continue;
    }
    await Promise.race(running.values());
  }
  skipped.push(...pending);
  return { succeeded, failed, skipped };
}

/** The deployment order of `resources`, for preferring among ready nodes. */
export function preferredOrder(resources: Record<string, any>): string[] {
  return deploymentOrder(resources);
}
