import type { SQL } from 'bun';
import type { Clock } from '../../clock.ts';
import type { OAuthTokens, StoredTokens, TokenOwner } from '../../domain/types.ts';
import type { TokenCipher, TokenRepo } from '../store.ts';
import { num, numOrNull } from './rows.ts';

interface TokenRow {
  portal_id: string;
  kind: 'app' | 'user';
  user_id: string;
  access_token_enc: string;
  refresh_token_enc: string;
  expires_at: string;
  scope: string;
  version: number;
  dead: boolean;
  dead_code: string | null;
  dead_at: string | null;
  refresh_lease_until: string | null;
  updated_at: string;
}

export function createTokenRepo(sql: SQL, cipher: TokenCipher, clock: Clock): TokenRepo {
  const toStored = (r: TokenRow): StoredTokens => ({
    portalId: num(r.portal_id),
    owner: r.kind === 'app' ? { kind: 'app' } : { kind: 'user', userId: num(r.user_id) },
    userId: num(r.user_id),
    accessToken: cipher.decrypt(r.access_token_enc),
    refreshToken: cipher.decrypt(r.refresh_token_enc),
    expiresAt: num(r.expires_at),
    scope: r.scope,
    version: num(r.version),
    dead: r.dead === true,
    refusal: r.dead === true && r.dead_code !== null && r.dead_at !== null ? { code: r.dead_code, at: num(r.dead_at) } : null,
    refreshLeaseUntil: numOrNull(r.refresh_lease_until),
    issuedAt: num(r.updated_at),
  });
  const first = (rows: TokenRow[]) => (rows[0] ? toStored(rows[0]) : null);

  /** `kind='app'` has one row per portal; `kind='user'` one per (portal, user). */
  const owned = (portalId: number, owner: TokenOwner) =>
    owner.kind === 'app'
      ? sql`portal_id = ${portalId} AND kind = 'app'`
      : sql`portal_id = ${portalId} AND kind = 'user' AND user_id = ${owner.userId}`;

  return {
    find: async (portalId, owner) => first(await sql`SELECT * FROM portal_tokens WHERE ${owned(portalId, owner)}`),
    save: async (portalId, owner, userId, tokens) => {
      // One statement: two saves of a new row at once cannot both insert (the partial unique indexes).
      const conflict = owner.kind === 'app' ? sql`(portal_id) WHERE kind = 'app'` : sql`(portal_id, user_id) WHERE kind = 'user'`;
      const t = clock.now();
      const rows: TokenRow[] = await sql`
        INSERT INTO portal_tokens (portal_id, kind, user_id, access_token_enc, refresh_token_enc, expires_at,
                                   scope, version, dead, updated_at)
        VALUES (${portalId}, ${owner.kind}, ${userId}, ${cipher.encrypt(tokens.accessToken)}, ${cipher.encrypt(tokens.refreshToken)},
                ${tokens.expiresAt}, ${tokens.scope}, 1, FALSE, ${t})
        ON CONFLICT ${conflict} DO UPDATE SET user_id = excluded.user_id, access_token_enc = excluded.access_token_enc,
          refresh_token_enc = excluded.refresh_token_enc, expires_at = excluded.expires_at, scope = excluded.scope,
          version = portal_tokens.version + 1, dead = FALSE, dead_code = NULL, dead_at = NULL, refresh_lease_until = NULL,
          updated_at = excluded.updated_at
        RETURNING *`;
      return toStored(rows[0]!);
    },
    replaceIfVersion: async (portalId, owner, expectedVersion, tokens) =>
      first(await sql`
        UPDATE portal_tokens SET access_token_enc = ${cipher.encrypt(tokens.accessToken)},
          refresh_token_enc = ${cipher.encrypt(tokens.refreshToken)}, expires_at = ${tokens.expiresAt}, scope = ${tokens.scope},
          version = version + 1, dead = FALSE, dead_code = NULL, dead_at = NULL, refresh_lease_until = NULL, updated_at = ${clock.now()}
        WHERE ${owned(portalId, owner)} AND version = ${expectedVersion}
        RETURNING *`),
    markDead: async (portalId, owner, expectedVersion, refusal) => {
      await sql`UPDATE portal_tokens SET dead = TRUE, dead_code = ${refusal.code}, dead_at = ${refusal.at}, refresh_lease_until = NULL
                WHERE ${owned(portalId, owner)} AND version = ${expectedVersion}`;
    },
    claimRefresh: async (portalId, owner, expectedVersion, leaseUntil) =>
      first(await sql`
        UPDATE portal_tokens SET refresh_lease_until = ${leaseUntil}, version = version + 1
        WHERE ${owned(portalId, owner)} AND version = ${expectedVersion}
        RETURNING *`),
    releaseRefresh: async (portalId, owner, expectedVersion) => {
      await sql`UPDATE portal_tokens SET refresh_lease_until = NULL, version = version + 1
                WHERE ${owned(portalId, owner)} AND version = ${expectedVersion}`;
    },
    deleteForPortal: async (portalId) => {
      await sql`DELETE FROM portal_tokens WHERE portal_id = ${portalId}`;
    },
    listDormant: async (issuedBefore, limit, after) => {
      const afterAt = after?.issuedAt ?? -1;
      const rows: { id: string; portal_id: string; kind: 'app' | 'user'; user_id: string; updated_at: string }[] = await sql`
        SELECT t.id, t.portal_id, t.kind, t.user_id, t.updated_at FROM portal_tokens t JOIN portals p ON p.id = t.portal_id
        WHERE p.status = 'installed' AND NOT t.dead AND t.updated_at < ${issuedBefore}
          AND (t.updated_at > ${afterAt} OR (t.updated_at = ${afterAt} AND t.id > ${after?.id ?? 0}))
          AND (t.kind = 'app' OR EXISTS (SELECT 1 FROM items i WHERE i.portal_id = t.portal_id
                                         AND i.owner_id = t.user_id AND i.calendar_event_id IS NOT NULL))
        ORDER BY t.updated_at, t.id LIMIT ${limit}`;
      return rows.map((r) => ({
        portalId: num(r.portal_id),
        owner: r.kind === 'app' ? { kind: 'app' as const } : { kind: 'user' as const, userId: num(r.user_id) },
        cursor: { issuedAt: num(r.updated_at), id: num(r.id) },
      }));
    },
    keyMatches: async () => {
      const [r] = await sql`SELECT refresh_token_enc AS enc FROM portal_tokens LIMIT 1`;
      if (!r) return true;
      try {
        cipher.decrypt(r.enc as string);
        return true;
      } catch {
        return false;
      }
    },
  };
}
