import { expect, it } from 'bun:test';
import type { ItemInput } from '../../src/store/store.ts';
import { forEachBackend, seedPortal } from './backends.ts';

const input = (name: string, startsAt: number | null = 100): ItemInput => ({ name, data: null, status: 'active', startsAt, endsAt: null });

forEachBackend('calendar queue', (backend) => {
  async function world() {
    const { store, db } = await backend.freshStore();
    const p = await seedPortal(store);
    const me = { portalId: p.id, userId: 7 };
    /** A linked item with an update queued, due at `dueAt`. */
    const queued = async (id: string, dueAt = 10) => {
      await store.items.create(me, id, input(id), 1);
      await store.items.setCalendarEvent(me, id, `ev-${id}`, 1);
      await store.items.update(me, id, 2, input(`${id}!`), 2, { op: 'update', dueAt });
    };
    return { store, db, portal: p, me, queued };
  }

  it('claims due jobs in order, each under a lease with its own token; a leased job is not claimed again until the lease ends', async () => {
    const { store, queued } = await world();
    await queued('b', 20);
    await queued('a', 10);
    await queued('later', 1000);
    const jobs = await store.calendarQueue.claimDue(50, 10, 30);
    expect(jobs.map((j) => [j.itemId, j.op, j.generation, j.attempts])).toEqual([['a', 'update', 1, 0], ['b', 'update', 1, 0]]);
    expect(new Set(jobs.map((j) => j.lease)).size).toBe(2);
    expect(jobs.every((j) => j.lease.length > 0)).toBe(true);
    expect(await store.calendarQueue.claimDue(79, 10, 30)).toEqual([]);
    const again = await store.calendarQueue.claimDue(80, 1, 30);
    expect(again.map((j) => j.itemId)).toEqual(['a']);
    expect(again[0]!.lease).not.toBe(jobs[0]!.lease);
  });

  it('depth counts the outbox and the inbox apart, per portal, with the oldest pending job', async () => {
    const { store, me, queued } = await world();
    expect(await store.calendarQueue.depth(me.portalId)).toEqual({ outbox: { pending: 0, failed: 0 }, inbox: { pending: 0, failed: 0 }, oldestPendingAt: null });
    await queued('w');
    await queued('x');
    // Bitrix24 reports a change of w's event: an inbox job.
    expect(await store.calendarQueue.pull(me.portalId, 'ev-w', 40)).toBe(1);
    const [first] = await store.calendarQueue.claimDue(50, 1, 30);
    await store.calendarQueue.fail(first!, 'no access');
    const depth = await store.calendarQueue.depth(me.portalId);
    expect({ outbox: depth.outbox, inbox: depth.inbox }).toEqual({ outbox: { pending: 1, failed: 1 }, inbox: { pending: 1, failed: 0 } });
    expect(depth.oldestPendingAt).not.toBeNull();
    // Another portal's queue is not this one's; all portals together count both.
    const other = await seedPortal(store, 'm-other');
    expect(await store.calendarQueue.depth(other.id)).toEqual({ outbox: { pending: 0, failed: 0 }, inbox: { pending: 0, failed: 0 }, oldestPendingAt: null });
    expect((await store.calendarQueue.depth()).outbox).toEqual({ pending: 1, failed: 1 });
  });

  it('done removes the job and marks the item in step; a newer generation stays due, only the lease given back', async () => {
    const { store, me, queued } = await world();
    await queued('i');
    const [job] = await store.calendarQueue.claimDue(50, 10, 30);
    await store.calendarQueue.done(job!);
    expect(await store.calendarQueue.counts()).toEqual({ pending: 0, failed: 0 });
    expect((await store.items.find(me, 'i'))?.calendarSync).toBe('synced');
    // Changed again while being written: the old generation's done leaves the row, due at once.
    await store.items.update(me, 'i', 3, input('again'), 51, { op: 'update', dueAt: 51 });
    const [old] = await store.calendarQueue.claimDue(60, 10, 30);
    await store.items.update(me, 'i', 4, input('and again'), 61, { op: 'update', dueAt: 61 });
    await store.calendarQueue.done(old!);
    expect((await store.items.find(me, 'i'))?.calendarSync).toBe('pending');
    const [next] = await store.calendarQueue.claimDue(62, 10, 30);
    expect(next).toMatchObject({ itemId: 'i', generation: old!.generation + 1 });
  });

  it('retryAt and fail need the current lease: a worker whose lease was taken over changes nothing', async () => {
    const { store, me, queued } = await world();
    await queued('i');
    const [first] = await store.calendarQueue.claimDue(50, 10, 30);
    const [second] = await store.calendarQueue.claimDue(80, 10, 30); // first's lease ran out
    await store.calendarQueue.retryAt(first!, 500, 'late worker');
    await store.calendarQueue.fail(first!, 'late worker');
    expect(await store.calendarQueue.claimDue(81, 10, 30)).toEqual([]); // still second's
    await store.calendarQueue.retryAt(second!, 200, 'http 503');
    expect(await store.calendarQueue.nextDue()).toBe(200);
    const [third] = await store.calendarQueue.claimDue(200, 10, 30);
    expect(third!.attempts).toBe(1);
    await store.calendarQueue.fail(third!, 'no access');
    expect(await store.calendarQueue.counts()).toEqual({ pending: 0, failed: 1 });
    expect(await store.calendarQueue.nextDue()).toBeNull();
    expect((await store.items.find(me, 'i'))?.calendarSync).toBe('failed');
    // The user's retry: due now, the item pending again; no second retry of a pending job.
    expect(await store.calendarQueue.retryItem(me, 'i', 300)).toBe(true);
    expect(await store.calendarQueue.retryItem(me, 'i', 300)).toBe(false);
    expect((await store.items.find(me, 'i'))?.calendarSync).toBe('pending');
    expect((await store.calendarQueue.claimDue(300, 10, 30)).map((j) => j.attempts)).toEqual([0]);
  });

  it('eventGone unlinks the item (update) or only an item still linked to that event (pull)', async () => {
    const { store, me, portal, queued } = await world();
    await queued('u');
    const [job] = await store.calendarQueue.claimDue(50, 10, 30);
    await store.calendarQueue.eventGone(job!);
    expect(await store.items.find(me, 'u')).toMatchObject({ calendarEventId: null, calendarSync: null, version: 4 });
    await store.items.create(me, 'p', input('p'), 1);
    await store.items.setCalendarEvent(me, 'p', 'ev-p', 1);
    expect(await store.calendarQueue.pull(portal.id, 'ev-p', 60)).toBe(1);
    expect(await store.calendarQueue.pull(portal.id, 'unknown', 60)).toBe(0);
    const [pull] = await store.calendarQueue.claimDue(60, 10, 30);
    expect(pull).toMatchObject({ op: 'pull', eventId: 'ev-p', itemId: 'p' });
    await store.calendarQueue.eventGone(pull!);
    expect(await store.items.find(me, 'p')).toMatchObject({ calendarEventId: null });
    expect(await store.calendarQueue.counts()).toEqual({ pending: 0, failed: 0 });
  });

  it('pull: one row per item, re-queued (new generation) by later reports', async () => {
    const { store, me, portal, db } = await world();
    await store.items.create(me, 'p', input('p'), 1);
    await store.items.setCalendarEvent(me, 'p', 'ev', 1);
    await store.calendarQueue.pull(portal.id, 'ev', 10);
    await store.calendarQueue.pull(portal.id, 'ev', 20);
    expect(await db.count('calendar_jobs')).toBe(1);
    const [job] = await store.calendarQueue.claimDue(20, 10, 30);
    expect(job).toMatchObject({ op: 'pull', generation: 2 });
  });

  it('retryReconnected: the failed-for-want-of-tokens writes of that user only, deletions included', async () => {
    const { store, me, queued } = await world();
    await queued('a');
    await queued('b');
    await store.items.delete(me, 'b', 3);
    const jobs = await store.calendarQueue.claimDue(50, 10, 30);
    expect(jobs.map((j) => j.op).sort()).toEqual(['delete', 'update']);
    for (const j of jobs) await store.calendarQueue.fail(j, 'reconnect');
    expect(await store.calendarQueue.counts()).toEqual({ pending: 0, failed: 2 });
    expect(await store.calendarQueue.retryReconnected({ ...me, userId: 8 }, 60)).toBe(0);
    expect(await store.calendarQueue.retryReconnected(me, 60)).toBe(2);
    expect((await store.items.find(me, 'a'))?.calendarSync).toBe('pending');
    expect(await store.calendarQueue.counts()).toEqual({ pending: 2, failed: 0 });
  });

  it('offline-event batches: one per portal, replaced, ended', async () => {
    const { store, portal } = await world();
    expect(await store.calendarQueue.pendingBatch(portal.id)).toBeNull();
    await store.calendarQueue.startBatch(portal.id, 'proc-1', 5);
    await store.calendarQueue.startBatch(portal.id, 'proc-2', 6);
    expect(await store.calendarQueue.pendingBatch(portal.id)).toBe('proc-2');
    await store.calendarQueue.endBatch(portal.id);
    expect(await store.calendarQueue.pendingBatch(portal.id)).toBeNull();
  });

  it('two instances claiming at once never get the same job', async () => {
    const { store, db, queued } = await world();
    for (let i = 0; i < 30; i++) await queued(`i${String(i).padStart(2, '0')}`, 10);
    const other = await db.open();
    const rounds = await Promise.all([
      ...Array.from({ length: 4 }, () => store.calendarQueue.claimDue(50, 5, 30)),
      ...Array.from({ length: 4 }, () => other.calendarQueue.claimDue(50, 5, 30)),
    ]);
    const ids = rounds.flat().map((j) => j.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Whatever a claim skipped (locked by the other at that moment) is still there for the next.
    const rest = (await store.calendarQueue.claimDue(50, 100, 30)).map((j) => j.id);
    expect(new Set([...ids, ...rest]).size).toBe(30);
    expect(ids.length + rest.length).toBe(30);
  });
});
