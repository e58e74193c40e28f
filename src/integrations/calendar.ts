/**
 * The user's own Bitrix24 calendar, with the user's stored tokens (refreshed by the client when
 * needed): the gateway the item use cases and the calendar sync call (domain/calendar-sync.ts).
 * Bitrix24's failures become CalendarWriteError: `retry` when nobody answered or a limit refused the
 * call, `reconnect` when the user's tokens are missing or dead or the portal's subscription lapsed,
 * `refused` otherwise. Sources:
 * b24restdocs api-reference/calendar/calendar-event/calendar-event-{add,update,delete,get-by-id}.md
 * (their errors are an empty code and a message, so a refused write is checked with getbyid).
 */
import { isBitrixError, isUnanswered, LocalCode, type Bitrix } from '../bitrix/index.ts';
import { CalendarWriteError, DEFAULT_EVENT_LENGTH, type CalendarGateway } from '../domain/calendar-sync.ts';
import { AppError } from '../domain/errors.ts';
import type { Actor, Item } from '../domain/types.ts';
import type { Store } from '../store/store.ts';

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '+00:00');

/** The event's fields as the item says: name, start, end (an hour when it has none), notes. */
const eventFields = (item: Item) => ({
  name: item.name,
  from: iso(item.startsAt!),
  to: iso(item.endsAt ?? item.startsAt! + DEFAULT_EVENT_LENGTH),
  description: typeof item.data?.notes === 'string' ? item.data.notes : '',
});

function asWriteError(e: unknown): unknown {
  if (!isBitrixError(e)) return e;
  if (e.code === LocalCode.noTokens || e.code === LocalCode.tokensDead) return new CalendarWriteError('reconnect', e.code);
  // The portal's subscription lapsed: nothing works until it is paid and the user opens the app again
  // (their launch retries what waits for a reconnect), however long that takes.
  if (e.code === 'PAYMENT_REQUIRED') return new CalendarWriteError('reconnect', e.code);
  if (isUnanswered(e)) return new CalendarWriteError('retry', e.code);
  return new CalendarWriteError('refused', e.code || 'refused');
}

export function createCalendarGateway(store: Store, bitrix: Bitrix): CalendarGateway {
  /** The user's client on their portal (null: the app no longer holds it, nobody to write as). */
  async function client(actor: Actor) {
    const portal = await store.portals.findById(actor.portalId);
    return portal ? bitrix.client(portal, { kind: 'user', userId: actor.userId }) : null;
  }
  /** A queued write's call: its failures classified for the worker. */
  async function call<T>(actor: Actor, method: string, params: Record<string, unknown>): Promise<T | undefined> {
    const c = await client(actor);
    if (!c) throw new CalendarWriteError('reconnect', 'portal gone');
    try {
      return (await c.call<T>(method, params)).result;
    } catch (e) {
      throw asWriteError(e);
    }
  }
  const owner = (actor: Actor) => ({ type: 'user', ownerId: actor.userId });

  return {
    /** The user's own click, answered at once: Bitrix24's failure goes to them as it is (errors.ts). */
    async add(actor, item) {
      const c = await client(actor);
      if (!c) throw new AppError('unauthorized', 'Your session has expired. Reopen the app from Bitrix24.');
      const answer = await c.call<number | string>('calendar.event.add', { ...owner(actor), ...eventFields(item) });
      const id = String(answer.result ?? '');
      if (!/^\d+$/.test(id)) throw new AppError('upstream', 'Bitrix24 did not return a calendar event id.');
      return id;
    },
    async update(actor, eventId, item) {
      await call(actor, 'calendar.event.update', { id: eventId, ...owner(actor), ...eventFields(item) });
    },
    async delete(actor, eventId) {
      await call(actor, 'calendar.event.delete', { id: eventId });
    },
    async read(actor, eventId) {
      const event = await call<Record<string, unknown> | null>(actor, 'calendar.event.getbyid', { id: eventId });
      if (!event || typeof event !== 'object') return null;
      const startsAt = Number(event.DATE_FROM_TS_UTC);
      const endsAt = Number(event.DATE_TO_TS_UTC);
      // Answered, but not as the documents say an event looks: nothing to trust; try again later.
      if (!Number.isInteger(startsAt) || !Number.isInteger(endsAt)) throw new CalendarWriteError('retry', 'event without DATE_FROM_TS_UTC');
      return {
        calendar: { type: String(event.CAL_TYPE ?? ''), ownerId: Number(event.OWNER_ID) },
        name: String(event.NAME ?? ''),
        description: String(event.DESCRIPTION ?? ''),
        startsAt,
        endsAt,
      };
    },
  };
}
