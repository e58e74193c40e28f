/**
 * An app's life on a portal, as Bitrix24 documents it:
 * - added: the installation exists (its tokens work) but INSTALLED=N;
 * - installed, one of two ways. An app with an installer page (the default) is installed when its page
 *   calls BX24.installFinish() and gets no ONAPPINSTALL (settings/app-installation/local-apps/
 *   installation-master.md). An app added with "Uses API only" has no page: the portal POSTs
 *   ONAPPINSTALL with the admin's tokens to its install URL (installation-callback.md);
 * - removed: every token of the installation stops working and the OAuth server answers
 *   `invalid_client` for it (settings/app-uninstallation.md, settings/oauth/error-codes.md), handlers
 *   and placements are dropped, and ONAPPUNINSTALL is sent without tokens. A reinstall is a new
 *   installation: a new application_token, and the old tokens stay dead.
 */
import { buildEventAuth, buildEventBody, postEvent, type Delivery } from './event-sender.ts';
import { encodePhpForm } from './php-form.ts';
import { randomHex } from './ids.ts';
import { createLaunch, type Launch } from './launch.ts';
import type { PortalUser } from './portal-users.ts';
import { log, type AppRecord, type Installation, type Portal, type World } from './world.ts';

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
    id: randomHex(8),
    app,
    version: app.version,
    installed: false,
    application_token: randomHex(16),
    events: [],
    offline: [],
    placements: [],
    appOptions: {},
    userOptions: new Map(),
    firstRunDone: new Set(),
  };
  portal.installs.set(app.client_id, install);
  return install;
}

/** INSTALLED=Y. For an installer app this is what BX24.installFinish() does, and all it does. */
export function finishInstall(install: Installation): void {
  install.installed = true;
}

/**
 * An API-only app: INSTALLED=Y and ONAPPINSTALL with the admin's access and refresh tokens to the
 * app's install URL (and any handler it bound for that event), awaited so that callers can rely on the
 * app having processed it.
 */
export async function installApiOnly(world: World, portal: Portal, install: Installation, userId: number): Promise<Delivery[]> {
  finishInstall(install);
  const targets = new Set<string>([install.app.install_url]);
  for (const b of install.events) if (b.event === 'ONAPPINSTALL' && !b.offline) targets.add(b.handler);
  const data = { VERSION: String(install.version), ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: portal.lang };
  return Promise.all(
    [...targets].map((url) => {
      const handlerId = install.events.find((b) => b.event === 'ONAPPINSTALL' && !b.offline && b.handler === url)?.id ?? 0;
      const auth = buildEventAuth(world, portal, install, userId, 'with-refresh');
      return postEvent(world, portal, url, buildEventBody(world, 'ONAPPINSTALL', handlerId, data, auth));
    }),
  );
}

export interface InstallerRun {
  launch: Launch;
  /** HTTP status of the installer page; 0 when it could not be reached. */
  status: number;
}

const INSTALLER_TIMEOUT_MS = 10_000;

/**
 * An installer app, as the admin's browser installs it: the portal frames the install URL (the hidden
 * form POST of a launch while INSTALLED=N), the page does its setup and calls installFinish. Here the
 * POST is made directly and a 2xx answer stands for the page's installFinish.
 */
export async function installWithInstaller(world: World, portal: Portal, install: Installation, admin: PortalUser): Promise<InstallerRun> {
  const launch = createLaunch(world, portal, install, admin);
  let status = 0;
  try {
    const res = await fetch(launch.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: encodePhpForm(launch.form),
      signal: AbortSignal.timeout(INSTALLER_TIMEOUT_MS),
      redirect: 'manual',
    });
    await res.arrayBuffer().catch(() => undefined);
    status = res.status;
  } catch (err) {
    log(world, 'installer page unreachable', { url: launch.url, error: err instanceof Error ? err.message : String(err) });
  }
  if (status >= 200 && status < 300) finishInstall(install);
  log(world, 'installer page opened', { member_id: portal.member_id, status, installed: install.installed });
  return { launch, status };
}

/**
 * Removes the app first (so its tokens are dead and app.info says "not installed" by the time the app
 * hears about it), then sends ONAPPUNINSTALL to the handlers it had bound, or to its events_url.
 */
export async function uninstallApp(world: World, portal: Portal, install: Installation, clean: boolean): Promise<Delivery[]> {
  portal.installs.delete(install.app.client_id);
  world.tokens.revokeInstallation(portal.member_id, install.app.client_id);
  for (const [sid, frame] of portal.frames) if (frame.client_id === install.app.client_id) portal.frames.delete(sid);
  const bound = install.events.filter((b) => b.event === 'ONAPPUNINSTALL' && !b.offline);
  const targets = bound.length
    ? bound.map((b) => ({ url: b.handler, id: b.id }))
    : install.app.events_url
      ? [{ url: install.app.events_url, id: 0 }]
      : [];
  const data = { LANGUAGE_ID: portal.lang, CLEAN: clean ? '1' : '0' };
  const auth = buildEventAuth(world, portal, install, 0, 'none');
  return Promise.all(
    targets.map((t) => postEvent(world, portal, t.url, buildEventBody(world, 'ONAPPUNINSTALL', t.id, data, auth))),
  );
}
