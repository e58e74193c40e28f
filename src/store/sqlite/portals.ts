import type { Clock } from '../../clock.ts';
import type { Database } from 'bun:sqlite';
import type { Portal, PortalInput, RemovedPortal } from '../../domain/types.ts';
import type { PortalRepo } from '../store.ts';

interface PortalRow {
  id: number;
  member_id: string;
  domain: string;
  client_endpoint: string;
  server_endpoint: string;
  application_token_hash: string | null;
  status: Portal['status'];
  app_status: string;
  scope: string;
  installed_at: number | null;
  uninstalled_at: number | null;
  lifecycle_ts: number | null;
  uninstall_claimed_at: number | null;
  uninstall_claim_clean: number | null;
  purge_at: number | null;
  bindings_checked_at: number | null;
}

interface RemovedRow {
  member_id: string;
  application_token_hash: string | null;
  lifecycle_ts: number | null;
  removed_at: number;
}

const toPortal = (r: PortalRow): Portal => ({
  id: r.id,
  memberId: r.member_id,
  domain: r.domain,
  clientEndpoint: r.client_endpoint,
  serverEndpoint: r.server_endpoint,
  status: r.status,
  appStatus: r.app_status,
  scope: r.scope,
  hasApplicationToken: r.application_token_hash !== null,
  installedAt: r.installed_at,
  uninstalledAt: r.uninstalled_at,
  lifecycleTs: r.lifecycle_ts,
  uninstallClaim: r.uninstall_claimed_at === null ? null : { claimedAt: r.uninstall_claimed_at, clean: r.uninstall_claim_clean === 1 },
  purgeAt: r.purge_at,
  bindingsCheckedAt: r.bindings_checked_at,
});

const toRemoved = (r: RemovedRow): RemovedPortal => ({
  memberId: r.member_id,
  applicationTokenHash: r.application_token_hash,
  lifecycleTs: r.lifecycle_ts,
  removedAt: r.removed_at,
});

export function createPortalRepo(db: Database, clock: Clock): PortalRepo {
  const now = clock.now;
  const byMember = db.query<PortalRow, [string]>('SELECT * FROM portals WHERE member_id = ?');
  const byId = db.query<PortalRow, [number]>('SELECT * FROM portals WHERE id = ?');
  const byDomain = db.query<PortalRow, [string]>('SELECT * FROM portals WHERE domain = ? LIMIT 1');
  const upsert = db.query<PortalRow, Record<string, string | number | null>>(
    `INSERT INTO portals (member_id, domain, client_endpoint, server_endpoint, status, app_status, scope,
                          installed_at, created_at, updated_at)
     VALUES ($member_id, $domain, $client_endpoint, $server_endpoint, $status, $app_status, $scope,
             CASE WHEN $status = 'installed' THEN $now END, $now, $now)
     ON CONFLICT (member_id) DO UPDATE SET
       domain = excluded.domain, client_endpoint = excluded.client_endpoint,
       server_endpoint = excluded.server_endpoint, app_status = excluded.app_status, scope = excluded.scope,
       updated_at = excluded.updated_at
     RETURNING *`,
  );
  const launch = db.query<PortalRow, Record<string, string | number>>(
    `INSERT INTO portals (member_id, domain, client_endpoint, server_endpoint, status, app_status, scope, created_at, updated_at)
     SELECT $member_id, $domain, $client_endpoint, $server_endpoint, 'pending', $app_status, $scope, $now, $now
      WHERE NOT EXISTS (SELECT 1 FROM removed_portals WHERE member_id = $member_id)
     ON CONFLICT (member_id) DO UPDATE SET
       domain = excluded.domain, client_endpoint = excluded.client_endpoint,
       server_endpoint = excluded.server_endpoint, app_status = excluded.app_status, scope = excluded.scope,
       updated_at = excluded.updated_at
      WHERE portals.status <> 'uninstalled'
     RETURNING *`,
  );
  const install = db.query<PortalRow, [string | null, number | null, number, number]>(
    `UPDATE portals SET status = 'installed', installed_at = ?3, uninstalled_at = NULL,
       uninstall_claimed_at = NULL, uninstall_claim_clean = NULL, purge_at = NULL,
       application_token_hash = COALESCE(?1, application_token_hash), lifecycle_ts = ?2, updated_at = ?3
     WHERE id = ?4 RETURNING *`,
  );
  const forgetRemoval = db.query('DELETE FROM removed_portals WHERE member_id = ?');
  const hashOf = db.query<{ h: string | null }, [string]>('SELECT application_token_hash AS h FROM portals WHERE member_id = ?');
  const close = db.query<{ id: number }, [number, number | null, number | null, number]>(
    `UPDATE portals SET status = 'uninstalled', uninstalled_at = ?1, updated_at = ?1,
       uninstall_claimed_at = NULL, uninstall_claim_clean = NULL, lifecycle_ts = COALESCE(?2, lifecycle_ts),
       -- A pending CLEAN=0 claim (perhaps the admin's own) keeps the data, whatever the closing event read.
       purge_at = CASE WHEN uninstall_claim_clean = 0 THEN NULL ELSE ?3 END
     WHERE id = ?4 AND status <> 'uninstalled' RETURNING id`,
  );
  const dropTokens = db.query('DELETE FROM portal_tokens WHERE portal_id = ?');
  const closeSessions = db.query('UPDATE sessions SET closed = 1 WHERE portal_id = ?');
  const dropClosedSessions = db.query('DELETE FROM sessions WHERE portal_id = ? AND closed = 1');
  const cancelPurge = db.query<{ id: number }, [number]>('UPDATE portals SET purge_at = NULL WHERE id = ? AND purge_at IS NOT NULL RETURNING id');
  const duePurges = db.query<PortalRow, [number]>('SELECT * FROM portals WHERE purge_at IS NOT NULL AND purge_at <= ? ORDER BY purge_at');
  const claim = db.query<unknown, [number, number, number]>(
    `UPDATE portals SET uninstall_claimed_at = COALESCE(uninstall_claimed_at, ?1),
       uninstall_claim_clean = min(COALESCE(uninstall_claim_clean, ?2), ?2), updated_at = ?1
     WHERE id = ?3`,
  );
  const dropClaim = db.query('UPDATE portals SET uninstall_claimed_at = NULL, uninstall_claim_clean = NULL WHERE id = ?');
  const claims = db.query<PortalRow, []>('SELECT * FROM portals WHERE uninstall_claimed_at IS NOT NULL ORDER BY uninstall_claimed_at');
  const remember = db.query<unknown, [number, number]>(
    `INSERT INTO removed_portals (member_id, application_token_hash, lifecycle_ts, removed_at)
       SELECT member_id, application_token_hash, lifecycle_ts, ?1 FROM portals WHERE id = ?2
     ON CONFLICT (member_id) DO UPDATE SET application_token_hash = excluded.application_token_hash,
       lifecycle_ts = excluded.lifecycle_ts, removed_at = excluded.removed_at`,
  );
  const remove = db.query('DELETE FROM portals WHERE id = ?');
  const removed = db.query<RemovedRow, [string]>('SELECT * FROM removed_portals WHERE member_id = ?');
  const move = db.query('UPDATE portals SET client_endpoint = ?, domain = ?, updated_at = ? WHERE client_endpoint = ?');

  const markInstalled = db.transaction((portalId: number, hash: string | null, ts: number | null) => {
    const row = install.get(hash, ts, now(), portalId);
    if (!row) throw new Error(`portal ${portalId} not found`);
    forgetRemoval.run(row.member_id);
    dropClosedSessions.run(portalId);
    return toPortal(row);
  });
  const closePortal = db.transaction((portalId: number, ts: number | null, purgeAt: number | null) => {
    if (!close.get(now(), ts, purgeAt, portalId)) return false;
    dropTokens.run(portalId);
    closeSessions.run(portalId);
    return true;
  });
  // sessions reference users, users and items and tokens reference portals: all cascade.
  const removeWithData = db.transaction((portalId: number, at: number) => {
    remember.run(at, portalId);
    remove.run(portalId);
  });

  return {
    findByMemberId: async (memberId) => {
      const r = byMember.get(memberId);
      return r ? toPortal(r) : null;
    },
    findById: async (id) => {
      const r = byId.get(id);
      return r ? toPortal(r) : null;
    },
    findByDomain: async (domain) => {
      const r = byDomain.get(domain);
      return r ? toPortal(r) : null;
    },
    upsert: async (input: PortalInput, statusIfNew = 'pending') => {
      const row = upsert.get({
        member_id: input.memberId,
        domain: input.domain,
        client_endpoint: input.clientEndpoint,
        server_endpoint: input.serverEndpoint,
        status: statusIfNew,
        app_status: input.appStatus,
        scope: input.scope,
        now: now(),
      });
      return toPortal(row!);
    },
    recordLaunch: async (input) => {
      const row = launch.get({
        member_id: input.memberId,
        domain: input.domain,
        client_endpoint: input.clientEndpoint,
        server_endpoint: input.serverEndpoint,
        app_status: input.appStatus,
        scope: input.scope,
        now: now(),
      });
      return row ? toPortal(row) : null;
    },
    markInstalled: async (portalId, hash, ts) => markInstalled(portalId, hash, ts),
    applicationTokenHash: async (memberId) => hashOf.get(memberId)?.h ?? null,
    closeAfterUninstall: async (portalId, ts, purgeAt) => closePortal(portalId, ts, purgeAt),
    cancelPurge: async (portalId) => cancelPurge.get(portalId) !== null,
    listDuePurges: async (at) => duePurges.all(at).map(toPortal),
    claimUninstall: async (portalId, clean, claimedAt) => {
      claim.run(claimedAt, clean ? 1 : 0, portalId);
    },
    dropUninstallClaim: async (portalId) => {
      dropClaim.run(portalId);
    },
    listInstalled: async (afterId, limit) =>
      db.query<PortalRow, [number, number]>("SELECT * FROM portals WHERE status = 'installed' AND id > ? ORDER BY id LIMIT ?").all(afterId, limit).map(toPortal),
    listUninstallClaims: async () => claims.all().map(toPortal),
    listBindingsDue: async (before, liveAfter, limit) =>
      db
        .query<PortalRow, [number, number, number]>(
          `SELECT p.* FROM portals p JOIN portal_tokens t ON t.portal_id = p.id AND t.kind = 'app'
           WHERE p.status = 'installed' AND (p.bindings_checked_at IS NULL OR p.bindings_checked_at < ?)
             AND t.dead = 0 AND t.expires_at > ?
           ORDER BY p.bindings_checked_at IS NOT NULL, p.bindings_checked_at, p.id LIMIT ?`,
        )
        .all(before, liveAfter, limit)
        .map(toPortal),
    markBindingsChecked: async (portalId, at) => {
      db.query('UPDATE portals SET bindings_checked_at = ? WHERE id = ?').run(at, portalId);
    },
    moveEndpoint: async (oldClientEndpoint, newClientEndpoint, newDomain) => {
      move.run(newClientEndpoint, newDomain, now(), oldClientEndpoint);
    },
    removeWithData: async (portalId, at) => removeWithData(portalId, at),
    findRemoved: async (memberId) => {
      const r = removed.get(memberId);
      return r ? toRemoved(r) : null;
    },
  };
}
