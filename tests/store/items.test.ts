import { expect, it } from 'bun:test';
import { itemJson } from '../../src/http/items-api.ts';
import type { ItemInput } from '../../src/store/store.ts';
import { forEachBackend, seedPortal } from './backends.ts';

const input = (name: string, more: Partial<ItemInput> = {}): ItemInput => ({ name, data: null, status: 'active', startsAt: null, endsAt: null, ...more });

forEachBackend('item repository', (backend) => {
  async function world() {
    const { store, db } = await backend.freshStore();
    const p = await seedPortal(store, 'p1');
    const q = await seedPortal(store, 'p2');
    return { store, db, me: { portalId: p.id, userId: 7 }, colleague: { portalId: p.id, userId: 8 }, elsewhere: { portalId: q.id, userId: 7 } };
  }

  it('data comes back byte for byte (JSON through the API), with numbers for times and versions', async () => {
    const data = { note: 'Отчёт «кавычки» \u2028 "q" \\ 😀', nested: { a: [1, 2.5, -0.125, null, true], big: 9007199254740991 }, empty: {}, '': 'key' };
    const { store: s2, me: me2 } = await world();
    const created = await s2.items.create(me2, 'i1', input('Name', { data, startsAt: 1_800_000_000, endsAt: 1_800_003_600 }), 1_700_000_000);
    expect(created).toEqual({
      id: 'i1', portalId: me2.portalId, ownerId: 7, name: 'Name', data, status: 'active', startsAt: 1_800_000_000, endsAt: 1_800_003_600,
      calendarEventId: null, calendarSync: null, createdAt: 1_700_000_000, updatedAt: 1_700_000_000, version: 1,
    });
    const found = (await s2.items.find(me2, 'i1'))!;
    expect(JSON.stringify(found.data)).toBe(JSON.stringify(data));
    expect(found).toEqual(created);
  });

  it("keeps each item's API JSON in the row, byte for byte what encoding itemJson gives, through every kind of change", async () => {
    const { store, me } = await world();
    /** What the API would send for the page, encoded field by field, and what the store keeps ready. */
    const both = async () => {
      const mapped = (await store.items.list(me, { limit: 100 })).items.map((i) => JSON.stringify(itemJson(i)));
      // Stored as text (PostgreSQL) or as its UTF-8 bytes (SQLite), which the API sends as they are.
      const kept = (await store.items.listJson(me, { limit: 100 })).items.map((i) =>
        typeof i === 'string' ? i : i instanceof Uint8Array ? new TextDecoder('utf-8', { fatal: true }).decode(i) : JSON.stringify(itemJson(i)),
      );
      return { mapped, kept };
    };
    const tricky = {
      note: 'Отчёт «кавычки» \u2028 "q" \\ 😀 \u0001\u001f\t\n\r\b\f \u007f \ud800 </script>',
      nested: { a: [1, 2.5, -0.125, null, true, 1e21, 1.5e-7, 123456789012], big: 9007199254740991 },
      '1': 'integer key', __proto__x: 'x', '': 'empty key',
    };
    await store.items.create(me, 'a', input('Plain'), 1_700_000_000);
    await store.items.create(me, 'b', input('Ёлка "в кавычках" \\ \u2028 😀 <b>&amp;</b>', { data: tricky, startsAt: 1_800_000_000, endsAt: 1_800_003_601 }), 1_700_000_001);
    await store.items.create(me, 'c', input('Edges of the years', { startsAt: -62_135_596_800, endsAt: 253_402_300_799 }), 1_700_000_002);
    await store.items.create(me, 'd', input('Past year 9999', { startsAt: 253_402_300_800 }), 1_700_000_003);
    await store.items.create(me, 'e', input('Before year 1', { startsAt: -62_135_596_801 }), 1_700_000_004);
    let { mapped, kept } = await both();
    expect(kept).toEqual(mapped);
    // Only dates outside years 1-9999 (JavaScript writes six-digit years) are left to the reader.
    const raw = (await store.items.listJson(me, { limit: 100 })).items;
    expect(raw.map((i) => (typeof i === 'string' || i instanceof Uint8Array ? 'stored' : i.id))).toEqual(['e', 'd', 'stored', 'stored', 'stored']);

    // Every statement that changes an item keeps it in step: an update, a link, the calendar queue's marks.
    await store.items.update(me, 'a', 1, input('Renamed', { startsAt: 1_800_000_000 }), 1_700_000_100, { op: 'update', dueAt: 1 });
    await store.items.setCalendarEvent(me, 'b', 'ev-b', 1_700_000_101);
    const [job] = await store.calendarQueue.claimDue(10, 10, 30);
    await store.calendarQueue.fail(job!, 'no access');
    await store.items.applyFromCalendar(me, 'b', 'ev-b', input('From Bitrix24', { startsAt: 1_800_000_000 }), 1_700_000_102);
    ({ mapped, kept } = await both());
    expect(kept).toEqual(mapped);
    expect(kept.join()).toContain('"calendar_sync":"pending"');
    expect(kept.join()).toContain('"calendar_event_id":"ev-b","calendar_sync":"synced"');
  });

  it('another owner or another portal finds nothing, changes nothing, counts nothing', async () => {
    const { store, me, colleague, elsewhere } = await world();
    await store.items.create(me, 'mine', input('Mine', { startsAt: 100 }), 1);
    for (const other of [colleague, elsewhere]) {
      expect(await store.items.find(other, 'mine')).toBeNull();
      expect(await store.items.update(other, 'mine', 1, input('Stolen'), 2)).toEqual({ kind: 'not_found' });
      expect(await store.items.setCalendarEvent(other, 'mine', 'ev', 2)).toBeNull();
      expect(await store.items.applyFromCalendar(other, 'mine', 'ev', input('Stolen'), 2)).toBeNull();
      expect(await store.items.delete(other, 'mine', 2)).toBeNull();
      expect(await store.items.count(other)).toBe(0);
      expect((await store.items.list(other, { limit: 10 })).items).toEqual([]);
      expect(await store.calendarQueue.retryItem(other, 'mine', 2)).toBe(false);
    }
    expect(await store.items.find(me, 'mine')).toMatchObject({ name: 'Mine', version: 1, calendarEventId: null });
    expect(await store.items.count(me)).toBe(1);
  });

  it('lists newest first in pages (cursor), by status and by folded name', async () => {
    const { store, me, colleague } = await world();
    const names = ['Отчёт за май', 'отчет за июнь', 'Plan', 'ОТЧЕТ архив', 'Notes'];
    for (const [i, name] of names.entries()) {
      await store.items.create(me, `id-${i}`, input(name, { status: i === 3 ? 'archived' : 'active' }), 100 + (i < 2 ? 0 : i));
    }
    await store.items.create(colleague, 'theirs', input('Отчёт'), 500);
    const page1 = await store.items.list(me, { limit: 2 });
    expect(page1.items.map((i) => i.id)).toEqual(['id-4', 'id-3']);
    expect(page1.next).toEqual({ createdAt: 103, id: 'id-3' });
    const page2 = await store.items.list(me, { limit: 2, after: page1.next! });
    expect(page2.items.map((i) => i.id)).toEqual(['id-2', 'id-1']);
    const page3 = await store.items.list(me, { limit: 2, after: page2.next! });
    expect(page3).toEqual({ items: [expect.objectContaining({ id: 'id-0' })], next: null });
    expect((await store.items.list(me, { limit: 10, q: 'ОТЧЁТ' })).items.map((i) => i.id)).toEqual(['id-3', 'id-1', 'id-0']);
    expect((await store.items.list(me, { limit: 10, q: 'отчет', status: 'active' })).items.map((i) => i.id)).toEqual(['id-1', 'id-0']);
    expect((await store.items.list(me, { limit: 10, status: 'archived' })).items.map((i) => i.id)).toEqual(['id-3']);
    expect((await store.items.list(me, { limit: 10, q: '%' })).items).toEqual([]);
  });

  it('ids order byte by byte (the cursor means the same on both backends)', async () => {
    const { store, me } = await world();
    const ids = ['B', 'a', 'Z', '_', 'b'];
    for (const id of ids) await store.items.create(me, id, input(id), 100);
    const all = await store.items.list(me, { limit: 10 });
    expect(all.items.map((i) => i.id)).toEqual([...ids].sort().reverse());
  });

  it('update is a compare-and-swap on the version: updated, conflict with the current row, or not found', async () => {
    const { store, me } = await world();
    await store.items.create(me, 'i', input('One'), 1);
    const up = await store.items.update(me, 'i', 1, input('Two', { status: 'archived', data: { k: 1 } }), 5);
    expect(up).toEqual({ kind: 'updated', item: expect.objectContaining({ name: 'Two', status: 'archived', data: { k: 1 }, version: 2, updatedAt: 5, createdAt: 1 }) });
    const stale = await store.items.update(me, 'i', 1, input('Three'), 6);
    expect(stale).toEqual({ kind: 'conflict', current: expect.objectContaining({ name: 'Two', version: 2 }) });
    expect(await store.items.update(me, 'nope', 1, input('X'), 6)).toEqual({ kind: 'not_found' });
  });

  it('update with calendar work queues it in the same change; a version mismatch queues nothing', async () => {
    const { store, db, me } = await world();
    await store.items.create(me, 'i', input('One', { startsAt: 100 }), 1);
    await store.items.setCalendarEvent(me, 'i', 'ev1', 2);
    const up = await store.items.update(me, 'i', 2, input('Two', { startsAt: 100 }), 3, { op: 'update', dueAt: 10 });
    expect(up).toMatchObject({ kind: 'updated', item: { calendarSync: 'pending', calendarEventId: 'ev1', version: 3 } });
    expect(await store.items.update(me, 'i', 2, input('Three'), 4, { op: 'update', dueAt: 11 })).toMatchObject({ kind: 'conflict' });
    const jobs = await db.all<{ op: string; next_at: unknown; generation: unknown }>('SELECT op, next_at, generation FROM calendar_jobs');
    expect(jobs.map((j) => [j.op, Number(j.next_at), Number(j.generation)])).toEqual([['update', 10, 1]]);
    // A second change re-queues the same row, a new generation.
    await store.items.update(me, 'i', 3, input('Four', { startsAt: 100 }), 5, { op: 'update', dueAt: 12 });
    expect((await db.all<{ generation: number }>('SELECT generation FROM calendar_jobs')).map((r) => Number(r.generation))).toEqual([2]);
    // Start cleared: the event's deletion replaces the pending update, and the item is unlinked.
    const cleared = await store.items.update(me, 'i', 4, input('Five'), 6, { op: 'delete', eventId: 'ev1' });
    expect(cleared).toMatchObject({ kind: 'updated', item: { calendarEventId: null, calendarSync: null } });
    expect(await db.all('SELECT op, event_id FROM calendar_jobs')).toEqual([{ op: 'delete', event_id: 'ev1' }]);
  });

  it('setCalendarEvent links once; a second event for an item linked meanwhile is queued for deletion', async () => {
    const { store, db, me } = await world();
    await store.items.create(me, 'i', input('One', { startsAt: 100 }), 1);
    expect(await store.items.setCalendarEvent(me, 'i', 'ev1', 2)).toMatchObject({ calendarEventId: 'ev1', calendarSync: 'synced', version: 2 });
    expect(await store.items.setCalendarEvent(me, 'i', 'ev2', 3)).toMatchObject({ calendarEventId: 'ev1', version: 2 });
    expect(await db.all('SELECT op, event_id FROM calendar_jobs')).toEqual([{ op: 'delete', event_id: 'ev2' }]);
    // Gone meanwhile: null, and the event still goes.
    expect(await store.items.setCalendarEvent(me, 'gone', 'ev3', 4)).toBeNull();
    expect(await db.count('calendar_jobs', "event_id = 'ev3'")).toBe(1);
  });

  it('applyFromCalendar: only while linked to that event and no write of ours is pending; the status is kept', async () => {
    const { store, me } = await world();
    await store.items.create(me, 'i', input('One', { startsAt: 100, status: 'archived' }), 1);
    expect(await store.items.applyFromCalendar(me, 'i', 'ev1', input('X'), 2)).toBeNull();
    await store.items.setCalendarEvent(me, 'i', 'ev1', 2);
    expect(await store.items.applyFromCalendar(me, 'i', 'other', input('X'), 3)).toBeNull();
    const applied = await store.items.applyFromCalendar(me, 'i', 'ev1', input('From B24', { startsAt: 200, endsAt: 300, status: 'active' }), 3);
    expect(applied).toMatchObject({ name: 'From B24', startsAt: 200, endsAt: 300, status: 'archived', version: 3, calendarSync: 'synced' });
    await store.items.update(me, 'i', 3, input('Ours', { startsAt: 200 }), 4, { op: 'update', dueAt: 4 });
    expect(await store.items.applyFromCalendar(me, 'i', 'ev1', input('Theirs'), 5)).toBeNull();
  });

  it('delete returns the row and queues its event deletion in the same change', async () => {
    const { store, db, me } = await world();
    await store.items.create(me, 'plain', input('Plain'), 1);
    await store.items.create(me, 'linked', input('Linked', { startsAt: 100 }), 1);
    await store.items.setCalendarEvent(me, 'linked', 'ev9', 2);
    await store.items.update(me, 'linked', 2, input('Linked', { startsAt: 150 }), 3, { op: 'update', dueAt: 3 });
    expect(await store.items.delete(me, 'plain', 4)).toMatchObject({ id: 'plain' });
    expect(await db.count('calendar_jobs', "op = 'delete'")).toBe(0);
    expect(await store.items.delete(me, 'linked', 4)).toMatchObject({ id: 'linked', calendarEventId: 'ev9' });
    expect(await db.all('SELECT op, event_id, item_id FROM calendar_jobs')).toEqual([{ op: 'delete', event_id: 'ev9', item_id: 'linked' }]);
    expect(await store.items.delete(me, 'linked', 5)).toBeNull();
    expect(await store.items.count(me)).toBe(0);
  });
});
