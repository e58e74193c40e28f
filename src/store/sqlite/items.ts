/**
 * Items, always filtered by (portal_id, owner_id): another owner's row is simply not found. A change
 * that needs a calendar write queues it in the same transaction (calendar-queue.ts), so a crash never
 * keeps one without the other.
 */
import type { Database } from 'bun:sqlite';
import { nextCursorOf as nextCursor, type CalendarWork, type ItemQuery } from '../../domain/item-port.ts';
import { foldForSearch } from '../../domain/items.ts';
import type { Actor, Item } from '../../domain/types.ts';
import type { ItemInput, ItemRepo } from '../store.ts';

interface ItemRow {
  id: string;
  portal_id: number;
  owner_id: number;
  name: string;
  data: string | null;
  status: Item['status'];
  starts_at: number | null;
  ends_at: number | null;
  calendar_event_id: string | null;
  calendar_sync: Item['calendarSync'];
  created_at: number;
  updated_at: number;
  version: number;
}

const toItem = (r: ItemRow): Item => ({
  id: r.id,
  portalId: r.portal_id,
  ownerId: r.owner_id,
  name: r.name,
  data: r.data === null ? null : (JSON.parse(r.data) as Record<string, unknown>),
  status: r.status,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  calendarEventId: r.calendar_event_id,
  calendarSync: r.calendar_sync,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  version: r.version,
});

const columns = (input: ItemInput) => ({
  name: input.name,
  name_fold: foldForSearch(input.name),
  data: input.data === null ? null : JSON.stringify(input.data),
  status: input.status,
  starts_at: input.startsAt,
  ends_at: input.endsAt,
});

type Params = Record<string, string | number | null>;

export function createItemRepo(db: Database): ItemRepo {
  const scope = 'portal_id = $portal_id AND owner_id = $owner_id';
  const findOne = db.query<ItemRow, Params>(`SELECT * FROM items WHERE ${scope} AND id = $id`);
  const insert = db.query<ItemRow, Params>(
    `INSERT INTO items (id, portal_id, owner_id, name, name_fold, data, status, starts_at, ends_at,
                        created_at, updated_at, version)
     VALUES ($id, $portal_id, $owner_id, $name, $name_fold, $data, $status, $starts_at, $ends_at, $now, $now, 1)
     RETURNING *`,
  );
  const update = db.query<ItemRow, Params>(
    `UPDATE items SET name = $name, name_fold = $name_fold, data = $data, status = $status,
       starts_at = $starts_at, ends_at = $ends_at, updated_at = $now, version = version + 1
     WHERE ${scope} AND id = $id AND version = $version RETURNING *`,
  );
  // Only an item that is not linked yet and still has a start: a second "Add to calendar" that raced
  // the first (a double click, a retried request) or a change made while Bitrix24 created the event
  // does not overwrite the link, whose event would then stay in the calendar unknown to the app.
  const link = db.query<ItemRow, Params>(
    `UPDATE items SET calendar_event_id = $event_id, calendar_sync = 'synced', updated_at = $now, version = version + 1
     WHERE ${scope} AND id = $id AND calendar_event_id IS NULL AND starts_at IS NOT NULL RETURNING *`,
  );
  const fromCalendar = db.query<ItemRow, Params>(
    `UPDATE items SET name = $name, name_fold = $name_fold, data = $data, starts_at = $starts_at, ends_at = $ends_at,
       updated_at = $now, version = version + 1
     WHERE ${scope} AND id = $id AND calendar_event_id = $event_id AND calendar_sync IS NOT 'pending' RETURNING *`,
  );
  const queueUpdate = db.query<unknown, Params>(
    `INSERT INTO calendar_jobs (portal_id, owner_id, item_id, op, next_at, created_at)
     VALUES ($portal_id, $owner_id, $id, 'update', $due_at, $now)
     ON CONFLICT (portal_id, item_id) WHERE op = 'update' DO UPDATE SET
       state = 'pending', attempts = 0, next_at = $due_at, generation = generation + 1, last_error = NULL`,
  );
  const queueDelete = db.query<unknown, Params>(
    `INSERT INTO calendar_jobs (portal_id, owner_id, item_id, op, event_id, next_at, created_at)
     VALUES ($portal_id, $owner_id, $id, 'delete', $event_id, $now, $now)`,
  );
  const dropUpdate = db.query<unknown, Params>(`DELETE FROM calendar_jobs WHERE portal_id = $portal_id AND item_id = $id AND op = 'update'`);
  const markPending = db.query<ItemRow, Params>(`UPDATE items SET calendar_sync = 'pending' WHERE ${scope} AND id = $id RETURNING *`);
  const unlink = db.query<ItemRow, Params>(`UPDATE items SET calendar_event_id = NULL, calendar_sync = NULL WHERE ${scope} AND id = $id RETURNING *`);

  /** Queues `work` for the item (in the caller's transaction); the item's row as it is then. */
  const queue = (key: Params, work: CalendarWork, now: number): ItemRow | null => {
    if (work.op === 'update') {
      queueUpdate.run({ ...key, now, due_at: work.dueAt });
      return markPending.get(key);
    }
    dropUpdate.run({ portal_id: key.portal_id!, id: key.id! });
    queueDelete.run({ ...key, event_id: work.eventId, now });
    return unlink.get(key);
  };
  const remove = db.query<ItemRow, Params>(`DELETE FROM items WHERE ${scope} AND id = $id RETURNING *`);
  const count = db.query<{ n: number }, Params>(`SELECT count(*) AS n FROM items WHERE ${scope}`);

  /** The WHERE of one page of the actor's items (filters, the cursor) and its parameters. */
  const pageWhere = (actor: Actor, query: ItemQuery): { where: string; params: Params } => {
    const where = [scope];
    const params: Params = { portal_id: actor.portalId, owner_id: actor.userId, limit: query.limit + 1 };
    if (query.status) {
      where.push('status = $status');
      params.status = query.status;
    }
    if (query.q) {
      where.push('instr(name_fold, $q) > 0');
      params.q = foldForSearch(query.q);
    }
    if (query.after) {
      where.push('(created_at < $c_at OR (created_at = $c_at AND id < $c_id))');
      params.c_at = query.after.createdAt;
      params.c_id = query.after.id;
    }
    return { where: where.join(' AND '), params };
  };

  return {
    list: async (actor, query) => {
      const { where, params } = pageWhere(actor, query);
      const rows = db.query<ItemRow, Params>(`SELECT * FROM items WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $limit`).all(params);
      const page = rows.slice(0, query.limit).map(toItem);
      return { items: page, next: nextCursor(rows, query.limit) };
    },
    listJson: async (actor, query) => {
      const { where, params } = pageWhere(actor, query);
      // The cabinet's hottest statement, so it reads as little as it can: the stored JSON (and an id
      // only where none is stored), as arrays rather than objects; the cursor's two values from a
      // second, one-row statement, and only when there is a next page.
      const rows = db
        .query<[Uint8Array | null, string | null], Params>(
          `SELECT CAST(api_json AS BLOB), CASE WHEN api_json IS NULL THEN id END FROM items WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $limit`,
        )
        .values(params) as [Uint8Array | null, string | null][];
      const items: (Uint8Array | Item)[] = [];
      for (let i = 0; i < rows.length && i < query.limit; i++) {
        const [json, id] = rows[i]!;
        items.push(json ?? toItem(findOne.get({ portal_id: actor.portalId, owner_id: actor.userId, id: id! })!));
      }
      if (rows.length <= query.limit) return { items, next: null };
      const last = db
        .query<{ id: string; created_at: number }, Params>(
          `SELECT id, created_at FROM items WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $offset`,
        )
        .get({ ...params, offset: query.limit - 1 });
      return { items, next: last ? { createdAt: last.created_at, id: last.id } : null };
    },
    find: async (actor, id) => {
      const r = findOne.get({ portal_id: actor.portalId, owner_id: actor.userId, id });
      return r ? toItem(r) : null;
    },
    create: async (actor, id, input, now) =>
      toItem(insert.get({ id, portal_id: actor.portalId, owner_id: actor.userId, ...columns(input), now })!),
    update: async (actor, id, expectedVersion, input, now, work) => {
      const key = { portal_id: actor.portalId, owner_id: actor.userId, id };
      const r = db.transaction(() => {
        const updated = update.get({ ...key, ...columns(input), now, version: expectedVersion });
        return updated && work ? queue(key, work, now) : updated;
      })();
      if (r) return { kind: 'updated', item: toItem(r) };
      const current = findOne.get(key);
      return current ? { kind: 'conflict', current: toItem(current) } : { kind: 'not_found' };
    },
    applyFromCalendar: async (actor, id, eventId, input, now) => {
      const { status: _kept, ...fields } = columns(input);
      const r = fromCalendar.get({ portal_id: actor.portalId, owner_id: actor.userId, id, event_id: eventId, ...fields, now });
      return r ? toItem(r) : null;
    },
    setCalendarEvent: async (actor, id, eventId, now) => {
      const key = { portal_id: actor.portalId, owner_id: actor.userId, id };
      const r = db.transaction(() => {
        const linked = link.get({ ...key, event_id: eventId, now });
        if (linked) return linked;
        // Linked meanwhile, its start cleared, or deleted: the new event is nobody's; it goes.
        queueDelete.run({ ...key, event_id: eventId, now });
        return findOne.get(key);
      })();
      return r ? toItem(r) : null;
    },
    delete: async (actor, id, now) => {
      const key = { portal_id: actor.portalId, owner_id: actor.userId, id };
      const gone = db.transaction(() => {
        const row = remove.get(key);
        if (row?.calendar_event_id) queue(key, { op: 'delete', eventId: row.calendar_event_id }, now);
        return row;
      })();
      return gone ? toItem(gone) : null;
    },
    count: async (actor) => count.get({ portal_id: actor.portalId, owner_id: actor.userId })!.n,
  };
}
