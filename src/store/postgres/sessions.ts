/** The sessions' rows, and the OAuth sign-in states that lead to a session. */
import type { SQL } from 'bun';
import type { Session } from '../../domain/types.ts';
import type { OAuthStateRepo, SessionRepo } from '../store.ts';
import { num } from './rows.ts';

interface SessionRow {
  portal_id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
  absolute_expires_at: string;
  last_used_at: string;
  closed: boolean;
  member_id: string | null;
}

const toSession = (r: SessionRow): Session => ({
  portalId: num(r.portal_id),
  userId: num(r.user_id),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  absoluteExpiresAt: num(r.absolute_expires_at),
  lastUsedAt: num(r.last_used_at),
  ...(r.closed ? { closed: true } : {}),
  ...(r.member_id !== null ? { memberId: r.member_id } : {}),
});

export function createSessionRepo(sql: SQL): SessionRepo {
  return {
    create: async (idHash, s, keep) => {
      await sql.begin(async (tx) => {
        // The user's row, locked: two sign-ins of one user at once trim one after the other, so
        // neither leaves more than `keep` (each would otherwise not see the other's new row).
        await tx`SELECT 1 FROM users WHERE portal_id = ${s.portalId} AND user_id = ${s.userId} FOR UPDATE`;
        await tx`
          INSERT INTO sessions (id_hash, portal_id, user_id, created_at, expires_at, absolute_expires_at, last_used_at)
          VALUES (${idHash}, ${s.portalId}, ${s.userId}, ${s.createdAt}, ${s.expiresAt}, ${s.absoluteExpiresAt}, ${s.lastUsedAt})`;
        await tx`
          DELETE FROM sessions WHERE portal_id = ${s.portalId} AND user_id = ${s.userId} AND id_hash NOT IN (
            SELECT id_hash FROM sessions WHERE portal_id = ${s.portalId} AND user_id = ${s.userId}
            ORDER BY created_at DESC, seq DESC LIMIT ${keep})`;
      });
    },
    find: async (idHash) => {
      // The portal's member_id comes along so the access log can name the portal without a query of its own.
      const [r] = await sql`SELECT s.*, (SELECT member_id FROM portals WHERE id = s.portal_id) AS member_id FROM sessions s WHERE s.id_hash = ${idHash}`;
      return r ? toSession(r as SessionRow) : null;
    },
    touch: async (idHash, lastUsedAt, expiresAt) => {
      await sql`UPDATE sessions SET last_used_at = ${lastUsedAt}, expires_at = ${expiresAt} WHERE id_hash = ${idHash}`;
    },
    delete: async (idHash) => {
      await sql`DELETE FROM sessions WHERE id_hash = ${idHash}`;
    },
    deleteForPortal: async (portalId) => {
      await sql`DELETE FROM sessions WHERE portal_id = ${portalId}`;
    },
    deleteExpired: async (now) => (await sql`DELETE FROM sessions WHERE expires_at <= ${now}`).count,
  };
}

export function createOAuthStateRepo(sql: SQL): OAuthStateRepo {
  return {
    create: (nonceHash, domain, createdAt, notBefore, maxPending) =>
      sql.begin(async (tx) => {
        // The cap holds across instances: creators take turns (a lock held for this short transaction only).
        await tx`LOCK TABLE oauth_states IN SHARE ROW EXCLUSIVE MODE`;
        await tx`DELETE FROM oauth_states WHERE created_at < ${notBefore}`;
        const [{ n }] = await tx`SELECT count(*)::int AS n FROM oauth_states`;
        if (n >= maxPending) return false;
        await tx`INSERT INTO oauth_states (nonce_hash, domain, created_at) VALUES (${nonceHash}, ${domain}, ${createdAt})`;
        return true;
      }),
    consume: async (nonceHash, notBefore) => {
      await sql`DELETE FROM oauth_states WHERE created_at < ${notBefore}`;
      // DELETE ... RETURNING makes "check and use" one atomic step: a state works once.
      const [r] = await sql`DELETE FROM oauth_states WHERE nonce_hash = ${nonceHash} RETURNING domain, created_at`;
      return r && num(r.created_at) >= notBefore ? { domain: r.domain as string } : null;
    },
  };
}
