import type { Clock } from '../../clock.ts';
import type { Database } from 'bun:sqlite';
import type { TokenCipher } from '../store.ts';
import type { OAuthTokens, StoredTokens, TokenOwner } from '../../domain/types.ts';
import type { TokenRepo } from '../store.ts';

interface TokenRow {
  portal_id: number;
  kind: 'app' | 'user';
  user_id: number;
  access_token_enc: string;
  refresh_token_enc: string;
  expires_at: number;
  scope: string;
  version: number;
  dead: number;
  dead_code: string | null;
  dead_at: number | null;
  refresh_lease_until: number | null;
  updated_at: number;
}

/** `kind='app'` has one row per portal; `kind='user'` one per (portal, user). */
const ownerWhere = (owner: TokenOwner): { clause: string; params: Record<string, number> } =>
  owner.kind === 'app'
    ? { clause: "portal_id = $portal_id AND kind = 'app'", params: {} }
    : { clause: "portal_id = $portal_id AND kind = 'user' AND user_id = $owner_id", params: { owner_id: owner.userId } };

export function createTokenRepo(db: Database, cipher: TokenCipher, clock: Clock): TokenRepo {
  const toStored = (r: TokenRow): StoredTokens => ({
    portalId: r.portal_id,
    owner: r.kind === 'app' ? { kind: 'app' } : { kind: 'user', userId: r.user_id },
    userId: r.user_id,
    accessToken: cipher.decrypt(r.access_token_enc),
    refreshToken: cipher.decrypt(r.refresh_token_enc),
    expiresAt: r.expires_at,
    scope: r.scope,
    version: r.version,
    dead: r.dead === 1,
    refusal: r.dead === 1 && r.dead_code !== null && r.dead_at !== null ? { code: r.dead_code, at: r.dead_at } : null,
    refreshLeaseUntil: r.refresh_lease_until,
    issuedAt: r.updated_at,
  });
  const sealed = (t: OAuthTokens) => ({
    access_token_enc: cipher.encrypt(t.accessToken),
    refresh_token_enc: cipher.encrypt(t.refreshToken),
    expires_at: t.expiresAt,
    scope: t.scope,
    now: clock.now(),
  });

  const find = (portalId: number, owner: TokenOwner) => {
    const w = ownerWhere(owner);
    const r = db.query<TokenRow, Record<string, number>>(`SELECT * FROM portal_tokens WHERE ${w.clause}`).get({
      portal_id: portalId,
      ...w.params,
    });
    return r ? toStored(r) : null;
  };

  return {
    find: async (portalId, owner) => find(portalId, owner),
    save: async (portalId, owner, userId, tokens) => {
      const w = ownerWhere(owner);
      const params = { portal_id: portalId, ...w.params };
      db.transaction(() => {
        const updated = db
          .query(
            `UPDATE portal_tokens SET user_id = $user_id, access_token_enc = $access_token_enc,
               refresh_token_enc = $refresh_token_enc, expires_at = $expires_at, scope = $scope,
               version = version + 1, dead = 0, dead_code = NULL, dead_at = NULL, refresh_lease_until = NULL, updated_at = $now
             WHERE ${w.clause}`,
          )
          .run({ ...params, user_id: userId, ...sealed(tokens) });
        if (updated.changes === 0) {
          db.query(
            `INSERT INTO portal_tokens (portal_id, kind, user_id, access_token_enc, refresh_token_enc, expires_at,
               scope, version, dead, updated_at)
             VALUES ($portal_id, $kind, $user_id, $access_token_enc, $refresh_token_enc, $expires_at, $scope, 1, 0, $now)`,
          ).run({ portal_id: portalId, kind: owner.kind, user_id: userId, ...sealed(tokens) });
        }
      }).immediate();
      return find(portalId, owner)!;
    },
    replaceIfVersion: async (portalId, owner, expectedVersion, tokens) => {
      const w = ownerWhere(owner);
      const res = db
        .query(
          `UPDATE portal_tokens SET access_token_enc = $access_token_enc, refresh_token_enc = $refresh_token_enc,
             expires_at = $expires_at, scope = $scope, version = version + 1, dead = 0, dead_code = NULL, dead_at = NULL,
             refresh_lease_until = NULL, updated_at = $now
           WHERE ${w.clause} AND version = $expected`,
        )
        .run({ portal_id: portalId, ...w.params, expected: expectedVersion, ...sealed(tokens) });
      return res.changes === 1 ? find(portalId, owner) : null;
    },
    markDead: async (portalId, owner, expectedVersion, refusal) => {
      const w = ownerWhere(owner);
      db.query(
        `UPDATE portal_tokens SET dead = 1, dead_code = $code, dead_at = $at, refresh_lease_until = NULL
         WHERE ${w.clause} AND version = $expected`,
      ).run({ portal_id: portalId, ...w.params, expected: expectedVersion, code: refusal.code, at: refusal.at });
    },
    claimRefresh: async (portalId, owner, expectedVersion, leaseUntil) => {
      const w = ownerWhere(owner);
      const res = db
        .query(
          `UPDATE portal_tokens SET refresh_lease_until = $until, version = version + 1
           WHERE ${w.clause} AND version = $expected`,
        )
        .run({ portal_id: portalId, ...w.params, expected: expectedVersion, until: leaseUntil });
      return res.changes === 1 ? find(portalId, owner) : null;
    },
    releaseRefresh: async (portalId, owner, expectedVersion) => {
      const w = ownerWhere(owner);
      db.query(
        `UPDATE portal_tokens SET refresh_lease_until = NULL, version = version + 1 WHERE ${w.clause} AND version = $expected`,
      ).run({ portal_id: portalId, ...w.params, expected: expectedVersion });
    },
    deleteForPortal: async (portalId) => {
      db.query('DELETE FROM portal_tokens WHERE portal_id = ?').run(portalId);
    },
    listDormant: async (issuedBefore, limit, after) =>
      db
        .query<{ id: number; portal_id: number; kind: 'app' | 'user'; user_id: number; updated_at: number }, [number, number, number, number, number]>(
          `SELECT t.id, t.portal_id, t.kind, t.user_id, t.updated_at FROM portal_tokens t JOIN portals p ON p.id = t.portal_id
           WHERE p.status = 'installed' AND t.dead = 0 AND t.updated_at < ?
             AND (t.updated_at > ? OR (t.updated_at = ? AND t.id > ?))
             AND (t.kind = 'app' OR EXISTS (SELECT 1 FROM items i WHERE i.portal_id = t.portal_id
                                            AND i.owner_id = t.user_id AND i.calendar_event_id IS NOT NULL))
           ORDER BY t.updated_at, t.id LIMIT ?`,
        )
        .all(issuedBefore, after?.issuedAt ?? -1, after?.issuedAt ?? -1, after?.id ?? 0, limit)
        .map((r) => ({
          portalId: r.portal_id,
          owner: r.kind === 'app' ? { kind: 'app' as const } : { kind: 'user' as const, userId: r.user_id },
          cursor: { issuedAt: r.updated_at, id: r.id },
        })),
    keyMatches: async () => {
      const r = db.query<{ enc: string }, []>('SELECT refresh_token_enc AS enc FROM portal_tokens LIMIT 1').get();
      if (!r) return true;
      try {
        cipher.decrypt(r.enc);
        return true;
      } catch {
        return false;
      }
    },
  };
}
