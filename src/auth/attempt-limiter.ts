/**
 * Slows down whoever keeps presenting tokens that do not verify. Every failed launch or session
 * exchange costs us a round trip to Bitrix24's OAuth server; without a bound, one client could spend
 * our standing with it. A leaky bucket of failures per client address: `burst` failures are free,
 * then one more per `1 / rate` seconds. Genuine launches never count.
 */
import { AppError, isAppError } from '../domain/errors.ts';
import type { LaunchClaim, VerifiedLaunch, VerifyLaunch } from './launch-verifier.ts';

export interface AttemptLimiter {
  /** False while `key` has used up its failures. */
  allows(key: string): boolean;
  recordFailure(key: string): void;
}

export function createAttemptLimiter(
  opts: { burst: number; ratePerSec: number; maxKeys?: number } = { burst: 20, ratePerSec: 1 / 3 },
  now: () => number = () => performance.now() / 1000,
): AttemptLimiter {
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
    allows: (key) => levelOf(key) + 1 <= opts.burst,
    recordFailure(key) {
      const level = levelOf(key) + 1;
      buckets.delete(key);
      buckets.set(key, { level, at: now() });
      // Bounded memory: the least recently failing keys go first.
      while (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!);
    },
  };
}

/**
 * Launch verification behind the limiter: a client that keeps presenting tokens that do not verify
 * gets 429 without another round trip to the OAuth server.
 */
export type VerifyLaunchFrom = (claim: LaunchClaim, clientKey: string) => Promise<VerifiedLaunch>;

export function limitVerification(verify: VerifyLaunch, limiter: AttemptLimiter): VerifyLaunchFrom {
  return async (claim, clientKey) => {
    if (!limiter.allows(clientKey)) {
      throw new AppError('rate_limited', 'Too many failed attempts to open the app. Wait a minute and open it from Bitrix24 again.');
    }
    try {
      return await verify(claim);
    } catch (e) {
      if (isAppError(e) && e.code === 'unauthorized') limiter.recordFailure(clientKey);
      throw e;
    }
  };
}
