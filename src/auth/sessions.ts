/**
 * App sessions (architecture §4.2): a random 256-bit token handed to the page, stored only as its
 * SHA-256. Expiry slides with use but never past an absolute bound; the sliding write happens at
 * most once a minute per session so reads do not turn into writes.
 */
import { systemClock } from '../clock.ts';
import type { Actor, Session } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { randomToken, sha256Hex } from './secrets.ts';

export interface SessionPolicy {
  /** Idle lifetime, seconds. */
  idleTtl: number;
  /** Hard lifetime from creation, seconds. */
  absoluteTtl: number;
  /** Minimum interval between sliding writes, seconds. */
  touchEvery: number;
  /** Live sessions kept per user (tabs, devices); issuing another ends the oldest. */
  maxPerUser: number;
}

export const defaultSessionPolicy: SessionPolicy = { idleTtl: 2 * 3600, absoluteTtl: 24 * 3600, touchEvery: 60, maxPerUser: 20 };

/** Expired rows are removed when presented, and swept at most this often when sessions are issued. */
const SWEEP_EVERY = 600;

export interface IssuedSession {
  token: string;
  expiresAt: number;
}

export interface Sessions {
  issue(actor: Actor): Promise<IssuedSession>;
  /** The live session for a presented token, or null (unknown, expired). */
  verify(token: string): Promise<Session | null>;
  revoke(token: string): Promise<void>;
}

export function createSessions(
  store: Store,
  policy: SessionPolicy = defaultSessionPolicy,
  now: () => number = systemClock.now,
  /** Told of every session issued (the metrics count them). */
  onIssued: () => void = () => undefined,
): Sessions {
  let lastSweep = 0;
  return {
    async issue(actor) {
      const token = randomToken();
      const t = now();
      if (t - lastSweep >= SWEEP_EVERY) {
        lastSweep = t;
        await store.sessions.deleteExpired(t);
      }
      const session: Session = {
        portalId: actor.portalId,
        userId: actor.userId,
        createdAt: t,
        lastUsedAt: t,
        absoluteExpiresAt: t + policy.absoluteTtl,
        expiresAt: Math.min(t + policy.idleTtl, t + policy.absoluteTtl),
      };
      await store.sessions.create(sha256Hex(token), session, policy.maxPerUser);
      onIssued();
      return { token, expiresAt: session.expiresAt };
    },
    async verify(token) {
      if (!token || token.length > 128) return null;
      const idHash = sha256Hex(token);
      const s = await store.sessions.find(idHash);
      const t = now();
      if (!s) return null;
      if (s.expiresAt <= t) {
        await store.sessions.delete(idHash);
        return null;
      }
      if (s.closed) return s; // the app was removed: never slid, it only says so until it expires
      if (t - s.lastUsedAt >= policy.touchEvery) {
        const expiresAt = Math.min(t + policy.idleTtl, s.absoluteExpiresAt);
        await store.sessions.touch(idHash, t, expiresAt);
        return { ...s, lastUsedAt: t, expiresAt };
      }
      return s;
    },
    async revoke(token) {
      await store.sessions.delete(sha256Hex(token));
    },
  };
}
