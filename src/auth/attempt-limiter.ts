/**
 * Slows down whoever keeps presenting tokens that do not verify. Every failed launch or session
 * exchange costs us a round trip to Bitrix24's OAuth server; without a bound, one client could spend
 * our standing with it. A leaky bucket of failures per client address: `burst` failures are free,
 * then one more per `1 / rate` seconds. Genuine launches never count.
 *
 * Two implementations with one behaviour: in memory (one process; unit tests), and shared by every
 * instance on the store (architecture §5, "several instances"): the counts are `leaky_buckets` rows
 * under a key prefix (`launch:<client>`), so a client that fails on instance A is limited on B too.
 */
import { AppError, isAppError } from '../domain/errors.ts';
import type { Logger } from '../log.ts';
import type { LaunchClaim, VerifiedLaunch, VerifyLaunch } from './launch-verifier.ts';

export interface AttemptLimiter {
  /** False while `key` has used up its failures. */
  allows(key: string): Promise<boolean>;
  recordFailure(key: string): Promise<void>;
}

export interface AttemptLimits {
  burst: number;
  ratePerSec: number;
  /** Keys (clients) remembered at most; the least recently failing go first. */
  maxKeys?: number;
}

export const defaultAttemptLimits: AttemptLimits = { burst: 20, ratePerSec: 1 / 3 };

export function createAttemptLimiter(opts: AttemptLimits = defaultAttemptLimits, now: () => number = () => performance.now() / 1000): AttemptLimiter {
  const buckets = new Map<string, { level: number; at: number }>();
  const maxKeys = opts.maxKeys ?? 50_000;
  const levelOf = (key: string): number => {
    const b = buckets.get(key);
    if (!b) return 0;
    const level = Math.max(0, b.level - (now() - b.at) * opts.ratePerSec);
    if (level === 0) buckets.delete(key);
    return level;
  };
  return {
    allows: async (key) => levelOf(key) + 1 <= opts.burst,
    async recordFailure(key) {
      const level = levelOf(key) + 1;
      buckets.delete(key);
      buckets.set(key, { level, at: now() });
      // Bounded memory: the least recently failing keys go first.
      while (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!);
    },
  };
}

/** The store's `leakyBuckets`, as far as the shared limiter needs it (no store import here). */
export interface SharedAttemptLevels {
  add(key: string, ratePerSec: number, add: number, atLeast?: number): Promise<number>;
  level(key: string, ratePerSec: number): Promise<number>;
  sweep(prefix: string, idleSec: number, maxRows: number): Promise<number>;
}

export interface SharedAttemptOptions extends AttemptLimits {
  /** The rows' key prefix, e.g. `launch:`. */
  prefix: string;
  /** Sweep (idle rows, then all but `maxKeys`) after this many failures recorded here… */
  sweepEvery?: number;
  /** …or when this many seconds have passed since the last sweep and a failure is recorded. */
  sweepIntervalSec?: number;
}

/**
 * The limiter every instance on the store shares. A key's level is a `leaky_buckets` row, drained and
 * bumped in one atomic statement on the database's clock, so N instances count one client's failures
 * once. The rows stay bounded: one idle for `burst / rate` seconds is empty (as good as absent) and
 * goes, and beyond `maxKeys` the least recently failing go first; this instance sweeps every
 * `sweepEvery` failures it records (and at least every `sweepIntervalSec`), so clients with ever new
 * addresses leave at most `maxKeys` plus `sweepEvery` per instance behind.
 *
 * Should the store fail, this instance counts alone (its own failures, which it always records in
 * memory too) rather than refusing or letting everyone through.
 */
export function createSharedAttemptLimiter(
  levels: SharedAttemptLevels,
  opts: SharedAttemptOptions,
  logger?: Logger,
  nowSec: () => number = () => performance.now() / 1000,
): AttemptLimiter & { sweep(): Promise<number> } {
  const local = createAttemptLimiter(opts, nowSec);
  const maxKeys = opts.maxKeys ?? 50_000;
  const sweepEvery = opts.sweepEvery ?? 500;
  const sweepIntervalSec = opts.sweepIntervalSec ?? 60;
  const idleSec = Math.ceil(opts.burst / opts.ratePerSec) + 1;
  const keyOf = (client: string) => opts.prefix + client;
  let warned = false;
  const failed = (error: unknown) => {
    if (!warned) logger?.warn('shared attempt limiter unavailable; counting this instance alone', { error, prefix: opts.prefix });
    warned = true;
  };
  let sinceSweep = 0;
  let lastSweep = nowSec();
  let sweeping: Promise<number> | null = null;
  const sweep = (): Promise<number> => {
    sweeping ??= levels
      .sweep(opts.prefix, idleSec, maxKeys)
      .catch((error: unknown) => {
        failed(error);
        return 0;
      })
      .finally(() => {
        sweeping = null;
      });
    return sweeping;
  };
  return {
    async allows(client) {
      try {
        const level = await levels.level(keyOf(client), opts.ratePerSec);
        warned = false;
        return level + 1 <= opts.burst;
      } catch (error) {
        failed(error);
        return local.allows(client);
      }
    },
    async recordFailure(client) {
      await local.recordFailure(client);
      try {
        await levels.add(keyOf(client), opts.ratePerSec, 1);
      } catch (error) {
        failed(error);
        return;
      }
      sinceSweep++;
      if (sinceSweep >= sweepEvery || nowSec() - lastSweep >= sweepIntervalSec) {
        sinceSweep = 0;
        lastSweep = nowSec();
        void sweep();
      }
    },
    sweep,
  };
}

/**
 * Launch verification behind the limiter: a client that keeps presenting tokens that do not verify
 * gets 429 without another round trip to the OAuth server.
 */
export type VerifyLaunchFrom = (claim: LaunchClaim, clientKey: string) => Promise<VerifiedLaunch>;

export function limitVerification(verify: VerifyLaunch, limiter: AttemptLimiter): VerifyLaunchFrom {
  return async (claim, clientKey) => {
    if (!(await limiter.allows(clientKey))) {
      throw new AppError('rate_limited', 'Too many failed attempts to open the app. Wait a minute and open it from Bitrix24 again.');
    }
    try {
      return await verify(claim);
    } catch (e) {
      if (isAppError(e) && e.code === 'unauthorized') await limiter.recordFailure(clientKey);
      throw e;
    }
  };
}
