/**
 * A bounded map whose entries expire: what the auth layer remembers briefly (launch verdicts, live
 * sessions, who a session's user is, a portal's subscription). Times are whatever unit the given
 * clock reads; the oldest entry written goes first once the map is full (expired or not). Nothing
 * here outlives the process, so every user states how stale an answer it accepts.
 */
import { systemClock } from '../clock.ts';

export class ExpiringCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = systemClock.now,
  ) {}

  /** The live value for `key` (an expired one stays, for `peek`, until replaced or pushed out). */
  get(key: string): T | undefined {
    const hit = this.entries.get(key);
    return hit && hit.until > this.now() ? hit.value : undefined;
  }

  /** The last value stored for `key`, expired or not (what was known, never a fresh answer). */
  peek(key: string): T | undefined {
    return this.entries.get(key)?.value;
  }

  /** Keeps `value` until `until` (an instant already past stores nothing); returns it. */
  set(key: string, value: T, until: number): T {
    this.entries.delete(key);
    if (until <= this.now()) return value;
    this.entries.set(key, { value, until });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every entry whose value matches (a portal's entries once the app is removed from it). */
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
}
