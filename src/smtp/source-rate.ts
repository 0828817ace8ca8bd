/**
 * How many events each source had within a sliding window, in memory. Only whether a source
 * reached `cap` matters, so at most `cap` instants are kept per source, and at most `maxSources`
 * sources (the one with the oldest last event is forgotten first): a flood from many addresses
 * stays bounded.
 */
export class SourceRate {
  private readonly events = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly cap: number,
    private readonly maxSources = 10_000,
  ) {}

  /** Events of `source` within the window ending at `now` (at most `cap`). */
  count(source: string, now: number): number {
    return this.recent(source, now).length;
  }

  add(source: string, now: number): void {
    const list = this.recent(source, now);
    list.push(now);
    if (list.length > this.cap) list.shift();
    this.events.delete(source);
    this.events.set(source, list);
    if (this.events.size > this.maxSources) {
      const oldest = this.events.keys().next().value;
      if (oldest !== undefined) this.events.delete(oldest);
    }
  }

  private recent(source: string, now: number): number[] {
    const list = this.events.get(source) ?? [];
    while (list.length > 0 && list[0]! <= now - this.windowMs) list.shift();
    if (list.length === 0) this.events.delete(source);
    return list;
  }
}
