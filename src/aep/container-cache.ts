/**
 * What the handler reads from AEP once per Lambda container (live connection and flow specs): a
 * promise per key, shared by concurrent callers; a failed read is forgotten so the next event
 * tries again instead of repeating the failure.
 */
export class ContainerCache<T> {
  private readonly entries = new Map<string, Promise<T>>();

  /** The cached value for `key`, loading it with `load` on first use (or after a failure). */
  public get(key: string, load: () => Promise<T>): Promise<T> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = load();
      this.entries.set(key, entry);
      entry.catch(() => this.entries.delete(key));
    }
    return entry;
  }

  /** Drops everything (tests switch the stand-in's variant between cases). */
  public clear(): void {
    this.entries.clear();
  }
}
