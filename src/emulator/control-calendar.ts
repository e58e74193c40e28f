/**
 * Control API for the portal's people and queues, beyond the app: a user who edits or deletes a
 * calendar entry in the Bitrix24 UI (so ONCALENDARENTRYUPDATE / DELETE reach every bound app as they
 * would, posted or queued, with that user's token), and a view of the apps' offline queues.
 *   POST   /_emulator/portals/:member_id/calendar/:id   {user_id?, name?, description?, from?, to?, …}
 *   DELETE /_emulator/portals/:member_id/calendar/:id   [?user_id= or {user_id}]
 *   GET    /_emulator/portals/:member_id/offline-events[?client_id=]
 * `user_id` defaults to the entry's owner (user calendars) or author. The same access rules as REST
 * apply (403). Answers wait for the online deliveries, so a test can look at what its app received.
 */
import { CalendarRefusal, deleteCalendarEvent, findCalendarEvent, presentCalendarEvent, updateCalendarEvent } from './calendar-store.ts';
import type { ChangeOrigin } from './event-bus.ts';
import { publishEvent } from './event-bus.ts';
import { jsonResponse } from './html.ts';
import { queueDepths } from './offline-queue.ts';
import { asString, type Params } from './rest-request.ts';
import { findUser, type CalendarEvent, type Portal, type World } from './world.ts';

const REFUSAL_STATUS = { invalid: 400, denied: 403, not_found: 404 } as const;

function refusalResponse(err: unknown): Response {
  if (!(err instanceof CalendarRefusal)) throw err;
  const code = err.reason === 'denied' ? 'access_denied' : err.reason;
  return jsonResponse({ error: code, error_description: err.message }, REFUSAL_STATUS[err.reason]);
}

function uiOrigin(portal: Portal, userId: number): ChangeOrigin {
  return { userId, hit: ++portal.counters.hit, authConnector: '' };
}

async function publishAndWait(world: World, portal: Portal, event: string, entry: CalendarEvent, userId: number) {
  const publication = publishEvent(world, portal, event, { id: String(entry.ID) }, uiOrigin(portal, userId));
  return { deliveries: await publication.deliveries, queued: publication.queued };
}

/** A user changes (POST) or deletes (DELETE) calendar entry `id` in the Bitrix24 UI. */
export async function handleCalendarControl(world: World, portal: Portal, method: string, id: string, body: Params): Promise<Response> {
  const entry = findCalendarEvent(portal, Number(id));
  if (!entry) return jsonResponse({ error: 'not_found', error_description: 'No such calendar entry' }, 404);
  const defaultUser = entry.type === 'user' ? entry.ownerId : entry.createdBy;
  const user = findUser(portal, Number(asString(body.user_id) ?? defaultUser));
  if (!user) return jsonResponse({ error: 'user_not_found' }, 404);
  try {
    if (method === 'DELETE') {
      deleteCalendarEvent(portal, entry, user);
      return jsonResponse({ deleted: true, ...(await publishAndWait(world, portal, 'ONCALENDARENTRYDELETE', entry, user.ID)) });
    }
    updateCalendarEvent(entry, user, body, world.clock.now());
  } catch (err) {
    return refusalResponse(err);
  }
  const published = await publishAndWait(world, portal, 'ONCALENDARENTRYUPDATE', entry, user.ID);
  return jsonResponse({ event: presentCalendarEvent(entry), ...published });
}

/** How deep each app's offline queue is, per connector. */
export function offlineQueueView(portal: Portal, clientId: string | null): Response {
  const installs = [...portal.installs.values()].filter((i) => clientId === null || i.app.client_id === clientId);
  const apps = installs.map((install) => {
    const queues = queueDepths(install.offline);
    return { client_id: install.app.client_id, total: install.offline.length, queues };
  });
  return jsonResponse({ member_id: portal.member_id, total: apps.reduce((n, a) => n + a.total, 0), apps });
}
