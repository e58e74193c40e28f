/**
 * The calendar link: `calendar.event.add` on the user's own calendar, with the user's stored tokens
 * (refreshed by the client when needed). Failures surface as BitrixError; the item is untouched.
 */
import type { Bitrix } from '../bitrix/index.ts';
import { AppError } from '../domain/errors.ts';
import type { CalendarPort } from '../domain/item-service.ts';
import type { Store } from '../store/store.ts';

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '+00:00');

export function createCalendarPort(store: Store, bitrix: Bitrix): CalendarPort {
  return async (actor, item) => {
    const portal = await store.portals.findById(actor.portalId);
    if (!portal) throw new AppError('unauthorized', 'Your session has expired. Reopen the app from Bitrix24.');
    const start = item.startsAt!;
    const end = item.endsAt ?? start + 3600;
    const answer = await bitrix.client(portal, { kind: 'user', userId: actor.userId }).call<number | string>('calendar.event.add', {
      type: 'user',
      ownerId: actor.userId,
      name: item.name,
      from: iso(start),
      to: iso(end),
      description: typeof item.data?.notes === 'string' ? item.data.notes : '',
    });
    const id = String(answer.result ?? '');
    if (!/^\d+$/.test(id)) throw new AppError('upstream', 'Bitrix24 did not return a calendar event id.');
    return id;
  };
}
