/** The sessions' rows, and the OAuth sign-in states that lead to a session. */
import type { Database } from 'bun:sqlite';
import type { Session } from '../../domain/types.ts';
import type { OAuthStateRepo, SessionRepo } from '../store.ts';

interface SessionRow {
  portal_id: number;
  user_id: number;
  created_at: number;
  expires_at: number;
  absolute_expires_at: number;
  last_used_at: number;
  closed: number;
  member_id: string | null;
}

const toSession = (r: SessionRow): Session => ({
  portalId: r.portal_id,
  userId: r.user_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  absoluteExpiresAt: r.absolute_expires_at,
  lastUsedAt: r.last_used_at,
  ...(r.closed ? { closed: true } : {}),
  ...(r.member_id !== null ? { memberId: r.member_id } : {}),
});

export function createSessionRepo(db: Database): SessionRepo {
  const insert = db.query(
    `INSERT INTO sessions (id_hash, portal_id, user_id, created_at, expires_at, absolute_expires_at, last_used_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const trim = db.query<unknown, [number, number, number]>(
    `DELETE FROM sessions WHERE portal_id = ?1 AND user_id = ?2 AND id_hash NOT IN (
       SELECT id_hash FROM sessions WHERE portal_id = ?1 AND user_id = ?2 ORDER BY created_at DESC, rowid DESC LIMIT ?3)`,
  );
  const create = db.transaction((idHash: string, s: Session, keep: number) => {
    insert.run(idHash, s.portalId, s.userId, s.createdAt, s.expiresAt, s.absoluteExpiresAt, s.lastUsedAt);
    trim.run(s.portalId, s.userId, keep);
  });
  // The portal's member_id comes along (a primary-key lookup) so the access log can name the portal
  // without a query of its own. A subquery, not a LEFT JOIN: SQLite plans the join ~7x slower here.
  const find = db.query<SessionRow, [string]>(
    'SELECT s.*, (SELECT member_id FROM portals WHERE id = s.portal_id) AS member_id FROM sessions s WHERE s.id_hash = ?',
  );
  const touch = db.query('UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE id_hash = ?');
  const remove = db.query('DELETE FROM sessions WHERE id_hash = ?');
  const removePortal = db.query('DELETE FROM sessions WHERE portal_id = ?');
  const removeExpired = db.query('DELETE FROM sessions WHERE expires_at <= ?');
  return {
    create: async (idHash, s, keepPerUser) => create(idHash, s, keepPerUser),
    find: async (idHash) => {
      const r = find.get(idHash);
      return r ? toSession(r) : null;
    },
    touch: async (idHash, lastUsedAt, expiresAt) => {
      touch.run(lastUsedAt, expiresAt, idHash);
    },
    delete: async (idHash) => {
      remove.run(idHash);
    },
    deleteForPortal: async (portalId) => {
      removePortal.run(portalId);
    },
    deleteExpired: async (now) => removeExpired.run(now).changes,
  };
}

export function createOAuthStateRepo(db: Database): OAuthStateRepo {
  const insert = db.query('INSERT INTO oauth_states (nonce_hash, domain, created_at) VALUES (?, ?, ?)');
  // DELETE ... RETURNING makes "check and use" one atomic step: a state works once.
  const consume = db.query<{ domain: string; created_at: number }, [string]>(
    'DELETE FROM oauth_states WHERE nonce_hash = ? RETURNING domain, created_at',
  );
  const sweep = db.query('DELETE FROM oauth_states WHERE created_at < ?');
  const pending = db.query<{ n: number }, []>('SELECT count(*) AS n FROM oauth_states');
  const create = db.transaction((nonceHash: string, domain: string, createdAt: number, notBefore: number, maxPending: number) => {
    sweep.run(notBefore);
    if (pending.get()!.n >= maxPending) return false;
    insert.run(nonceHash, domain, createdAt);
    return true;
  });
  return {
    create: async (nonceHash, domain, createdAt, notBefore, maxPending) => create(nonceHash, domain, createdAt, notBefore, maxPending),
    consume: async (nonceHash, notBefore) => {
      sweep.run(notBefore);
      const r = consume.get(nonceHash);
      return r && r.created_at >= notBefore ? { domain: r.domain } : null;
    },
  };
}
