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
  /** Milliseconds to wait before calling `method` now (0 when clear). */
  delayFor(method: string): number;
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
      const share = s.operating / opts.limitSec;
      if (share <= opts.slowdownShare) return 0;
      const over = Math.min(1, (share - opts.slowdownShare) / (1 - opts.slowdownShare));
      return Math.round(over * opts.maxSlowdownMs);
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
