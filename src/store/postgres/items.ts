/**
 * Items, always filtered by (portal_id, owner_id): another owner's row is simply not found. A change
 * that needs a calendar write queues it in the same transaction (calendar-queue.ts), so a crash never
 * keeps one without the other.
 */
import type { SQL } from 'bun';
import { nextCursorOf as nextCursor, type CalendarWork, type ItemQuery } from '../../domain/item-port.ts';
import { foldForSearch } from '../../domain/items.ts';
import type { Actor, Item } from '../../domain/types.ts';
import type { ItemInput, ItemRepo } from '../store.ts';
import { num, numOrNull } from './rows.ts';

interface ItemRow {
  id: string;
  portal_id: string;
  owner_id: string;
  name: string;
  data: string | null;
  status: Item['status'];
  starts_at: string | null;
  ends_at: string | null;
  calendar_event_id: string | null;
  calendar_sync: Item['calendarSync'];
  created_at: string;
  updated_at: string;
  version: number;
}

const toItem = (r: ItemRow): Item => ({
  id: r.id,
  portalId: num(r.portal_id),
  ownerId: num(r.owner_id),
  name: r.name,
  data: r.data === null ? null : (JSON.parse(r.data) as Record<string, unknown>),
  status: r.status,
  startsAt: numOrNull(r.starts_at),
  endsAt: numOrNull(r.ends_at),
  calendarEventId: r.calendar_event_id,
  calendarSync: r.calendar_sync,
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at),
  version: num(r.version),
});

const columns = (input: ItemInput) => ({
  name: input.name,
  nameFold: foldForSearch(input.name),
  data: input.data === null ? null : JSON.stringify(input.data),
  status: input.status,
  startsAt: input.startsAt,
  endsAt: input.endsAt,
});

const first = (rows: ItemRow[]) => rows[0] ?? null;

export function createItemRepo(sql: SQL): ItemRepo {
  /** Every statement on items goes through this: the portal AND the owner. */
  const mine = (q: SQL, actor: Actor, id: string) => q`portal_id = ${actor.portalId} AND owner_id = ${actor.userId} AND id = ${id}`;
  const findOne = async (q: SQL, actor: Actor, id: string) => first(await q`SELECT * FROM items WHERE ${mine(q, actor, id)}`);

  const queueDelete = (q: SQL, actor: Actor, id: string, eventId: string, now: number) =>
    q`INSERT INTO calendar_jobs (portal_id, owner_id, item_id, op, event_id, next_at, created_at)
      VALUES (${actor.portalId}, ${actor.userId}, ${id}, 'delete', ${eventId}, ${now}, ${now})`;

  /** Queues `work` for the item (in the caller's transaction); the item's row as it is then. */
  const queue = async (tx: SQL, actor: Actor, id: string, work: CalendarWork, now: number): Promise<ItemRow | null> => {
    if (work.op === 'update') {
      await tx`
        INSERT INTO calendar_jobs (portal_id, owner_id, item_id, op, next_at, created_at)
        VALUES (${actor.portalId}, ${actor.userId}, ${id}, 'update', ${work.dueAt}, ${now})
        ON CONFLICT (portal_id, item_id) WHERE op = 'update' DO UPDATE SET
          state = 'pending', attempts = 0, next_at = excluded.next_at, generation = calendar_jobs.generation + 1, last_error = NULL`;
      return first(await tx`UPDATE items SET calendar_sync = 'pending' WHERE ${mine(tx, actor, id)} RETURNING *`);
    }
    await tx`DELETE FROM calendar_jobs WHERE portal_id = ${actor.portalId} AND item_id = ${id} AND op = 'update'`;
    await queueDelete(tx, actor, id, work.eventId, now);
    return first(await tx`UPDATE items SET calendar_event_id = NULL, calendar_sync = NULL WHERE ${mine(tx, actor, id)} RETURNING *`);
  };

  /** The WHERE of one page of the actor's items (filters, the cursor). */
  const pageWhere = (actor: Actor, query: ItemQuery) => {
    const where = [sql`portal_id = ${actor.portalId} AND owner_id = ${actor.userId}`];
    if (query.status) where.push(sql`AND status = ${query.status}`);
    if (query.q) where.push(sql`AND strpos(name_fold, ${foldForSearch(query.q)}) > 0`);
    if (query.after) {
      const { createdAt, id } = query.after;
      where.push(sql`AND (created_at < ${createdAt} OR (created_at = ${createdAt} AND id < ${id}))`);
    }
    return where;
  };

  return {
    list: async (actor, query) => {
      const rows: ItemRow[] = await sql`
        SELECT * FROM items WHERE ${pageWhere(actor, query)} ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`;
      return { items: rows.slice(0, query.limit).map(toItem), next: nextCursor(rows, query.limit) };
    },
    listJson: async (actor, query) => {
      const rows: { id: string; created_at: string; api_json: string | null }[] = await sql`
        SELECT id, created_at, api_json FROM items WHERE ${pageWhere(actor, query)} ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`;
      const items: (string | Item)[] = [];
      for (const r of rows.slice(0, query.limit)) items.push(r.api_json ?? toItem((await findOne(sql, actor, r.id))!));
      return { items, next: nextCursor(rows, query.limit) };
    },
    find: async (actor, id) => {
      const r = await findOne(sql, actor, id);
      return r ? toItem(r) : null;
    },
    create: async (actor, id, input, now) => {
      const c = columns(input);
      const [row] = await sql`
        INSERT INTO items (id, portal_id, owner_id, name, name_fold, data, status, starts_at, ends_at,
                           created_at, updated_at, version)
        VALUES (${id}, ${actor.portalId}, ${actor.userId}, ${c.name}, ${c.nameFold}, ${c.data}, ${c.status},
                ${c.startsAt}::bigint, ${c.endsAt}::bigint, ${now}, ${now}, 1)
        RETURNING *`;
      return toItem(row as ItemRow);
    },
    update: async (actor, id, expectedVersion, input, now, work) => {
      const c = columns(input);
      const r = await sql.begin(async (tx) => {
        const updated = first(await tx`
          UPDATE items SET name = ${c.name}, name_fold = ${c.nameFold}, data = ${c.data}, status = ${c.status},
            starts_at = ${c.startsAt}::bigint, ends_at = ${c.endsAt}::bigint, updated_at = ${now}, version = version + 1
          WHERE ${mine(tx, actor, id)} AND version = ${expectedVersion} RETURNING *`);
        return updated && work ? queue(tx, actor, id, work, now) : updated;
      });
      if (r) return { kind: 'updated', item: toItem(r) };
      const current = await findOne(sql, actor, id);
      return current ? { kind: 'conflict', current: toItem(current) } : { kind: 'not_found' };
    },
    applyFromCalendar: async (actor, id, eventId, input, now) => {
      const c = columns(input);
      const r = first(await sql`
        UPDATE items SET name = ${c.name}, name_fold = ${c.nameFold}, data = ${c.data},
          starts_at = ${c.startsAt}::bigint, ends_at = ${c.endsAt}::bigint, updated_at = ${now}, version = version + 1
        WHERE ${mine(sql, actor, id)} AND calendar_event_id = ${eventId} AND calendar_sync IS DISTINCT FROM 'pending'
        RETURNING *`);
      return r ? toItem(r) : null;
    },
    setCalendarEvent: async (actor, id, eventId, now) => {
      const r = await sql.begin(async (tx) => {
        // Only an item that is not linked yet and still has a start: a second "Add to calendar" that
        // raced the first does not overwrite the link, whose event would then stay unknown to the app.
        const linked = first(await tx`
          UPDATE items SET calendar_event_id = ${eventId}, calendar_sync = 'synced', updated_at = ${now}, version = version + 1
          WHERE ${mine(tx, actor, id)} AND calendar_event_id IS NULL AND starts_at IS NOT NULL RETURNING *`);
        if (linked) return linked;
        // Linked meanwhile, its start cleared, or deleted: the new event is nobody's; it goes.
        await queueDelete(tx, actor, id, eventId, now);
        return findOne(tx, actor, id);
      });
      return r ? toItem(r) : null;
    },
    delete: async (actor, id, now) => {
      const gone = await sql.begin(async (tx) => {
        const row = first(await tx`DELETE FROM items WHERE ${mine(tx, actor, id)} RETURNING *`);
        if (row?.calendar_event_id) await queue(tx, actor, id, { op: 'delete', eventId: row.calendar_event_id }, now);
        return row;
      });
      return gone ? toItem(gone) : null;
    },
    count: async (actor) => {
      const [r] = await sql`SELECT count(*)::int AS n FROM items WHERE portal_id = ${actor.portalId} AND owner_id = ${actor.userId}`;
      return num(r.n);
    },
  };
}
