/**
 * Asynchronous flow deletion. [spec-dst] answers `DELETE /flows/{id}` with **202 Accepted**
 * (DATAFLOWS §3.8, §4.9): the flow is removed some time after the answer, and until then it still
 * reads back and still blocks its connections (`1447-400` "Found active flows", `1418-400`).
 * A client that deletes the target connection right after the 202 is refused; one that waits for
 * `GET /flows/{id}` → 404 is not.
 */

/**
 * Default time between the 202 and the flow's disappearance. AEP prints no figure; a few hundred
 * milliseconds is long enough that a client which does not wait is refused, short enough for tests.
 */
export const DEFAULT_FLOW_DELETE_DELAY_MS = 300;

/** Schedules `work` after `ms` on the stand-in's clock (pending until then: `settle` waits for it). */
export type Defer = (ms: number, work: () => void) => void;

/** Flows whose deletion AEP accepted but has not carried out yet. */
export class AsyncDeletes {
  private readonly pending = new Set<string>();
  /** Time from the 202 to the removal; 0 removes at once. Back to the initial value on {@link clear}. */
  public delayMs: number;

  constructor(private readonly initialDelayMs: number = DEFAULT_FLOW_DELETE_DELAY_MS) {
    if (!Number.isFinite(initialDelayMs) || initialDelayMs < 0) throw new Error(`flow delete delay must be >= 0 ms, got ${initialDelayMs}`);
    this.delayMs = initialDelayMs;
  }

  /** Whether a deletion of `id` was accepted and is still in progress. */
  public isDeleting(id: string): boolean {
    return this.pending.has(id);
  }

  /**
   * Accepts the deletion of `id`: `remove` runs after {@link delayMs}. A second DELETE while the
   * first is in progress is accepted again and changes nothing (the flow still exists).
   */
  public accept(id: string, remove: () => void, defer: Defer): void {
    if (this.pending.has(id)) return;
    if (this.delayMs === 0) {
      remove();
      return;
    }
    this.pending.add(id);
    defer(this.delayMs, () => {
      this.pending.delete(id);
      remove();
    });
  }

  /** Forgets every deletion in progress (the stand-in's reset cancels the scheduled removals); initial delay. */
  public clear(): void {
    this.pending.clear();
    this.delayMs = this.initialDelayMs;
  }
}
