/**
 * The cabinet's use cases over the Store port. Every call takes the Actor; the store filters on
 * (portal, owner), so "not yours" and "does not exist" are the same 404.
 *
 * A linked item and its calendar event are one thing: a change of its name, notes or times updates
 * the event, clearing its start or deleting it deletes the event, archiving keeps it. Those writes
 * are queued with the change itself (one transaction) and performed by the calendar sync.
 */
import type { CalendarGateway } from './calendar-sync.ts';
import type { Clock } from '../clock.ts';
import { AppError, ItemConflict } from './errors.ts';
import type { CalendarQueue, CalendarWork, ItemCursor, ItemInput, ItemQuery, ItemRepo } from './item-port.ts';
import { createItemIds, decodeCursor, encodeCursor, isItemId, PAGE_DEFAULT, PAGE_MAX, requireValidItem, type FieldIssue, type ItemDraft } from './items.ts';
import type { Actor, Item, ItemStatus } from './types.ts';

const notesOf = (data: Record<string, unknown> | null) => (typeof data?.notes === 'string' ? data.notes : '');

/** What changing `current` into `next` means for its calendar event (nothing when it has none). */
export function calendarWorkFor(current: Item, next: ItemInput, dueAt: number): CalendarWork | undefined {
  if (!current.calendarEventId) return undefined;
  if (next.startsAt === null) return { op: 'delete', eventId: current.calendarEventId };
  const changed =
    next.name !== current.name || notesOf(next.data) !== notesOf(current.data) || next.startsAt !== current.startsAt || next.endsAt !== current.endsAt;
  return changed ? { op: 'update', dueAt } : undefined;
}

export interface ListRequest {
  status?: ItemStatus;
  q?: string;
  limit?: number;
  cursor?: string;
}

const notFound = () => new AppError('not_found', 'Item not found.');

export interface ItemLimits {
  /** Items one user may keep (ITEMS_PER_USER_MAX): a clear 422 beyond, never unbounded growth. */
  perUser: number;
  /** Seconds a calendar update waits (CALENDAR_WRITE_DELAY_SECONDS): quick edits in a row are one write. */
  calendarWriteDelay: number;
}

/** The export reads the items this many at a time, so its memory does not grow with the dataset. */
const EXPORT_PAGE = 200;

export interface ItemServiceDeps {
  items: ItemRepo;
  calendar: CalendarGateway;
  queue: CalendarQueue;
  /** Called after a change queued a calendar write (the sync runs soon, not on its timer). */
  onCalendarWork: () => void;
  limits: ItemLimits;
  clock: Clock;
}

/** A list request as the store takes it: the page size bounded, the search trimmed, the cursor decoded. */
function pageQuery(req: ListRequest): ItemQuery {
  const limit = Math.min(Math.max(req.limit ?? PAGE_DEFAULT, 1), PAGE_MAX);
  const q = req.q?.trim().slice(0, 200) || undefined;
  return { status: req.status, q, limit, after: req.cursor ? decodeCursor(req.cursor) : undefined };
}

export function createItemService({ items, calendar, queue, onCalendarWork, limits, clock }: ItemServiceDeps) {
  const now = clock.now;
  const newItemId = createItemIds(clock.nowMs);
  const find = async (actor: Actor, id: string) => (await items.find(actor, id)) ?? Promise.reject(notFound());
  const create = async (actor: Actor, id: string, input: ReturnType<typeof requireValidItem>) => {
    if ((await items.count(actor)) >= limits.perUser) {
      throw new AppError('unprocessable', `You have reached the limit of ${limits.perUser} items. Delete some to add new ones.`, {
        fields: { name: 'item_limit_reached' satisfies FieldIssue },
      });
    }
    return items.create(actor, id, input, now());
  };

  return {
    /** A fresh id for a create form to propose (a retried submit then creates the item once). */
    newDraftId: newItemId,
    async list(actor: Actor, req: ListRequest) {
      const page = await items.list(actor, pageQuery(req));
      return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null };
    },
    /** The same page with each item as the JSON API's text where the store keeps it (item-port.ts `listJson`). */
    async listJson(actor: Actor, req: ListRequest) {
      const page = await items.listJson(actor, pageQuery(req));
      return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null };
    },
    find,
    /**
     * `proposedId` makes a create idempotent: the create form carries an id made when it was shown, so
     * the same form sent again (a retry after a lost or failed answer, a double click) returns the item
     * it already created instead of a duplicate. An id that is not ours to take (malformed, or another
     * owner's: the insert fails and we cannot see the row) is replaced by a fresh one.
     */
    async create(actor: Actor, draft: ItemDraft, proposedId?: string) {
      const input = requireValidItem(draft);
      if (!isItemId(proposedId)) return create(actor, newItemId(), input);
      const earlier = await items.find(actor, proposedId);
      if (earlier) return earlier;
      try {
        return await create(actor, proposedId, input);
      } catch (e) {
        if (e instanceof AppError) throw e;
        // Two sends of one form at once: the other one inserted first.
        const raced = await items.find(actor, proposedId);
        if (raced) return raced;
        return create(actor, newItemId(), input);
      }
    },
    /** Fields left out of the draft keep their current value; a stale version is a 409 with the current item. */
    async update(actor: Actor, id: string, version: number, draft: Partial<ItemDraft>) {
      const current = await find(actor, id);
      const merged: ItemDraft = {
        name: draft.name ?? current.name,
        data: draft.data !== undefined ? draft.data : current.data,
        status: draft.status ?? current.status,
        startsAt: draft.startsAt !== undefined ? draft.startsAt : current.startsAt,
        endsAt: draft.endsAt !== undefined ? draft.endsAt : current.endsAt,
      };
      const input = requireValidItem(merged);
      const work = current.version === version ? calendarWorkFor(current, input, now() + limits.calendarWriteDelay) : undefined;
      const r = await items.update(actor, id, version, input, now(), work);
      if (r.kind === 'not_found') throw notFound();
      if (r.kind === 'conflict') throw new ItemConflict(r.current);
      if (work) onCalendarWork();
      return r.item;
    },
    /** Deletes the item, and its calendar event with it. */
    async remove(actor: Actor, id: string) {
      const deleted = await items.delete(actor, id, now());
      if (!deleted) throw notFound();
      if (deleted.calendarEventId) onCalendarWork();
    },

    /** Every item of the actor, newest first, read a page at a time. */
    async *exportAll(actor: Actor): AsyncGenerator<Item> {
      let after: ItemCursor | undefined;
      do {
        const page = await items.list(actor, { limit: EXPORT_PAGE, after });
        yield* page.items;
        after = page.next ?? undefined;
      } while (after);
    },
    /**
     * Adds the item to the user's calendar; the item is never lost or changed if Bitrix24 refuses. On a
     * linked item whose last calendar write failed, tries that write again.
     */
    async linkCalendar(actor: Actor, id: string) {
      const needsStart = () =>
        new AppError('unprocessable', 'Set a start time to add the item to the calendar.', {
          fields: { starts_at: 'start_required_for_calendar' satisfies FieldIssue },
        });
      const item = await find(actor, id);
      if (item.startsAt === null) throw needsStart();
      if (item.calendarEventId) {
        // Linked already; a write that failed is asked for again (the row's retry button).
        if (item.calendarSync === 'failed' && (await queue.retryItem(actor, id, now()))) onCalendarWork();
        return find(actor, id);
      }
      const eventId = await calendar.add(actor, item);
      const linked = await items.setCalendarEvent(actor, id, eventId, now());
      // Another request linked it first (or it changed meanwhile): this event's deletion is queued.
      if (linked?.calendarEventId !== eventId) onCalendarWork();
      if (!linked) throw notFound();
      if (!linked.calendarEventId && linked.startsAt === null) throw needsStart();
      return linked;
    },
  };
}

export type ItemService = ReturnType<typeof createItemService>;
