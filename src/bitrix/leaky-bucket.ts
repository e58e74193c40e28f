/**
 * Client-side twin of Bitrix24's per-portal leaky bucket (bitrix24-platform.md §5): every request adds
 * one, the level drains by `rate` per second, and the server refuses a request once the level would
 * pass `burst`. We hand out send slots so our own level never passes `burst`, which keeps a single
 * process off the server's 503s; the server's limit is also shared with other apps on the same IP, so
 * `fill()` lets a 503 tell us the server's bucket is fuller than ours thinks.
 *
 * Slots are reserved synchronously (`reserve` returns the wait), so concurrent callers queue in call
 * order without a lock.
 */
import type { Limits } from './types.ts';

/** What the request runner needs of a portal's bucket, in memory or shared (shared-bucket.ts). */
export interface SendSlots {
  /** Reserves one request; resolves when it may be sent, with the milliseconds it waited (metrics). */
  take(): Promise<number>;
  /** Treat the bucket as full now (the server said so). */
  fill(): void;
  setLimits(limits: Limits): void;
}

export interface LeakyBucket extends SendSlots {
  /** Milliseconds a request reserved now would wait (and reserves it). */
  reserve(): number;
  /** The level drained to now: requests the server still counts (the admin page shows it). */
  level(): number;
  readonly limits: Limits;
}

export function createLeakyBucket(
  initial: Limits,
  now: () => number = Date.now,
  sleep: (ms: number) => Promise<void> = (ms) => Bun.sleep(ms),
): LeakyBucket {
  let limits = sanitize(initial);
  // Level as of `at`: the bucket's content, counting reservations that have not been sent yet.
  let level = 0;
  let at = now();

  const drainTo = (t: number) => {
    level = Math.max(0, level - ((t - at) / 1000) * limits.rate);
    at = t;
  };

  const reserve = (): number => {
    const t = now();
    drainTo(t);
    level += 1;
    // Over `burst` the request must wait until enough has drained for it to fit.
    const excess = level - limits.burst;
    return excess > 0 ? Math.ceil((excess / limits.rate) * 1000) : 0;
  };

  return {
    reserve,
    level() {
      drainTo(now());
      return level;
    },
    async take() {
      const wait = reserve();
      if (wait > 0) await sleep(wait);
      return wait;
    },
    fill() {
      drainTo(now());
      level = Math.max(level, limits.burst);
    },
    setLimits(next) {
      drainTo(now());
      limits = sanitize(next);
    },
    get limits() {
      return limits;
    },
  };
}

function sanitize(l: Limits): Limits {
  return { rate: l.rate > 0 ? l.rate : 2, burst: l.burst >= 1 ? Math.floor(l.burst) : 1 };
}
