/**
 * Work the AEP stand-in schedules for later: delayed responses and applications (`delay`,
 * `apply: 'later'` faults), reveals of `eventual` creates and accepted deletes (async-delete.ts).
 * `settle` waits for it, `flush` runs it now, `cancelAll` drops it on reset or close.
 */

/** Work scheduled for later (a delayed response, a delayed application, a reveal). */
interface Deferred {
  readonly timer: NodeJS.Timeout;
  readonly work: () => void;
  /** Called instead of `work` when the stand-in resets or closes first. */
  readonly cancel: () => void;
  readonly done: Promise<void>;
  readonly finish: () => void;
}

/** The scheduled work of one stand-in. */
export class DeferredWork {
  private readonly entries = new Set<Deferred>();

  /** How many scheduled items have not run yet. */
  get size(): number {
    return this.entries.size;
  }

  /** Schedules `work` in `ms`; {@link settle} waits for it, {@link cancelAll} calls `cancel` instead. */
  defer(ms: number, work: () => void, cancel: () => void = () => undefined): void {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const entry: Deferred = { timer: setTimeout(() => this.run(entry), ms), work, cancel, done, finish };
    this.entries.add(entry);
  }

  /** Resolves once nothing is scheduled (waits in real time). */
  async settle(): Promise<void> {
    while (this.entries.size > 0) {
      await Promise.all([...this.entries].map((entry) => entry.done));
    }
  }

  /** Runs everything scheduled now, as if its time had come. */
  flush(): void {
    // Bounded: work never schedules more than one level of further work.
    for (let round = 0; round < 10 && this.entries.size > 0; round++) {
      for (const entry of [...this.entries]) {
        clearTimeout(entry.timer);
        this.run(entry);
      }
    }
  }

  /** Drops everything scheduled, calling each item's `cancel`. */
  cancelAll(): void {
    for (const entry of [...this.entries]) {
      clearTimeout(entry.timer);
      this.entries.delete(entry);
      entry.cancel();
      entry.finish();
    }
  }

  private run(entry: Deferred): void {
    if (!this.entries.delete(entry)) {
      return;
    }
    try {
      entry.work();
    } finally {
      entry.finish();
    }
  }
}
