/**
 * What happens when something changes on a portal, whoever did it (an app's REST call, the app itself
 * included, or a user in the Bitrix24 UI), as Bitrix24 documents it (DOCS api-reference/events/index.md,
 * offline-events.md, on-offline-event.md). Every installed app that bound the event hears about it:
 * - online bindings get the usual POST (event-sender.ts; no retry);
 * - offline bindings get a record in the app's queue instead, never a POST, except when the change came
 *   from this app's own call with the same non-empty `auth_connector` the binding was made with
 *   (offline-events.md, "How to avoid cycles");
 * - an app whose queue got records is sent ONOFFLINEEVENT (empty `data`, a refresh token) by its
 *   online bindings of that event, at most once per `minTimeout` seconds (default 1), or once per hit
 *   with `minTimeout` 0 (on-offline-event.md). A notification held back is not sent later.
 */
import { buildEventAuth, buildEventBody, dispatchEvent, hearsEvents, postEvent, type Delivery } from './event-sender.ts';
import { enqueueOffline } from './offline-queue.ts';
import { log, type EventBinding, type Installation, type Portal, type World } from './world.ts';

export const OFFLINE_SIGNAL = 'ONOFFLINEEVENT';
const DEFAULT_MIN_TIMEOUT = 1;

/** Who made a change, and through which door. */
export interface ChangeOrigin {
  /** The portal user whose action it was; 0 for none (a robot, an agent). */
  userId: number;
  /** The Bitrix24 hit (one REST request, batch included, or one UI action) it happened in. */
  hit: number;
  /** The app whose REST call made the change, if one did. */
  clientId?: string;
  /** The `auth_connector` that call passed ('' for none). */
  authConnector: string;
}

export interface Publication {
  /** Online deliveries, ONOFFLINEEVENT included; resolves when every POST has been answered. */
  deliveries: Promise<Delivery[]>;
  /** Offline records written (added or merged) across apps. */
  queued: number;
}

function skipsOwnChange(install: Installation, binding: EventBinding, origin: ChangeOrigin): boolean {
  return origin.clientId === install.app.client_id && origin.authConnector !== '' && origin.authConnector === binding.connector_id;
}

function queueForApp(world: World, portal: Portal, install: Installation, event: string, data: Record<string, unknown>, origin: ChangeOrigin): number {
  let written = 0;
  for (const binding of install.events) {
    if (!binding.offline || binding.event !== event || skipsOwnChange(install, binding, origin)) continue;
    const change = { eventName: event, data, userId: origin.userId, connectorId: binding.connector_id };
    const outcome = enqueueOffline(install.offline, change, () => ++portal.counters.offline, world.clock.now());
    if (outcome === 'dropped') {
      world.stats.bump('offline_events_dropped', portal.member_id);
      log(world, 'offline queue full, record dropped', { event, member_id: portal.member_id, client_id: install.app.client_id });
      continue;
    }
    world.stats.bump('offline_events_queued', portal.member_id);
    written++;
  }
  return written;
}

/** The minTimeout gate of one ONOFFLINEEVENT binding; records the send when it lets one through. */
function signalDue(binding: EventBinding, hit: number, nowMs: number): boolean {
  const timeout = binding.min_timeout ?? DEFAULT_MIN_TIMEOUT;
  const last = binding.last_signal;
  if (last && (timeout > 0 ? nowMs - last.at_ms < timeout * 1000 : last.hit === hit)) return false;
  binding.last_signal = { at_ms: nowMs, hit };
  return true;
}

function signalOfflineEvent(world: World, portal: Portal, install: Installation, origin: ChangeOrigin): Promise<Delivery[]> {
  const now = world.clock.now();
  const due = install.events.filter((b) => b.event === OFFLINE_SIGNAL && !b.offline && signalDue(b, origin.hit, now));
  return Promise.all(
    due.map((b) => {
      const onBehalfOf = b.auth_type || origin.userId;
      const auth = buildEventAuth(world, portal, install, onBehalfOf, onBehalfOf ? 'with-refresh' : 'none');
      return postEvent(world, portal, b.handler, buildEventBody(world, OFFLINE_SIGNAL, b.id, {}, auth));
    }),
  );
}

/**
 * Publishes `event` with `data` to every installed app of the portal. Queue records are written before
 * this returns; online POSTs run in the background (await `deliveries` to wait for them).
 */
export function publishEvent(world: World, portal: Portal, event: string, data: Record<string, unknown>, origin: ChangeOrigin): Publication {
  const name = event.toUpperCase();
  const posts: Promise<Delivery[]>[] = [];
  let queued = 0;
  for (const install of portal.installs.values()) {
    if (!hearsEvents(world, portal, install)) continue;
    posts.push(dispatchEvent(world, portal, install, name, data, origin.userId));
    const written = queueForApp(world, portal, install, name, data, origin);
    queued += written;
    if (written > 0) posts.push(signalOfflineEvent(world, portal, install, origin));
  }
  return { deliveries: Promise.all(posts).then((lists) => lists.flat()), queued };
}
