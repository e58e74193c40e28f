/**
 * The per-method "operating" limit (DOCS limits.md): execution time of one method for one app is summed
 * over a sliding 10-minute window. The check runs before a call, so the call that crosses the limit still
 * finishes and the next one gets 429 OPERATION_TIME_LIMIT. `limitSeconds` undefined turns it off, but the
 * running total is still reported in `time.operating`, as the cloud does. It runs on real time, not the
 * emulator's clock: it models a rate, and `operating_reset_at` must be a moment the app can wait for.
 */
import { realTime } from './clock.ts';

const WINDOW_MS = 10 * 60 * 1000;

interface Sample {
  at: number;
  seconds: number;
}

export interface OperatingUsage {
  operating: number;
  operating_reset_at: number;
}

export interface OperatingLimit {
  isBlocked(key: string): boolean;
  record(key: string, seconds: number): OperatingUsage;
  usage(key: string): OperatingUsage;
}

export function createOperatingLimit(limitSeconds: number | undefined): OperatingLimit {
  const samples = new Map<string, Sample[]>();
  const current = (key: string): Sample[] => {
    const cutoff = realTime() - WINDOW_MS;
    const list = (samples.get(key) ?? []).filter((s) => s.at > cutoff);
    samples.set(key, list);
    return list;
  };
  const usage = (key: string): OperatingUsage => {
    const list = current(key);
    const total = list.reduce((sum, s) => sum + s.seconds, 0);
    const oldest = list[0]?.at ?? realTime();
    return { operating: Math.round(total * 1e6) / 1e6, operating_reset_at: Math.floor((oldest + WINDOW_MS) / 1000) };
  };
  return {
    isBlocked(key) {
      return limitSeconds !== undefined && usage(key).operating >= limitSeconds;
    },
    record(key, seconds) {
      current(key).push({ at: realTime(), seconds });
      return usage(key);
    },
    usage,
  };
}
