/**
 * The calendar sync's own rules, over a real store (SQLite, or PostgreSQL with TEST_STORE=postgres) with a scripted calendar below it (the
 * module under test is the worker; the calendar is what it calls): back-off on the injected clock,
 * failing when no retry helps, a lease that lets only one worker perform a job and lets another take
 * over a job whose worker died, and a change made during a write that is written after it.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { CalendarWriteError, createCalendarSync, RETRY_DELAYS, type CalendarGateway } from '../../src/domain/calendar-sync.ts';
import type { Actor, Item } from '../../src/domain/types.ts';
import type { Store } from '../../src/store/store.ts';
import { freshTestDatabase, type TestDatabase } from '../support/test-database.ts';

const opened: { db: TestDatabase; store: Store }[] = [];
afterAll(async () => {
  for (const { db, store } of opened) {
    await store.close();
    await db.drop();
  }
});

/** A calendar that records each write and answers as the test scripts it. */
function scriptedCalendar() {
  const writes: { op: string; eventId: string; name?: string }[] = [];
  const existing = new Set<string>(['ev-1']);
  let next: (() => void) | null = null;
  let hold: Promise<void> | null = null;
  let onHeld: (() => void) | null = null;
  let readAs = { type: 'user', ownerId: 7 };
  const gateway: CalendarGateway = {
    add: async () => 'ev-new',
    async update(_actor: Actor, eventId: string, item: Item) {
      if (hold) {
        onHeld?.();
        await hold;
      }
      next?.();
      writes.push({ op: 'update', eventId, name: item.name });
    },
    async delete(_actor: Actor, eventId: string) {
      next?.();
      writes.push({ op: 'delete', eventId });
      existing.delete(eventId);
    },
    read: async (_actor: Actor, eventId: string) => (existing.has(eventId) ? { calendar: readAs, name: 'As in Bitrix24', description: '', startsAt: 2_000_000, endsAt: 2_003_600 } : null),
  };
  return {
    gateway,
    writes,
    existing,
    /** The next writes throw this (until cleared with null). */
    failWith(error: Error | null) {
      next = error
        ? () => {
            throw error;
          }
        : null;
    },
    /** Whose calendar the event reads as being in. */
    readAs(calendar: { type: string; ownerId: number }) {
      readAs = calendar;
    },
    /** Writes wait until `release` is called; `held` resolves once a write is waiting. */
    holdWrites(): { held: Promise<void>; release: () => void } {
      let release!: () => void;
      hold = new Promise<void>((r) => (release = r));
      const held = new Promise<void>((r) => (onHeld = r));
      return {
        held,
        release: () => {
          hold = null;
          onHeld = null;
          release();
        },
      };
    },
  };
}

async function world() {
  const db = await freshTestDatabase();
  const store = await db.open();
  opened.push({ db, store });
  const portal = await store.portals.upsert(
    { memberId: 'm', domain: 'p.example', clientEndpoint: 'https://p.example/rest/', serverEndpoint: 'https://oauth.bitrix.info/rest/', appStatus: 'L', scope: '' },
    'installed',
  );
  const actor: Actor = { portalId: portal.id, userId: 7 };
  const clock = { now: 1_000_000 };
  const calendar = scriptedCalendar();
  const newSync = () => createCalendarSync({ queue: store.calendarQueue, items: store.items, calendar: calendar.gateway, now: () => clock.now });
  const input = (name: string) => ({ name, data: null, status: 'active' as const, startsAt: 2_000_000, endsAt: null });
  let item = await store.items.create(actor, '0000000000' + '0'.repeat(16), input('Linked'), clock.now);
  item = (await store.items.setCalendarEvent(actor, item.id, 'ev-1', clock.now))!;
  /** A change of the item with its queued write, as the item service commits it. */
  const change = async (name: string) => {
    const current = (await store.items.find(actor, item.id))!;
    const r = await store.items.update(actor, item.id, current.version, input(name), clock.now, { op: 'update', dueAt: 1 });
    if (r.kind !== 'updated') throw new Error(r.kind);
  };
  const jobs = () => db.sql<{ state: string; attempts: number; next_at: number }>('SELECT state, attempts, next_at FROM calendar_jobs');
  const syncState = async () => (await store.items.find(actor, item.id))!.calendarSync;
  return { store, actor, clock, calendar, newSync, change, jobs, syncState, itemId: item.id };
}

describe('calendar sync worker', () => {
  it('backs off on the clock while Bitrix24 does not answer, then writes once it does', async () => {
    const w = await world();
    const sync = w.newSync();
    await w.change('Renamed');
    w.calendar.failWith(new CalendarWriteError('retry', 'QUERY_LIMIT_EXCEEDED'));
    expect(await sync.run()).toEqual({ done: 0, retried: 1, failed: 0 });
    expect(await w.jobs()).toEqual([{ state: 'pending', attempts: 1, next_at: w.clock.now + RETRY_DELAYS[0]! }]);
    // Not due yet: nothing is tried.
    w.clock.now += RETRY_DELAYS[0]! - 1;
    expect(await sync.run()).toEqual({ done: 0, retried: 0, failed: 0 });
    w.calendar.failWith(null);
    w.clock.now += 1;
    expect(await sync.run()).toEqual({ done: 1, retried: 0, failed: 0 });
    expect(w.calendar.writes).toEqual([{ op: 'update', eventId: 'ev-1', name: 'Renamed' }]);
    expect(await w.jobs()).toEqual([]);
    expect(await w.syncState()).toBe('synced');
  });

  it('fails after the last retry, and the item says so', async () => {
    const w = await world();
    const sync = w.newSync();
    await w.change('Never written');
    w.calendar.failWith(new CalendarWriteError('retry', 'NETWORK_ERROR'));
    for (const delay of RETRY_DELAYS) {
      expect(await sync.run()).toMatchObject({ retried: 1 });
      w.clock.now += delay;
    }
    expect(await sync.run()).toEqual({ done: 0, retried: 0, failed: 1 });
    expect(await w.jobs()).toEqual([{ state: 'failed', attempts: RETRY_DELAYS.length + 1, next_at: expect.any(Number) }]);
    expect(await w.syncState()).toBe('failed');
    // A failed job is not tried again on its own, however much time passes.
    w.clock.now += 365 * 86_400;
    expect(await sync.run()).toEqual({ done: 0, retried: 0, failed: 0 });
    // The user's retry makes it due at once.
    w.calendar.failWith(null);
    expect(await w.store.calendarQueue.retryItem(w.actor, w.itemId, w.clock.now)).toBe(true);
    expect(await w.syncState()).toBe('pending');
    expect(await sync.run()).toEqual({ done: 1, retried: 0, failed: 0 });
    expect(await w.syncState()).toBe('synced');
  });

  it('fails at once when the user must reconnect or Bitrix24 refuses for good', async () => {
    const w = await world();
    const sync = w.newSync();
    await w.change('No tokens');
    w.calendar.failWith(new CalendarWriteError('reconnect', 'TOKENS_DEAD'));
    expect(await sync.run()).toEqual({ done: 0, retried: 0, failed: 1 });
    expect(await w.syncState()).toBe('failed');
  });

  it('a refused write to an event that no longer exists unlinks the item', async () => {
    const w = await world();
    const sync = w.newSync();
    await w.change('Event deleted in Bitrix24');
    w.calendar.existing.clear();
    w.calendar.failWith(new CalendarWriteError('refused', 'ERROR'));
    expect(await sync.run()).toEqual({ done: 1, retried: 0, failed: 0 });
    expect(await w.store.items.find(w.actor, w.itemId)).toMatchObject({ calendarEventId: null, calendarSync: null });
  });

  it('an event in another user\'s calendar does not move the item, whatever its id links to', async () => {
    const w = await world();
    const sync = w.newSync();
    w.calendar.readAs({ type: 'user', ownerId: 8 });
    expect(await w.store.calendarQueue.pull(w.actor.portalId, 'ev-1', w.clock.now)).toBe(1);
    expect(await sync.run()).toEqual({ done: 1, retried: 0, failed: 0 });
    expect(await w.store.items.find(w.actor, w.itemId)).toMatchObject({ name: 'Linked', version: 2 });
    w.calendar.readAs({ type: 'user', ownerId: 7 });
    await w.store.calendarQueue.pull(w.actor.portalId, 'ev-1', w.clock.now);
    await sync.run();
    expect(await w.store.items.find(w.actor, w.itemId)).toMatchObject({ name: 'As in Bitrix24', version: 3 });
  });

  it('two workers on one database perform a job once; a job whose worker died is taken over after its lease', async () => {
    const w = await world();
    const [a, b] = [w.newSync(), w.newSync()];
    await w.change('Once');
    const [ra, rb] = await Promise.all([a.run(), b.run()]);
    expect(ra.done + rb.done).toBe(1);
    expect(w.calendar.writes).toHaveLength(1);

    // A worker claims a job and dies before settling it (its lease is all that is left).
    await w.change('After a crash');
    const claimed = await w.store.calendarQueue.claimDue(w.clock.now, 10, 120);
    expect(claimed).toHaveLength(1);
    expect(await b.run()).toEqual({ done: 0, retried: 0, failed: 0 });
    w.clock.now += 120;
    expect(await b.run()).toEqual({ done: 1, retried: 0, failed: 0 });
    expect(w.calendar.writes.at(-1)).toEqual({ op: 'update', eventId: 'ev-1', name: 'After a crash' });
  });

  it('a worker whose lease ran out and was taken over cannot give back or reschedule the new holder\'s job', async () => {
    const w = await world();
    await w.change('Slow write');
    const [late] = await w.store.calendarQueue.claimDue(w.clock.now, 10, 120);
    w.clock.now += 121;
    const [holder] = await w.store.calendarQueue.claimDue(w.clock.now, 10, 120);
    expect(holder!.id).toBe(late!.id);
    expect(holder!.lease).not.toBe(late!.lease);
    // The late worker's failure changes nothing: the job stays leased to the holder.
    await w.store.calendarQueue.retryAt(late!, w.clock.now, 'retry');
    await w.store.calendarQueue.fail(late!, 'refused');
    expect(await w.store.calendarQueue.claimDue(w.clock.now, 10, 120)).toEqual([]);
    expect(await w.jobs()).toEqual([{ state: 'pending', attempts: 0, next_at: expect.any(Number) }]);
    await w.store.calendarQueue.done(holder!);
    expect(await w.jobs()).toEqual([]);
  });

  it('a deletion keeps trying while Bitrix24 does not answer (no row is left to retry it from)', async () => {
    const w = await world();
    const sync = w.newSync();
    expect(await w.store.items.delete(w.actor, w.itemId, w.clock.now)).not.toBeNull();
    w.calendar.failWith(new CalendarWriteError('retry', 'NETWORK_ERROR'));
    for (let i = 0; i < RETRY_DELAYS.length + 3; i++) {
      expect(await sync.run()).toEqual({ done: 0, retried: 1, failed: 0 });
      w.clock.now += RETRY_DELAYS.at(-1)!;
    }
    w.calendar.failWith(null);
    expect(await sync.run()).toEqual({ done: 1, retried: 0, failed: 0 });
    expect(w.calendar.writes).toEqual([{ op: 'delete', eventId: 'ev-1' }]);
  });

  it('a change made while its write is in flight is written after it', async () => {
    const w = await world();
    const sync = w.newSync();
    await w.change('First');
    const gate = w.calendar.holdWrites();
    const running = sync.run();
    // The run has claimed the job and its write is in flight (on PostgreSQL the claim takes more than
    // one tick, so waiting a tick raced it).
    await gate.held;
    await w.change('Second');
    gate.release();
    // The first write's settling found the row re-queued by the second change: it left it due, and
    // the same run wrote the newest state.
    expect(await running).toEqual({ done: 2, retried: 0, failed: 0 });
    expect(w.calendar.writes.map((x) => x.name)).toEqual(['First', 'Second']);
    expect(await w.jobs()).toEqual([]);
    expect(await w.syncState()).toBe('synced');
  });
});
