/**
 * The control API for what happens to an installation over months (contract: these exact paths, on the
 * OAuth server's origin): the portal's billing of the app changes, an administrator renames the portal,
 * a new version of the app arrives.
 *   POST /_emulator/portals/:member_id/billing  {client_id?, status?, payment_expired?, days?}
 *   POST /_emulator/portals/:member_id/rename   {domain?}
 *   POST /_emulator/portals/:member_id/update   {client_id?, version?}
 */
import { updateApp } from './app-update.ts';
import { billingView, parseBillingChange, setBilling } from './billing.ts';
import { jsonResponse } from './html.ts';
import { parseRequestedDomain, renamePortal } from './portal-rename.ts';
import { asString } from './rest-request.ts';
import type { Portal, World } from './world.ts';

type Body = Record<string, unknown>;

const LIFECYCLE_ACTIONS = ['billing', 'rename', 'update'] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

export function isLifecycleAction(action: string): action is LifecycleAction {
  return (LIFECYCLE_ACTIONS as readonly string[]).includes(action);
}

function billing(world: World, portal: Portal, body: Body): Response {
  const app = world.apps.get(asString(body.client_id) ?? world.defaultClientId);
  if (!app) return jsonResponse({ error: 'app_not_found' }, 404);
  const change = parseBillingChange(body, world.clock.now());
  if (!change.ok) return jsonResponse({ error: change.error }, 400);
  return jsonResponse(billingView(setBilling(world, portal, app, change.apply)));
}

function rename(world: World, portal: Portal, body: Body): Response {
  const requested = parseRequestedDomain(body.domain);
  if (requested === 'invalid') return jsonResponse({ error: 'domain must be host:port (the emulator listens on that port)' }, 400);
  try {
    const { oldDomain, domain } = renamePortal(world, portal, requested);
    return jsonResponse({ old_domain: oldDomain, domain, portal_url: `${portal.origin}/`, client_endpoint: portal.client_endpoint });
  } catch (err) {
    return jsonResponse({ error: 'portal_not_renamed', error_description: err instanceof Error ? err.message : String(err) }, 409);
  }
}

function readVersion(value: unknown): number | undefined | 'invalid' {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : 'invalid';
}

async function update(world: World, portal: Portal, body: Body): Promise<Response> {
  const install = portal.installs.get(asString(body.client_id) ?? world.defaultClientId);
  if (!install) return jsonResponse({ error: 'app_not_installed' }, 409);
  const asked = readVersion(body.version);
  if (asked === 'invalid') return jsonResponse({ error: 'version must be a positive integer' }, 400);
  const version = asked ?? install.version + 1;
  if (version <= install.version) return jsonResponse({ error: `version must be above the installed ${install.version}` }, 400);
  const outcome = await updateApp(world, portal, install, version);
  return jsonResponse({ version: outcome.version, deliveries: outcome.deliveries, dropped_bindings: outcome.droppedBindings });
}

export function handleLifecycleControl(world: World, portal: Portal, action: LifecycleAction, body: Body): Response | Promise<Response> {
  switch (action) {
    case 'billing':
      return billing(world, portal, body);
    case 'rename':
      return rename(world, portal, body);
    case 'update':
      return update(world, portal, body);
  }
}
