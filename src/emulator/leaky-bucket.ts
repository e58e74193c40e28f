/**
 * The portal's request limiter (DOCS limits.md): every REST request adds 1 to a counter that drains by
 * `rate` per second; a request that would take it past `burst` is refused with QUERY_LIMIT_EXCEEDED.
 * A refused request adds nothing, so a client that backs off recovers at the drain rate. It runs on
 * real time, not the emulator's clock: it models a rate, and the app paces itself by real time.
 */
import { realTime } from './clock.ts';

export interface LeakyBucket {
  /** True if the request may run (and is counted); false if it must get 503. */
  take(): boolean;
  level(): number;
}

export function createLeakyBucket(rate: number, burst: number, now: () => number = realTime): LeakyBucket {
  let level = 0;
  let updatedAt = now();
  const drain = () => {
    const t = now();
    level = Math.max(0, level - ((t - updatedAt) / 1000) * rate);
    updatedAt = t;
  };
  return {
    take() {
      drain();
      if (level + 1 > burst) return false;
      level += 1;
      return true;
    },
    level() {
      drain();
      return level;
    },
  };
}
