/**
 * One render of the app frame (CORE app.layout component + template): a fresh user token, a new
 * APP_SID, the iframe name `host:port|0|APP_SID`, the hidden form's action and fields, and the init
 * data the parent answers `getInitData` with. While INSTALLED=N an admin gets the install URL and
 * INSTALL=true; everyone else gets nothing (the page says "not fully installed").
 */
import { billingOf } from './billing.ts';
import { randomHex } from './ids.ts';
import type { PortalUser } from './portal-users.ts';
import { grantFor, serverEndpoint, type Installation, type Portal, type World } from './world.ts';

export interface LaunchRequest {
  placement?: string;
  placementOptions?: Record<string, unknown>;
}

export interface InitData {
  LANG: string;
  DOMAIN: string;
  PROTOCOL: number;
  PATH: string;
  AUTH_ID: string;
  AUTH_EXPIRES: string;
  REFRESH_ID: string;
  MEMBER_ID: string;
  IS_ADMIN: boolean;
  FIRST_RUN: boolean;
  INSTALL: boolean;
  USER_OPTIONS: unknown;
  APP_OPTIONS: unknown;
  PLACEMENT: string;
  PLACEMENT_OPTIONS: unknown;
}

export interface Launch {
  sid: string;
  iframe_name: string;
  /** The form action: handler URL plus `?DOMAIN=&PROTOCOL=0&LANG=&APP_SID=`. */
  url: string;
  app_origin: string;
  /** The app's code (its client_id), which the portal adds to paths it opens for the app (`from_app`). */
  app_code: string;
  query: { DOMAIN: string; PROTOCOL: string; LANG: string; APP_SID: string };
  form: Record<string, string>;
  init: InitData;
}

/** A PHP array with nothing in it is `[]` in JSON; the frame libraries have to cope, so do we. */
function phpObject(values: Record<string, unknown>): unknown {
  return Object.keys(values).length ? { ...values } : [];
}

export function handlerUrlFor(install: Installation, placement: string, isInstall: boolean): string {
  if (isInstall) return install.app.install_url;
  if (placement === 'DEFAULT') return install.app.app_url;
  return install.placements.find((p) => p.placement === placement)?.handler ?? install.app.app_url;
}

export function createLaunch(
  world: World,
  portal: Portal,
  install: Installation,
  user: PortalUser,
  request: LaunchRequest = {},
): Launch {
  const placement = (request.placement ?? 'DEFAULT').toUpperCase();
  const isInstall = !install.installed;
  const options = request.placementOptions ?? {};
  const token = world.tokens.issue(grantFor(portal, install, user.ID));
  const sid = randomHex(16);
  const query = { DOMAIN: portal.domain, PROTOCOL: '0', LANG: portal.lang, APP_SID: sid };
  const action = new URL(handlerUrlFor(install, placement, isInstall));
  for (const [k, v] of Object.entries(query)) action.searchParams.set(k, v);
  const form: Record<string, string> = {
    AUTH_ID: token.access_token,
    AUTH_EXPIRES: String(world.options.accessTokenTtl),
    REFRESH_ID: token.refresh_token,
    SERVER_ENDPOINT: serverEndpoint(world),
    APPLICATION_TOKEN: install.application_token,
    APPLICATION_SCOPE: install.app.scope.join(','),
    member_id: portal.member_id,
    status: billingOf(world, portal, install.app).status,
    PLACEMENT: placement,
  };
  if (Object.keys(options).length) form.PLACEMENT_OPTIONS = JSON.stringify(options);
  portal.frames.set(sid, { sid, client_id: install.app.client_id, user_id: user.ID, placement, install: isInstall });
  const init: InitData = {
    LANG: portal.lang,
    DOMAIN: portal.domain,
    PROTOCOL: 0,
    PATH: '/rest',
    AUTH_ID: token.access_token,
    AUTH_EXPIRES: String(world.options.accessTokenTtl),
    REFRESH_ID: token.refresh_token,
    MEMBER_ID: portal.member_id,
    IS_ADMIN: user.ADMIN,
    FIRST_RUN: !install.firstRunDone.has(user.ID),
    INSTALL: isInstall,
    USER_OPTIONS: phpObject(install.userOptions.get(user.ID) ?? {}),
    APP_OPTIONS: phpObject(install.appOptions),
    PLACEMENT: placement,
    PLACEMENT_OPTIONS: phpObject(options),
  };
  return {
    sid,
    iframe_name: `${portal.domain}|0|${sid}`,
    url: action.toString(),
    app_origin: action.origin,
    app_code: install.app.client_id,
    query,
    form,
    init,
  };
}
