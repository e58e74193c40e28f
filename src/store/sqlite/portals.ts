import type { Database } from 'bun:sqlite';
import type { Portal, PortalInput } from '../../domain/types.ts';
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
});

const now = () => Math.floor(Date.now() / 1000);

export function createPortalRepo(db: Database): PortalRepo {
  const byMember = db.query<PortalRow, [string]>('SELECT * FROM portals WHERE member_id = ?');
  const byId = db.query<PortalRow, [number]>('SELECT * FROM portals WHERE id = ?');
  const upsert = db.query<PortalRow, Record<string, string | number | null>>(
    `INSERT INTO portals (member_id, domain, client_endpoint, server_endpoint, status, app_status, scope,
                          installed_at, created_at, updated_at)
     VALUES ($member_id, $domain, $client_endpoint, $server_endpoint, $status, $app_status, $scope,
             $installed_at, $now, $now)
     ON CONFLICT (member_id) DO UPDATE SET
       domain = excluded.domain, client_endpoint = excluded.client_endpoint,
       server_endpoint = excluded.server_endpoint, app_status = excluded.app_status, scope = excluded.scope,
       -- a launch (pending) never downgrades an installed portal; an install revives an uninstalled one
       status = CASE WHEN excluded.status = 'pending' AND portals.status = 'installed' THEN 'installed'
                     ELSE excluded.status END,
       installed_at = COALESCE(excluded.installed_at, portals.installed_at),
       uninstalled_at = CASE WHEN excluded.status = 'installed' THEN NULL ELSE portals.uninstalled_at END,
       updated_at = excluded.updated_at
     RETURNING *`,
  );
  const setHash = db.query('UPDATE portals SET application_token_hash = ?, updated_at = ? WHERE id = ?');
  const hashOf = db.query<{ h: string | null }, [string]>(
    'SELECT application_token_hash AS h FROM portals WHERE member_id = ?',
  );
  const uninstall = db.query(
    `UPDATE portals SET status = 'uninstalled', uninstalled_at = ?1, updated_at = ?1 WHERE id = ?2`,
  );
  const remove = db.query('DELETE FROM portals WHERE id = ?');
  const move = db.query('UPDATE portals SET client_endpoint = ?, domain = ?, updated_at = ? WHERE client_endpoint = ?');

  return {
    findByMemberId: async (memberId) => {
      const r = byMember.get(memberId);
      return r ? toPortal(r) : null;
    },
    findById: async (id) => {
      const r = byId.get(id);
      return r ? toPortal(r) : null;
    },
    upsert: async (input: PortalInput, status) => {
      const t = now();
      const row = upsert.get({
        member_id: input.memberId,
        domain: input.domain,
        client_endpoint: input.clientEndpoint,
        server_endpoint: input.serverEndpoint,
        status,
        app_status: input.appStatus,
        scope: input.scope,
        installed_at: status === 'installed' ? t : null,
        now: t,
      });
      return toPortal(row!);
    },
    setApplicationTokenHash: async (portalId, hash) => {
      setHash.run(hash, now(), portalId);
    },
    applicationTokenHash: async (memberId) => hashOf.get(memberId)?.h ?? null,
    markUninstalled: async (portalId) => {
      uninstall.run(now(), portalId);
    },
    moveEndpoint: async (oldClientEndpoint, newClientEndpoint, newDomain) => {
      move.run(newClientEndpoint, newDomain, now(), oldClientEndpoint);
    },
    deleteWithData: async (portalId) => {
      // sessions reference users, users and items and tokens reference portals: all cascade.
      remove.run(portalId);
    },
  };
}
