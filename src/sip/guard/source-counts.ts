/** How many open things (connections, dialogs) each source address holds. */
export class SourceCounts {
  private readonly counts = new Map<string, number>();

  of(source: string): number {
    return this.counts.get(source) ?? 0;
  }

  add(source: string): void {
    this.counts.set(source, this.of(source) + 1);
  }

  /** One fewer for `source`; an address at zero is forgotten (memory stays bounded by what is open). */
  remove(source: string): void {
    const n = this.of(source);
    if (n <= 1) this.counts.delete(source);
    else this.counts.set(source, n - 1);
  }
}
