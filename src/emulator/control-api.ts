/**
 * The control API for tests and demos (contract: these exact paths, on the OAuth server's origin).
 * It plays the people around the app: the admin who installs or removes it, a user who opens it (or
 * edits a calendar entry, control-calendar.ts), time passing (control-clock.ts), what happens to an
 * installation over months (billing, a renamed portal, an app update: control-lifecycle.ts), and
 * someone counting calls.
 */
import { billingOf } from './billing.ts';
import { handleCalendarControl, offlineQueueView } from './control-calendar.ts';
import { handleClockControl } from './control-clock.ts';
import { handleLifecycleControl, isLifecycleAction } from './control-lifecycle.ts';
import { jsonResponse } from './html.ts';
import { addInstallation, installApiOnly, installWithInstaller, registerApp, uninstallApp, type AppDefinition } from './installation.ts';
import { createLaunch, type Launch } from './launch.ts';
import { createPortal, type PortalSpec } from './portal-server.ts';
import { parsePhpQuery } from './php-form.ts';
import { asString } from './rest-request.ts';
import { findUser, type Portal, type World } from './world.ts';

type Body = Record<string, unknown>;

/** JSON or a form; an empty body is an empty object. */
async function readBody(req: Request): Promise<Body> {
  const text = await req.text();
  if (!text.trim()) return {};
  if ((req.headers.get('content-type') ?? '').includes('json')) {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as Body) : {};
  }
  return parsePhpQuery(text);
}

function launchView(launch: Launch) {
  return { url: launch.url, query: launch.query, form: launch.form, iframe_name: launch.iframe_name };
}

function portalView(portal: Portal) {
  return {
    member_id: portal.member_id,
    domain: portal.domain,
    portal_url: `${portal.origin}/`,
    client_endpoint: portal.client_endpoint,
    api_only: portal.apiOnly,
  };
}

function flag(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'Y' || value === 'true';
}

async function portalAction(world: World, portal: Portal, action: string, body: Body): Promise<Response> {
  const clientId = asString(body.client_id) ?? world.defaultClientId;
  const app = world.apps.get(clientId);
  if (!app) return jsonResponse({ error: 'app_not_found' }, 404);
  const userId = Number(asString(body.user_id) ?? '1');
  const user = findUser(portal, userId);
  if (!user) return jsonResponse({ error: 'user_not_found' }, 404);

  if (action === 'install') {
    if (!user.ADMIN) return jsonResponse({ error: 'access_denied', error_description: 'Only an administrator installs applications' }, 403);
    const install = addInstallation(portal, app);
    const summary = { status: billingOf(world, portal, app).status, application_token: install.application_token };
    if (portal.apiOnly) {
      const deliveries = install.installed ? [] : await installApiOnly(world, portal, install, user.ID);
      const launch = createLaunch(world, portal, install, user);
      return jsonResponse({ app_status: 'installed', ...summary, event_status: deliveries[0]?.status ?? null, deliveries, launch: launchView(launch) });
    }
    if (install.installed) {
      return jsonResponse({ app_status: 'installed', ...summary, event_status: null, deliveries: [], launch: launchView(createLaunch(world, portal, install, user)) });
    }
    // The admin opens the app: the installer page in the frame, then installFinish (no ONAPPINSTALL).
    const run = await installWithInstaller(world, portal, install, user);
    return jsonResponse({
      app_status: install.installed ? 'installed' : 'added',
      ...summary,
      installer_status: run.status,
      event_status: null,
      deliveries: [],
      launch: launchView(run.launch),
    });
  }
  const install = portal.installs.get(clientId);
  if (action === 'uninstall') {
    if (!install) return jsonResponse({ app_status: 'uninstalled', deliveries: [] });
    const deliveries = await uninstallApp(world, portal, install, flag(body.clean));
    return jsonResponse({ app_status: 'uninstalled', event_status: deliveries[0]?.status ?? null, deliveries });
  }
  if (action === 'launch') {
    if (!install) return jsonResponse({ error: 'app_not_installed' }, 409);
    if (!install.installed && !user.ADMIN) return jsonResponse({ error: 'app_not_fully_installed' }, 409);
    const placementOptions = body.placement_options && typeof body.placement_options === 'object' ? (body.placement_options as Body) : undefined;
    const launch = createLaunch(world, portal, install, user, {
      placement: asString(body.placement) ?? 'DEFAULT',
      ...(placementOptions ? { placementOptions } : {}),
    });
    return jsonResponse(launchView(launch));
  }
  return jsonResponse({ error: 'not_found' }, 404);
}

export async function handleControl(world: World, req: Request, url: URL): Promise<Response> {
  const path = url.pathname.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  if (req.method === 'GET' && path === '/_emulator/stats') {
    const memberId = url.searchParams.get('member_id') ?? undefined;
    return jsonResponse(world.stats.snapshot(memberId));
  }
  if (req.method === 'GET' && path === '/_emulator/portals') {
    return jsonResponse([...world.portals.values()].map(portalView));
  }
  if (path === '/_emulator/clock') return handleClockControl(world, req.method, req.method === 'POST' ? await readBody(req) : {});
  const queue = /^\/_emulator\/portals\/([^/]+)\/offline-events$/.exec(path);
  if (req.method === 'GET' && queue) {
    const portal = world.portals.get(queue[1] ?? '');
    return portal ? offlineQueueView(portal, url.searchParams.get('client_id')) : jsonResponse({ error: 'portal_not_found' }, 404);
  }
  const calendar = /^\/_emulator\/portals\/([^/]+)\/calendar\/(\d+)$/.exec(path);
  if (calendar && (req.method === 'POST' || req.method === 'DELETE')) {
    const portal = world.portals.get(calendar[1] ?? '');
    if (!portal) return jsonResponse({ error: 'portal_not_found' }, 404);
    const body = { ...Object.fromEntries(url.searchParams), ...(await readBody(req)) };
    return handleCalendarControl(world, portal, req.method, calendar[2] ?? '', body);
  }
  if (req.method !== 'POST') return jsonResponse({ error: 'method_not_allowed' }, 405);
  const body = await readBody(req);

  if (path === '/_emulator/portals') {
    const spec: PortalSpec = {};
    if (typeof body.users === 'number' || Array.isArray(body.users)) spec.users = body.users as PortalSpec['users'];
    else if (typeof body.users === 'string') spec.users = Number(body.users);
    if (typeof body.lang === 'string') spec.lang = body.lang;
    if (body.api_only !== undefined) spec.api_only = flag(body.api_only);
    if (typeof body.client_id === 'string') spec.client_id = body.client_id;
    if (typeof body.member_id === 'string') {
      if (!/^[0-9a-f]{32}$/.test(body.member_id)) return jsonResponse({ error: 'member_id must be 32 hex characters' }, 400);
      if (world.portals.has(body.member_id)) return jsonResponse({ error: 'portal_exists' }, 409);
      spec.member_id = body.member_id;
    }
    if (body.port !== undefined) spec.port = Number(body.port);
    try {
      return jsonResponse(portalView(createPortal(world, spec)), 201);
    } catch (err) {
      return jsonResponse({ error: 'portal_not_started', error_description: err instanceof Error ? err.message : String(err) }, 409);
    }
  }
  if (path === '/_emulator/apps') {
    const def = body as Partial<AppDefinition>;
    if (!def.client_id || !def.client_secret || !def.app_url) {
      return jsonResponse({ error: 'client_id, client_secret and app_url are required' }, 400);
    }
    const app = registerApp(world, def as AppDefinition);
    return jsonResponse({ client_id: app.client_id, install_url: app.install_url, scope: app.scope.join(',') }, 201);
  }
  if (path === '/_emulator/tokens/expire') {
    const filter: { member_id?: string; access_token?: string; user_id?: number } = {};
    if (typeof body.member_id === 'string') filter.member_id = body.member_id;
    if (typeof body.access_token === 'string') filter.access_token = body.access_token;
    if (body.user_id !== undefined) filter.user_id = Number(body.user_id);
    return jsonResponse({ expired: world.tokens.expire(filter) });
  }
  const m = /^\/_emulator\/portals\/([^/]+)\/([a-z]+)$/.exec(path);
  if (m) {
    const portal = world.portals.get(m[1] ?? '');
    const action = m[2] ?? '';
    if (!portal) return jsonResponse({ error: 'portal_not_found' }, 404);
    if (['install', 'uninstall', 'launch'].includes(action)) return portalAction(world, portal, action, body);
    if (isLifecycleAction(action)) return handleLifecycleControl(world, portal, action, body);
  }
  return jsonResponse({ error: 'not_found' }, 404);
}
