/**
 * Server-to-server event delivery, as Bitrix24 does it: one POST per handler, form-encoded with PHP
 * bracket keys and string values (`auth[access_token]=…&data[VERSION]=1`), no retry. A refresh token
 * comes with ONAPPINSTALL, ONAPPUPDATE and ONOFFLINEEVENT; ONAPPUNINSTALL carries no tokens at all (CORE
 * sendAuth=false). An app whose paid period has lapsed hears nothing: CORE skips the handlers of an app
 * with PAYMENT_EXPIRED=Y (rest/lib/event/callback.php; billing.ts).
 */
import { billingOf, paymentLapsed } from './billing.ts';
import { encodePhpForm } from './php-form.ts';
import { grantFor, log, serverEndpoint, type Installation, type Portal, type World } from './world.ts';

export type EventAuth = 'with-refresh' | 'access-only' | 'none';

export interface Delivery {
  url: string;
  status: number;
  error?: string;
}

const DELIVERY_TIMEOUT_MS = 10_000;

export function buildEventAuth(
  world: World,
  portal: Portal,
  install: Installation,
  userId: number,
  kind: EventAuth,
): Record<string, string> {
  const base = {
    domain: portal.domain,
    client_endpoint: portal.client_endpoint,
    server_endpoint: serverEndpoint(world),
    member_id: portal.member_id,
    application_token: install.application_token,
  };
  if (kind === 'none') return base;
  const token = world.tokens.issue(grantFor(portal, install, userId));
  const auth: Record<string, string> = {
    access_token: token.access_token,
    expires: String(Math.floor(token.expiresAt / 1000)),
    expires_in: String(world.options.accessTokenTtl),
    scope: install.app.scope.join(','),
    ...base,
    status: billingOf(world, portal, install.app).status,
    user_id: String(userId),
  };
  if (kind === 'with-refresh') auth.refresh_token = token.refresh_token;
  return auth;
}

/** Whether the portal sends this app events at all: installed (INSTALLED=Y) and not lapsed. */
export function hearsEvents(world: World, portal: Portal, install: Installation): boolean {
  return install.installed && !paymentLapsed(world, portal, install.app);
}

export function buildEventBody(
  world: World,
  event: string,
  handlerId: number,
  data: Record<string, unknown>,
  auth: Record<string, string>,
): Record<string, unknown> {
  return { event, event_handler_id: String(handlerId), data, ts: String(world.clock.nowSeconds()), auth };
}

export async function postEvent(world: World, portal: Portal, url: string, body: Record<string, unknown>): Promise<Delivery> {
  const event = String(body.event);
  world.stats.bump('events_started', portal.member_id);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Bitrix24 Webhook Engine' },
      body: encodePhpForm(body),
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      redirect: 'manual',
    });
    await res.arrayBuffer().catch(() => undefined);
    world.stats.bump(res.ok ? 'events_sent' : 'events_failed', portal.member_id);
    log(world, 'event delivered', { event, url, status: res.status, member_id: portal.member_id });
    return { url, status: res.status };
  } catch (err) {
    world.stats.bump('events_failed', portal.member_id);
    const error = err instanceof Error ? err.message : String(err);
    log(world, 'event delivery failed', { event, url, error, member_id: portal.member_id });
    return { url, status: 0, error };
  }
}

/**
 * Sends an ordinary event to every online handler the app bound for it (offline bindings are never
 * called: their events go to the queue, see event-bus.ts). Nothing is delivered until the app is
 * installed (INSTALLED=Y), which is the "forgot installFinish" trap real developers fall into, nor once
 * its paid period has lapsed. Without a
 * user behind the change (`userId` 0) and no `auth_type`, no tokens are sent (DOCS events/index.md).
 */
export async function dispatchEvent(
  world: World,
  portal: Portal,
  install: Installation,
  event: string,
  data: Record<string, unknown>,
  userId: number,
): Promise<Delivery[]> {
  if (!hearsEvents(world, portal, install)) return [];
  const bindings = install.events.filter((b) => b.event === event.toUpperCase() && !b.offline);
  return Promise.all(
    bindings.map((b) => {
      const onBehalfOf = b.auth_type || userId;
      const auth = buildEventAuth(world, portal, install, onBehalfOf, onBehalfOf ? 'access-only' : 'none');
      return postEvent(world, portal, b.handler, buildEventBody(world, event.toUpperCase(), b.id, data, auth));
    }),
  );
}
