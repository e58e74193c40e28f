/**
 * One emulated portal on its own origin (own port), because the frame protocol ties DOMAIN to the
 * portal's origin: the portal page, `/oauth/authorize/`, `/rest/`, the page's ajax, and `/oauth/token/`
 * proxied to the OAuth server as the cloud does. A renamed portal (portal-rename.ts) keeps listening on
 * its former domains, which answer every request with a 302 to the same path on the current one.
 */
import type { Server } from 'bun';
import { calendarPage, CALENDAR_PATH } from './calendar-page.ts';
import { handleFrameAjax } from './frame-ajax.ts';
import { htmlResponse, jsonResponse } from './html.ts';
import { randomHex } from './ids.ts';
import { addInstallation } from './installation.ts';
import { createLeakyBucket } from './leaky-bucket.ts';
import { createLaunch } from './launch.ts';
import { handleTokenRequest } from './oauth-endpoints.ts';
import { createOperatingLimit } from './operating-limit.ts';
import { renderPortalPage, textFor } from './portal-page.ts';
import { seedUsers, type PortalUserSpec } from './portal-users.ts';
import { handleRest } from './portal-rest.ts';
import { findUser, grantFor, log, type Portal, type World } from './world.ts';

export interface PortalSpec {
  users?: number | PortalUserSpec[];
  lang?: string;
  /** The app added (not yet installed) on the new portal; default: the first configured app. */
  client_id?: string;
  /** The app was added with "Uses API only": ONAPPINSTALL instead of an installer page. */
  api_only?: boolean;
  /** Fixed identity for `b24app dev`, so the app's database still knows the portal after a restart. */
  member_id?: string;
  port?: number;
}

/** Query parameters of the portal page that are the page's own, not the app's PLACEMENT_OPTIONS. */
const SYSTEM_PARAMS = new Set(['user_id', 'client_id', 'placement', 'install_finished', 'reinstall']);

function authorize(world: World, portal: Portal, url: URL): Response {
  const clientId = url.searchParams.get('client_id') ?? '';
  const install = portal.installs.get(clientId);
  const user = findUser(portal, Number(url.searchParams.get('user_id') ?? '1'));
  if (!install || !user) return htmlResponse('<!doctype html><p>The application is not installed on this portal.</p>', 400);
  const app = install.app;
  const requested = url.searchParams.get('redirect_uri');
  const target = new URL(requested && new URL(requested, app.app_url).hostname === new URL(app.app_url).hostname ? new URL(requested, app.app_url) : app.app_url);
  const code = world.tokens.issueCode(grantFor(portal, install, user.ID));
  target.searchParams.set('code', code);
  const state = url.searchParams.get('state');
  if (state !== null) target.searchParams.set('state', state);
  target.searchParams.set('domain', portal.domain);
  target.searchParams.set('member_id', portal.member_id);
  target.searchParams.set('scope', app.scope.join(','));
  target.searchParams.set('server_domain', new URL(world.oauthOrigin).host);
  return new Response(null, { status: 302, headers: { location: target.toString() } });
}

function portalPage(world: World, portal: Portal, url: URL): Response {
  const user = findUser(portal, Number(url.searchParams.get('user_id') ?? '1'));
  if (!user) return htmlResponse('<!doctype html><p>No such user on this portal.</p>', 404);
  const clientId = url.searchParams.get('client_id') ?? world.defaultClientId;
  const app = world.apps.get(clientId);
  if (!app) return htmlResponse('<!doctype html><p>Unknown application.</p>', 404);
  let install = portal.installs.get(clientId);
  if (!install && url.searchParams.get('reinstall') === 'Y' && user.ADMIN) install = addInstallation(portal, app);
  const frame = { user, appTitle: app.title };
  const words = textFor(portal);
  if (!install) {
    const text = user.ADMIN ? words.reinstallHint : words.notInstalledText;
    return htmlResponse(renderPortalPage(portal, { ...frame, notice: { title: words.notInstalled, text } }), 404);
  }
  if (!install.installed && !user.ADMIN) {
    return htmlResponse(renderPortalPage(portal, { ...frame, notice: { title: words.notFinished, text: words.notFinishedText } }));
  }
  const placementOptions: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    if (!SYSTEM_PARAMS.has(k)) placementOptions[k] = v;
  });
  const launch = createLaunch(world, portal, install, user, {
    placement: url.searchParams.get('placement') ?? 'DEFAULT',
    placementOptions,
  });
  return htmlResponse(renderPortalPage(portal, { ...frame, launch }));
}

/**
 * A request to a domain the portal no longer has: 302 to the same path and query on the current domain,
 * whatever the method (DOCS settings/how-to-call-rest-api/change-domen.md). A client must re-send a POST
 * there itself; following the redirect as a GET loses the body.
 */
function movedAway(world: World, portal: Portal, req: Request): Response {
  const url = new URL(req.url);
  world.stats.bump('portal_redirects', portal.member_id);
  return new Response(null, { status: 302, headers: { location: `${portal.origin}${url.pathname}${url.search}` } });
}

async function handlePortalRequest(world: World, portal: Portal, req: Request): Promise<Response> {
  const url = new URL(req.url);
  const path = url.pathname.replace(/\/{2,}/g, '/');
  if (path.startsWith('/rest/') || path === '/rest') return handleRest(world, portal, req, url);
  if (path === '/oauth/authorize/' || path === '/oauth/authorize') return authorize(world, portal, url);
  if (path === '/oauth/token/' || path === '/oauth/token') return handleTokenRequest(world, req, url);
  if (path.startsWith('/_portal/frame/')) return handleFrameAjax(world, portal, path.slice('/_portal/frame/'.length), req);
  if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) return portalPage(world, portal, url);
  const calendar = CALENDAR_PATH.exec(path);
  if (calendar && (req.method === 'GET' || req.method === 'HEAD')) return calendarPage(portal, Number(calendar[1]), url);
  return jsonResponse({ error: 'not_found' }, 404);
}

/** Where the emulator's servers listen, and the host name they are reached by. */
export function publicHost(world: World): string {
  return world.options.host === '0.0.0.0' ? '127.0.0.1' : world.options.host;
}

/**
 * Starts a listener for one of the portal's domains: `requested` (`host:port`, the port to listen on),
 * or the emulator's host and an ephemeral port. It serves the portal while that domain is the
 * portal's, and redirects once the portal has moved on. Answers the domain it listens for.
 */
export function openPortalListener(world: World, portal: Portal, requested?: { host: string; port: number }): string {
  let domain = '';
  const server: Server<undefined> = Bun.serve({
    hostname: world.options.host,
    port: requested?.port ?? 0,
    fetch: (req) => (domain === portal.domain ? handlePortalRequest(world, portal, req) : movedAway(world, portal, req)),
    error: (err) => {
      log(world, 'portal request failed', { error: err.message });
      return jsonResponse({ error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' }, 500);
    },
  });
  domain = `${requested?.host ?? publicHost(world)}:${server.port}`;
  portal.listeners.set(domain, server);
  return domain;
}

/** The portal's addresses follow its domain. */
export function setDomain(portal: Portal, domain: string): void {
  portal.domain = domain;
  portal.origin = `http://${domain}`;
  portal.client_endpoint = `${portal.origin}/rest/`;
}

export function createPortal(world: World, spec: PortalSpec): Portal {
  const lang = spec.lang ?? 'en';
  const portal: Portal = {
    member_id: spec.member_id ?? randomHex(16),
    apiOnly: spec.api_only ?? false,
    lang,
    origin: '',
    domain: '',
    client_endpoint: '',
    users: seedUsers(spec.users, lang),
    installs: new Map(),
    billing: new Map(),
    bucket: createLeakyBucket(world.options.rate, world.options.burst),
    operating: createOperatingLimit(world.options.operatingLimitSeconds),
    calendar: [],
    frames: new Map(),
    counters: { handler: 0, placement: 0, calendar: 0, offline: 0, hit: 0 },
    listeners: new Map(),
  };
  const port = spec.port ?? 0;
  setDomain(portal, openPortalListener(world, portal, port ? { host: publicHost(world), port } : undefined));
  const app = world.apps.get(spec.client_id ?? world.defaultClientId);
  if (app) addInstallation(portal, app);
  world.portals.set(portal.member_id, portal);
  log(world, 'portal created', { member_id: portal.member_id, domain: portal.domain, users: portal.users.length });
  return portal;
}
