/**
 * A refresh lease, written into the token row itself so it needs nothing from the Store port beyond
 * `replaceIfVersion`: the same tokens with `expiresAt = -(lease end in unix seconds)`.
 *
 * Why the row and not a lock table: the lease must be claimed atomically against the very version a
 * process read, and the CAS on `version` is exactly that. Why a negative expiry: a leased row's access
 * token is already known to be expired, so no reader may mistake it for a usable one, and the lease end
 * survives a crash of the holder — after it passes, another process may claim the row again.
 *
 * If the Store port ever grows a dedicated `claimRefresh`, only this file and token-keeper change.
 */
import type { OAuthTokens, StoredTokens } from '../domain/types.ts';

export const isLeased = (row: StoredTokens): boolean => row.expiresAt < 0;

export const leaseExpired = (row: StoredTokens, nowSec: number): boolean => nowSec > -row.expiresAt;

export function leaseOf(row: StoredTokens, untilSec: number): OAuthTokens {
  return { accessToken: row.accessToken, refreshToken: row.refreshToken, scope: row.scope, expiresAt: -untilSec };
}

/** The row as it was before the lease, for handing it back after a refresh that failed unclearly. */
export function unleased(row: StoredTokens): OAuthTokens {
  return { accessToken: row.accessToken, refreshToken: row.refreshToken, scope: row.scope, expiresAt: Math.max(0, row.expiresAt) };
}
