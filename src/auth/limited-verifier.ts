/**
 * Launch verification behind the failed-attempt limiter: a client that keeps presenting tokens that
 * do not verify gets 429 without another round trip to the OAuth server.
 */
import { AppError, isAppError } from '../domain/errors.ts';
import type { AttemptLimiter } from './attempt-limiter.ts';
import type { LaunchClaim, VerifiedLaunch, VerifyLaunch } from './launch-verifier.ts';

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
