/**
 * An app's life on a portal: added (INSTALLED=N, the installer runs), installed (INSTALLED=Y, after
 * installFinish or at once for the control API, ONAPPINSTALL sent), removed (tokens revoked, handlers
 * and placements dropped, ONAPPUNINSTALL sent with no tokens).
 */
import { buildEventAuth, buildEventBody, postEvent, type Delivery } from './event-sender.ts';
import { randomHex } from './ids.ts';
import type { AppRecord, Installation, Portal, World } from './world.ts';

export interface AppDefinition {
  client_id: string;
  client_secret: string;
  app_url: string;
  install_url?: string;
  events_url?: string;
  scope?: string | string[];
  title?: string;
}

export const DEFAULT_SCOPE = ['user', 'placement', 'calendar'];

function parseScope(scope: string | string[] | undefined): string[] {
  if (scope === undefined) return [...DEFAULT_SCOPE];
  const list = Array.isArray(scope) ? scope : scope.split(/[\s,]+/);
  return list.map((s) => s.trim()).filter(Boolean);
}

/** Registers (or re-registers, keeping its numeric id) an application with the OAuth server. */
export function registerApp(world: World, def: AppDefinition): AppRecord {
  const existing = world.apps.get(def.client_id);
  const app: AppRecord = {
    id: existing?.id ?? world.nextAppId++,
    client_id: def.client_id,
    client_secret: def.client_secret,
    title: def.title ?? 'My application',
    app_url: def.app_url,
    install_url: def.install_url ?? `${def.app_url.replace(/\/+$/, '')}/install`,
    scope: parseScope(def.scope),
    version: 1,
    status: def.client_id.startsWith('local.') ? 'L' : 'F',
  };
  if (def.events_url) app.events_url = def.events_url;
  world.apps.set(app.client_id, app);
  return app;
}

/** The admin added the app: it exists on the portal (tokens work) but INSTALLED=N. */
export function addInstallation(portal: Portal, app: AppRecord): Installation {
  const current = portal.installs.get(app.client_id);
  if (current) return current;
  const install: Installation = {
    app,
    installed: false,
    application_token: randomHex(16),
    events: [],
    placements: [],
    appOptions: {},
    userOptions: new Map(),
    firstRunDone: new Set(),
  };
  portal.installs.set(app.client_id, install);
  return install;
}

/**
 * INSTALLED=Y and ONAPPINSTALL to the app's installation event handler (and any handler it bound for
 * that event), awaited so that callers can rely on the app having processed it.
 */
export async function finishInstall(world: World, portal: Portal, install: Installation, userId: number): Promise<Delivery[]> {
  install.installed = true;
  const targets = new Set<string>([install.app.install_url]);
  for (const b of install.events) if (b.event === 'ONAPPINSTALL') targets.add(b.handler);
  const data = { VERSION: String(install.app.version), ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: portal.lang };
  return Promise.all(
    [...targets].map((url) => {
      const handlerId = install.events.find((b) => b.event === 'ONAPPINSTALL' && b.handler === url)?.id ?? 0;
      const auth = buildEventAuth(world, portal, install, userId, 'with-refresh');
      return postEvent(world, portal, url, buildEventBody('ONAPPINSTALL', handlerId, data, auth));
    }),
  );
}

/**
 * Removes the app first (so its tokens are dead and app.info says "not installed" by the time the app
 * hears about it), then sends ONAPPUNINSTALL to the handlers it had bound, or to its events_url.
 */
export async function uninstallApp(world: World, portal: Portal, install: Installation, clean: boolean): Promise<Delivery[]> {
  portal.installs.delete(install.app.client_id);
  world.tokens.revokeInstallation(portal.member_id, install.app.client_id);
  for (const [sid, frame] of portal.frames) if (frame.client_id === install.app.client_id) portal.frames.delete(sid);
  const bound = install.events.filter((b) => b.event === 'ONAPPUNINSTALL');
  const targets = bound.length
    ? bound.map((b) => ({ url: b.handler, id: b.id }))
    : install.app.events_url
      ? [{ url: install.app.events_url, id: 0 }]
      : [];
  const data = { LANGUAGE_ID: portal.lang, CLEAN: clean ? '1' : '0' };
  const auth = buildEventAuth(world, portal, install, 0, 'none');
  return Promise.all(
    targets.map((t) => postEvent(world, portal, t.url, buildEventBody('ONAPPUNINSTALL', t.id, data, auth))),
  );
}
