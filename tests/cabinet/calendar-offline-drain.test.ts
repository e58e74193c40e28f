/**
 * 1,000 offline event records waiting on 3 portals (users changed their own calendar entries while the
 * app heard nothing) drain in one run without a single rate-limit refusal, and are cleared on each
 * portal. The emulator keeps its default limits (2 requests/s, a burst of 50); the drain reads batches
 * of 50 records. The time it took is printed for the notes.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { rest, type EmulatedPortal } from '../support/emulator-client.ts';
import { openCabinet, type Cabinet } from './cabinet-harness.ts';

setDefaultTimeout(60_000);

const PER_PORTAL = [334, 333, 333];

/** `count` entries in user 2's own calendar, each then changed once: `count` offline records. */
async function changeEntries(cab: Cabinet, portal: EmulatedPortal, count: number): Promise<void> {
  const auth = (await cab.stack.emu.launch(portal.member_id, 2)).form.AUTH_ID!;
  const batch = async (cmd: Record<string, string>) => {
    const r = await rest(portal.client_endpoint, 'batch', { halt: 1, cmd }, auth);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.result.result_error)).toEqual([]);
    return r.body.result.result as Record<string, number>;
  };
  for (let from = 0; from < count; from += 50) {
    const keys = Array.from({ length: Math.min(50, count - from) }, (_, i) => `e${from + i}`);
    const at = (i: number) => new Date(Date.UTC(2027, 0, 1, 9) + i * 3_600_000).toISOString().replace('.000Z', '+00:00');
    const added = await batch(
      Object.fromEntries(keys.map((k, i) => [k, `calendar.event.add?${new URLSearchParams({ type: 'user', ownerId: '2', name: k, from: at(from + i), to: at(from + i + 1) })}`])),
    );
    await batch(Object.fromEntries(keys.map((k) => [k, `calendar.event.update?${new URLSearchParams({ id: String(added[k]), type: 'user', ownerId: '2', name: `${k} moved` })}`])));
  }
}

describe('draining offline events', () => {
  let cab: Cabinet;
  const portals: EmulatedPortal[] = [];

  beforeAll(async () => {
    cab = await openCabinet();
    for (const count of PER_PORTAL) {
      const portal = await cab.newPortal();
      portals.push(portal);
      await cab.signIn(portal, 2);
      // The app hears nothing online (as if it were down): no ONOFFLINEEVENT starts a drain early.
      const admin = (await cab.stack.emu.launch(portal.member_id, 1)).form.AUTH_ID!;
      for (const event of ['ONOFFLINEEVENT', 'ONCALENDARENTRYUPDATE']) {
        expect((await rest(portal.client_endpoint, 'event.unbind', { event, handler: `${cab.stack.appUrl}/events` }, admin)).status).toBe(200);
      }
      await changeEntries(cab, portal, count);
      expect((await cab.stack.emu.offlineEvents(portal.member_id)).total).toBe(count);
    }
  });
  afterAll(() => cab.stop());

  it('1,000 records across 3 portals: one run reads and clears them all, no request refused', async () => {
    const refusedBefore = await Promise.all(portals.map(async (p) => (await cab.stack.emu.stats(p.member_id)).rate_limited));
    const started = performance.now();
    const summary = await cab.stack.server.app.runOfflineEvents();
    const ms = performance.now() - started;
    expect(summary).toMatchObject({ portals: 3, records: 1000, failed: 0 });
    for (const [i, portal] of portals.entries()) {
      expect((await cab.stack.emu.offlineEvents(portal.member_id)).total).toBe(0);
      expect((await cab.stack.emu.stats(portal.member_id)).rate_limited).toBe(refusedBefore[i]!);
    }
    // Entries no item is linked to queue no work.
    expect((await cab.stack.sqlOne<{ n: number }>('SELECT count(*) AS n FROM calendar_jobs'))!.n).toBe(0);
    console.log(`drained 1,000 offline records from 3 portals in ${ms.toFixed(0)} ms`);
  });

  it('a batch read before a crash and never cleared is finished at the next drain, by its process_id', async () => {
    const portal = portals[0]!;
    await changeEntries(cab, portal, 3);
    // A drain that died after reading (clear=0) and remembering the batch, before clearing it.
    const admin = (await cab.stack.emu.launch(portal.member_id, 1)).form.AUTH_ID!;
    const read = await rest(portal.client_endpoint, 'event.offline.get', { clear: 0, limit: 50 }, admin);
    expect(read.body.result.events).toHaveLength(3);
    const portalId = (await cab.stack.sqlOne<{ id: number }>('SELECT id FROM portals WHERE member_id = ?', [portal.member_id]))!.id;
    await cab.stack.store.calendarQueue.startBatch(portalId, read.body.result.process_id, 1);
    // Reserved: a read without the process_id would not see them again.
    expect((await cab.stack.emu.offlineEvents(portal.member_id)).apps[0]!.queues[0]).toMatchObject({ reserved: 3, waiting: 0 });

    expect(await cab.stack.server.app.runOfflineEvents()).toMatchObject({ records: 3, failed: 0 });
    expect((await cab.stack.emu.offlineEvents(portal.member_id)).total).toBe(0);
    expect(await cab.stack.store.calendarQueue.pendingBatch(portalId)).toBeNull();
  });
});
