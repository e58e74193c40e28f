/**
 * Bitrix24's second limit: execution time per method, summed over a sliding ten minutes
 * (bitrix24-platform.md §5). Every answer reports the running total in `time.operating` and when the
 * oldest minute drops out in `time.operating_reset_at`. The server checks before running a call, so
 * the call that crosses the limit succeeds and the next one gets 429 `OPERATION_TIME_LIMIT`.
 *
 * Per portal we remember the latest figures per method and
 * - above `slowdownShare` of the limit, space calls to that method out (up to `maxSlowdownMs`), so a
 *   heavy list loop eases off before it locks the method for everyone in the app;
 * - after a 429, hold every call to that method until the reset instead of letting each one fail.
 */
import type { RestTime } from './types.ts';

export interface OperatingBudget {
  /** Milliseconds to wait before calling `method` now (0 when clear); the shared budget asks the store. */
  delayFor(method: string): number | Promise<number>;
  record(method: string, time: RestTime | undefined): void;
  /** The server refused with 429; returns the ms until the method should be free again. */
  blocked(method: string): number;
}

export interface OperatingOptions {
  /** The portal's limit in seconds per ten minutes (cloud default 480). */
  limitSec: number;
  slowdownShare: number;
  maxSlowdownMs: number;
  /** Wait after a 429 when no reset time is known. */
  fallbackBlockMs: number;
}

export const defaultOperatingOptions: OperatingOptions = {
  limitSec: 480,
  slowdownShare: 0.8,
  maxSlowdownMs: 7_000,
  fallbackBlockMs: 10_000,
};

interface MethodState {
  operating: number;
  resetAtMs: number;
  blockedUntilMs: number;
}

export function createOperatingBudget(opts: OperatingOptions = defaultOperatingOptions, now: () => number = Date.now): OperatingBudget {
  const methods = new Map<string, MethodState>();
  const stateOf = (method: string): MethodState => {
    const key = method.toLowerCase();
    let s = methods.get(key);
    if (!s) {
      s = { operating: 0, resetAtMs: 0, blockedUntilMs: 0 };
      methods.set(key, s);
    }
    return s;
  };

  return {
    delayFor(method) {
      const s = methods.get(method.toLowerCase());
      if (!s) return 0;
      const t = now();
      if (s.blockedUntilMs > t) return s.blockedUntilMs - t;
      // After the reset the figure we hold is stale (too high); the next answer brings a fresh one.
      if (s.resetAtMs && t >= s.resetAtMs) return 0;
      return slowdownFor(s.operating, opts);
    },
    record(method, time) {
      if (!time || typeof time.operating !== 'number') return;
      const s = stateOf(method);
      s.operating = time.operating;
      if (typeof time.operating_reset_at === 'number') s.resetAtMs = time.operating_reset_at * 1000;
    },
    blocked(method) {
      const s = stateOf(method);
      const t = now();
      const until = s.resetAtMs > t ? s.resetAtMs : t + opts.fallbackBlockMs;
      s.blockedUntilMs = Math.max(s.blockedUntilMs, until);
      return s.blockedUntilMs - t;
    },
  };
}

function slowdownFor(operating: number, opts: OperatingOptions): number {
  const share = operating / opts.limitSec;
  if (share <= opts.slowdownShare) return 0;
  const over = Math.min(1, (share - opts.slowdownShare) / (1 - opts.slowdownShare));
  return Math.round(over * opts.maxSlowdownMs);
}

/** The store's `leakyBuckets`, as far as the shared budget needs it. */
export interface SharedFigures {
  add(key: string, ratePerSec: number, add: number, atLeast?: number): Promise<number>;
  level(key: string, ratePerSec: number): Promise<number>;
}

/*
 * One row per portal and method (`op:<host>:<method>`), its level the latest figures packed in one
 * number: the reset time (unix seconds) times FIGURE_SPAN plus the seconds used (capped below it).
 * Rows only rise (the store's `add` with a floor and no drain), and that is the right merge: within one
 * window (same reset) the sum only grows, and a later reset is a newer window. A 429 is published as
 * the limit used up until the reset, so the other instances hold the method too.
 */
const FIGURE_SPAN = 1024;
const pack = (resetAtMs: number, operating: number) => Math.floor(resetAtMs / 1000) * FIGURE_SPAN + Math.min(FIGURE_SPAN - 1, Math.max(0, operating));
const unpack = (level: number) => {
  const resetSec = Math.floor(level / FIGURE_SPAN);
  return { resetAtMs: resetSec * 1000, operating: level - resetSec * FIGURE_SPAN };
};

/**
 * The operating budget every instance shares (architecture §5, "several instances"): each answer's
 * figures and each 429 go to the store, and before a call the method's shared figures count as much as
 * this process's own. Bitrix24 sums the method's time over every instance's calls, so an instance that
 * has not called the method lately learns from the others how near the limit it is, and a method one
 * instance saw locked is held on all of them until its reset instead of costing each a refused call.
 * Store errors leave this process's own budget in charge.
 */
export function createSharedOperatingBudget(
  keyPrefix: string,
  figures: SharedFigures,
  own: OperatingBudget,
  opts: OperatingOptions = defaultOperatingOptions,
  now: () => number = Date.now,
): OperatingBudget {
  const keyOf = (method: string) => `${keyPrefix}:${method.toLowerCase()}`;
  const publish = (method: string, resetAtMs: number, operating: number) =>
    void figures.add(keyOf(method), 0, 0, pack(resetAtMs, operating)).catch(() => undefined);
  return {
    async delayFor(method) {
      const mine = await own.delayFor(method);
      let level: number;
      try {
        level = await figures.level(keyOf(method), 0);
      } catch {
        return mine;
      }
      if (!level) return mine;
      const { resetAtMs, operating } = unpack(level);
      const t = now();
      if (resetAtMs <= t) return mine; // stale: the next answer brings fresh figures
      const shared = operating >= opts.limitSec ? resetAtMs - t : slowdownFor(operating, opts);
      return Math.max(mine, shared);
    },
    record(method, time) {
      own.record(method, time);
      if (!time || typeof time.operating !== 'number') return;
      // Without a reset time the figure covers at most the next ten minutes.
      const resetAtMs = typeof time.operating_reset_at === 'number' ? time.operating_reset_at * 1000 : now() + 600_000;
      publish(method, resetAtMs, time.operating);
    },
    blocked(method) {
      const waitMs = own.blocked(method);
      publish(method, now() + waitMs, opts.limitSec);
      return waitMs;
    },
  };
}
