/**
 * Remembers successful launch verifications per token hash until the token expires, so a page that
 * renews its session or reloads does not cost two more round trips to Bitrix24. Bounded in size;
 * the oldest entries go first. Failures are never cached.
 */
import { systemClock } from '../clock.ts';

export class VerdictCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = systemClock.now,
  ) {}

  get(key: string): T | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  /** Drops every entry whose value matches (a portal's verdicts once the app is removed from it). */
  deleteWhere(matches: (value: T) => boolean): number {
    let n = 0;
    for (const [key, hit] of this.entries) {
      if (matches(hit.value)) {
        this.entries.delete(key);
        n++;
      }
    }
    return n;
  }

  set(key: string, value: T, until: number): void {
    if (until <= this.now()) return;
    this.entries.delete(key);
    this.entries.set(key, { value, until });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
