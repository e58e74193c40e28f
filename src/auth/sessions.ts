/**
 * App sessions (architecture §4.2): a random 256-bit token handed to the page, stored only as its
 * SHA-256. Expiry slides with use but never past an absolute bound; the sliding write happens at
 * most once a minute per session so reads do not turn into writes.
 *
 * Every request presents its session, so a live one is kept in memory for CACHE_MS (by the token's
 * hash): most requests then skip the session query. What changes a session elsewhere (a revocation,
 * an uninstall closing a portal's sessions, another instance or worker process) is therefore seen
 * within CACHE_MS; this process's own revocations and closings evict at once.
 */
import { systemClock } from '../clock.ts';
import type { Actor, Session } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { ExpiringCache } from './expiring-cache.ts';
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
/** How long a verified session is trusted from memory (the multi-instance promise: within a second). */
const CACHE_MS = 1000;
/** Sessions remembered at once; the oldest entry goes first. */
const CACHE_MAX = 10_000;

export interface IssuedSession {
  token: string;
  expiresAt: number;
}

export interface Sessions {
  issue(actor: Actor): Promise<IssuedSession>;
  /** The live session for a presented token, or null (unknown, expired). */
  verify(token: string): Promise<Session | null>;
  revoke(token: string): Promise<void>;
  /** The portal's sessions were closed or deleted in the store (an uninstall): forget them here. */
  forgetPortal(portalId: number): void;
}

export function createSessions(
  store: Store,
  policy: SessionPolicy = defaultSessionPolicy,
  now: () => number = systemClock.now,
  nowMs: () => number = () => now() * 1000,
  /** Told of every session issued (the metrics count them). */
  onIssued: () => void = () => undefined,
): Sessions {
  let lastSweep = 0;
  const cache = new ExpiringCache<Session>(CACHE_MAX, nowMs);
  const remember = (idHash: string, session: Session) => cache.set(idHash, session, nowMs() + CACHE_MS);
  const stored = async (idHash: string): Promise<Session | null> => {
    const hit = cache.get(idHash);
    if (hit) return hit;
    const s = await store.sessions.find(idHash);
    if (s) remember(idHash, s);
    return s;
  };
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
      const s = await stored(idHash);
      const t = now();
      if (!s) return null;
      if (s.expiresAt <= t) {
        cache.delete(idHash);
        await store.sessions.delete(idHash);
        return null;
      }
      if (s.closed) return s; // the app was removed: never slid, it only says so until it expires
      if (t - s.lastUsedAt >= policy.touchEvery) {
        const expiresAt = Math.min(t + policy.idleTtl, s.absoluteExpiresAt);
        await store.sessions.touch(idHash, t, expiresAt);
        return remember(idHash, { ...s, lastUsedAt: t, expiresAt });
      }
      return s;
    },
    async revoke(token) {
      const idHash = sha256Hex(token);
      cache.delete(idHash);
      await store.sessions.delete(idHash);
    },
    forgetPortal(portalId) {
      cache.deleteWhere((session) => session.portalId === portalId);
    },
  };
}
