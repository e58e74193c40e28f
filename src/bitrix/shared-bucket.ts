/**
 * The per-portal bucket shared by every instance of the app (architecture §7, "several instances"):
 * Bitrix24 counts a portal's requests however many servers send them, so N instances must together
 * send no more than one would. The level lives in the store (a row per portal, drained and bumped in
 * one atomic statement on the database's clock); each request takes its slot there and sleeps until
 * it is due, exactly as the in-memory bucket (leaky-bucket.ts) does for one process.
 *
 * The REST client knows the store only through `SharedLevels`, which the store's `leakyBuckets`
 * satisfies. Should the store fail, the process falls back to its own in-memory bucket rather than
 * failing the call: the server's 503s and our back-off still bound the damage.
 */
import type { LeakyBucket, SendSlots } from './leaky-bucket.ts';
import type { Limits } from './types.ts';
import type { Logger } from '../log.ts';

/** A shared, atomic leaky-bucket level per key (the store's `leakyBuckets`). */
export interface SharedLevels {
  /** Drains `key` at `ratePerSec` to now, adds `add`, raises it to `atLeast`; the new level. */
  add(key: string, ratePerSec: number, add: number, atLeast?: number): Promise<number>;
  /** The drained level now, without writing (shares the operating-time figures too when present). */
  level?(key: string, ratePerSec: number): Promise<number>;
}

export function createSharedBucket(
  key: string,
  levels: SharedLevels,
  fallback: LeakyBucket,
  logger?: Logger,
  sleep: (ms: number) => Promise<void> = (ms) => Bun.sleep(ms),
): SendSlots {
  let warned = false;
  const failed = (error: unknown) => {
    if (!warned) logger?.warn('shared REST budget unavailable; pacing this instance alone', { error });
    warned = true;
  };
  return {
    async take() {
      const { rate, burst } = fallback.limits;
      let level: number;
      try {
        level = await levels.add(key, rate, 1);
        warned = false;
      } catch (error) {
        failed(error);
        return fallback.take();
      }
      const wait = level > burst ? Math.ceil(((level - burst) / rate) * 1000) : 0;
      if (wait > 0) await sleep(wait);
      return wait;
    },
    fill() {
      fallback.fill();
      void levels.add(key, fallback.limits.rate, 0, fallback.limits.burst).catch(failed);
    },
    setLimits(limits: Limits) {
      fallback.setLimits(limits);
    },
  };
}
