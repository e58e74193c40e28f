/**
 * A portal whose address an administrator changed (DOCS settings/how-to-call-rest-api/change-domen.md):
 * "when accessing an outdated address, Bitrix24 performs a redirect to the new one", a 302 that a POST
 * client must answer by re-sending the POST to the new address itself. The emulator keeps listening on
 * every former domain and answers every request there (REST, the portal page, OAuth, any method) with a
 * 302 to the same path and query on the current domain (portal-server.ts). Everything the portal says
 * afterwards carries the new domain: launches, events, token answers, the OAuth server's `app.info`.
 * member_id, installations and tokens stay. The page does not say how long the old address keeps
 * redirecting; here, until the emulator stops.
 */
import { openPortalListener, setDomain } from './portal-server.ts';
import { log, type Portal, type World } from './world.ts';

export interface RequestedDomain {
  host: string;
  port: number;
}

/**
 * `host:port`: the new domain, on which the emulator listens (on its own interface: the host name must
 * lead there, e.g. `localhost` or `127.0.0.1`). Undefined: none asked for; 'invalid': unusable.
 */
export function parseRequestedDomain(value: unknown): RequestedDomain | undefined | 'invalid' {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return 'invalid';
  const m = /^([a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?):(\d{1,5})$/i.exec(value.trim());
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65_535) return 'invalid';
  return { host: (m[1] ?? '').toLowerCase(), port };
}

export interface Rename {
  oldDomain: string;
  domain: string;
}

/**
 * Moves the portal to `requested` (or to a new port on the emulator's host) and keeps its former
 * domain answering 302. Renaming back to a former domain makes that listener serve again. Throws when
 * the port cannot be listened on.
 */
export function renamePortal(world: World, portal: Portal, requested?: RequestedDomain): Rename {
  const oldDomain = portal.domain;
  const wanted = requested && `${requested.host}:${requested.port}`;
  const domain = wanted && portal.listeners.has(wanted) ? wanted : openPortalListener(world, portal, requested);
  setDomain(portal, domain);
  log(world, 'portal renamed', { member_id: portal.member_id, from: oldDomain, to: domain });
  return { oldDomain, domain };
}
