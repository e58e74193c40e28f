import type { SQL } from 'bun';
import type { Clock } from '../../clock.ts';
import type { Portal, PortalInput, RemovedPortal } from '../../domain/types.ts';
import type { PortalRepo } from '../store.ts';
import { num, numOrNull } from './rows.ts';

interface PortalRow {
  id: string;
  member_id: string;
  domain: string;
  client_endpoint: string;
  server_endpoint: string;
  application_token_hash: string | null;
  status: Portal['status'];
  app_status: string;
  scope: string;
  installed_at: string | null;
  uninstalled_at: string | null;
  lifecycle_ts: string | null;
  uninstall_claimed_at: string | null;
  uninstall_claim_clean: boolean | null;
  purge_at: string | null;
  bindings_checked_at: string | null;
}

interface RemovedRow {
  member_id: string;
  application_token_hash: string | null;
  lifecycle_ts: string | null;
  removed_at: string;
}

const toPortal = (r: PortalRow): Portal => ({
  id: num(r.id),
  memberId: r.member_id,
  domain: r.domain,
  clientEndpoint: r.client_endpoint,
  serverEndpoint: r.server_endpoint,
  status: r.status,
  appStatus: r.app_status,
  scope: r.scope,
  hasApplicationToken: r.application_token_hash !== null,
  installedAt: numOrNull(r.installed_at),
  uninstalledAt: numOrNull(r.uninstalled_at),
  lifecycleTs: numOrNull(r.lifecycle_ts),
  uninstallClaim:
    r.uninstall_claimed_at === null ? null : { claimedAt: num(r.uninstall_claimed_at), clean: r.uninstall_claim_clean === true },
  purgeAt: numOrNull(r.purge_at),
  bindingsCheckedAt: numOrNull(r.bindings_checked_at),
});

const toRemoved = (r: RemovedRow): RemovedPortal => ({
  memberId: r.member_id,
  applicationTokenHash: r.application_token_hash,
  lifecycleTs: numOrNull(r.lifecycle_ts),
  removedAt: num(r.removed_at),
});

export function createPortalRepo(sql: SQL, clock: Clock): PortalRepo {
  const now = clock.now;
  const one = async (rows: Promise<PortalRow[]>) => {
    const [r] = await rows;
    return r ? toPortal(r) : null;
  };
  return {
    findByMemberId: (memberId) => one(sql`SELECT * FROM portals WHERE member_id = ${memberId}`),
    findById: (id) => one(sql`SELECT * FROM portals WHERE id = ${id}`),
    findByDomain: (domain) => one(sql`SELECT * FROM portals WHERE domain = ${domain} ORDER BY id LIMIT 1`),
    upsert: async (input: PortalInput, statusIfNew = 'pending') => {
      const t = now();
      const [row] = await sql`
        INSERT INTO portals (member_id, domain, client_endpoint, server_endpoint, status, app_status, scope,
                             installed_at, created_at, updated_at)
        VALUES (${input.memberId}, ${input.domain}, ${input.clientEndpoint}, ${input.serverEndpoint}, ${statusIfNew},
                ${input.appStatus}, ${input.scope}, ${statusIfNew === 'installed' ? t : null}::bigint, ${t}, ${t})
        ON CONFLICT (member_id) DO UPDATE SET
          domain = excluded.domain, client_endpoint = excluded.client_endpoint,
          server_endpoint = excluded.server_endpoint, app_status = excluded.app_status, scope = excluded.scope,
          updated_at = excluded.updated_at
        RETURNING *`;
      return toPortal(row as PortalRow);
    },
    recordLaunch: (input) => {
      const t = now();
      return one(sql`
        INSERT INTO portals (member_id, domain, client_endpoint, server_endpoint, status, app_status, scope, created_at, updated_at)
        SELECT ${input.memberId}::text, ${input.domain}::text, ${input.clientEndpoint}::text, ${input.serverEndpoint}::text,
               'pending', ${input.appStatus}::text, ${input.scope}::text, ${t}::bigint, ${t}::bigint
         WHERE NOT EXISTS (SELECT 1 FROM removed_portals WHERE member_id = ${input.memberId}::text)
        ON CONFLICT (member_id) DO UPDATE SET
          domain = excluded.domain, client_endpoint = excluded.client_endpoint,
          server_endpoint = excluded.server_endpoint, app_status = excluded.app_status, scope = excluded.scope,
          updated_at = excluded.updated_at
         WHERE portals.status <> 'uninstalled'
        RETURNING *`);
    },
    markInstalled: (portalId, hash, ts) =>
      sql.begin(async (tx) => {
        const t = now();
        const [row]: PortalRow[] = await tx`
          UPDATE portals SET status = 'installed', installed_at = ${t}, uninstalled_at = NULL,
            uninstall_claimed_at = NULL, uninstall_claim_clean = NULL, purge_at = NULL,
            application_token_hash = COALESCE(${hash}::text, application_token_hash), lifecycle_ts = ${ts}::bigint,
            updated_at = ${t}
          WHERE id = ${portalId} RETURNING *`;
        if (!row) throw new Error(`portal ${portalId} not found`);
        await tx`DELETE FROM removed_portals WHERE member_id = ${row.member_id}`;
        await tx`DELETE FROM sessions WHERE portal_id = ${portalId} AND closed`;
        return toPortal(row);
      }),
    applicationTokenHash: async (memberId) => {
      const [r] = await sql`SELECT application_token_hash AS h FROM portals WHERE member_id = ${memberId}`;
      return (r?.h as string | null | undefined) ?? null;
    },
    closeAfterUninstall: (portalId, ts, purgeAt) =>
      sql.begin(async (tx) => {
        const t = now();
        const closed = await tx`
          UPDATE portals SET status = 'uninstalled', uninstalled_at = ${t}, updated_at = ${t},
            uninstall_claimed_at = NULL, uninstall_claim_clean = NULL,
            lifecycle_ts = COALESCE(${ts}::bigint, lifecycle_ts),
            -- A pending CLEAN=0 claim (perhaps the admin's own) keeps the data, whatever the closing event read.
            purge_at = CASE WHEN uninstall_claim_clean = FALSE THEN NULL ELSE ${purgeAt}::bigint END
          WHERE id = ${portalId} AND status <> 'uninstalled' RETURNING id`;
        if (closed.length === 0) return false;
        await tx`DELETE FROM portal_tokens WHERE portal_id = ${portalId}`;
        await tx`UPDATE sessions SET closed = TRUE WHERE portal_id = ${portalId}`;
        return true;
      }),
    cancelPurge: async (portalId) =>
      (await sql`UPDATE portals SET purge_at = NULL WHERE id = ${portalId} AND purge_at IS NOT NULL RETURNING id`).length > 0,
    listDuePurges: async (at) =>
      ((await sql`SELECT * FROM portals WHERE purge_at IS NOT NULL AND purge_at <= ${at} ORDER BY purge_at, id`) as PortalRow[]).map(toPortal),
    claimUninstall: async (portalId, clean, claimedAt) => {
      // The first claim's time is kept; CLEAN only while every claim asked for it.
      await sql`
        UPDATE portals SET uninstall_claimed_at = COALESCE(uninstall_claimed_at, ${claimedAt}::bigint),
          uninstall_claim_clean = COALESCE(uninstall_claim_clean, ${clean}::boolean) AND ${clean}::boolean,
          updated_at = ${claimedAt}
        WHERE id = ${portalId}`;
    },
    dropUninstallClaim: async (portalId) => {
      await sql`UPDATE portals SET uninstall_claimed_at = NULL, uninstall_claim_clean = NULL WHERE id = ${portalId}`;
    },
    listUninstallClaims: async () =>
      ((await sql`SELECT * FROM portals WHERE uninstall_claimed_at IS NOT NULL ORDER BY uninstall_claimed_at, id`) as PortalRow[]).map(toPortal),
    listInstalled: async (afterId, limit) =>
      ((await sql`SELECT * FROM portals WHERE status = 'installed' AND id > ${afterId} ORDER BY id LIMIT ${limit}`) as PortalRow[]).map(toPortal),
    listBindingsDue: async (before, liveAfter, limit) =>
      ((await sql`SELECT p.* FROM portals p JOIN portal_tokens t ON t.portal_id = p.id AND t.kind = 'app'
                  WHERE p.status = 'installed' AND (p.bindings_checked_at IS NULL OR p.bindings_checked_at < ${before})
                    AND NOT t.dead AND t.expires_at > ${liveAfter}
                  ORDER BY p.bindings_checked_at NULLS FIRST, p.id LIMIT ${limit}`) as PortalRow[]).map(toPortal),
    markBindingsChecked: async (portalId, at) => {
      await sql`UPDATE portals SET bindings_checked_at = ${at} WHERE id = ${portalId}`;
    },
    moveEndpoint: async (oldClientEndpoint, newClientEndpoint, newDomain) => {
      await sql`UPDATE portals SET client_endpoint = ${newClientEndpoint}, domain = ${newDomain}, updated_at = ${now()}
                WHERE client_endpoint = ${oldClientEndpoint}`;
    },
    // sessions reference users, users and items and tokens and calendar jobs reference portals: all cascade.
    removeWithData: async (portalId, at) => {
      await sql.begin(async (tx) => {
        await tx`
          INSERT INTO removed_portals (member_id, application_token_hash, lifecycle_ts, removed_at)
            SELECT member_id, application_token_hash, lifecycle_ts, ${at}::bigint FROM portals WHERE id = ${portalId}
          ON CONFLICT (member_id) DO UPDATE SET application_token_hash = excluded.application_token_hash,
            lifecycle_ts = excluded.lifecycle_ts, removed_at = excluded.removed_at`;
        await tx`DELETE FROM portals WHERE id = ${portalId}`;
      });
    },
    findRemoved: async (memberId) => {
      const [r] = await sql`SELECT * FROM removed_portals WHERE member_id = ${memberId}`;
      return r ? toRemoved(r as RemovedRow) : null;
    },
  };
}
