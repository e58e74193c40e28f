/**
 * Calendar sync across outages, with `b24app serve` as its own process (tests/support/child-server.ts)
 * and the emulator in the test process:
 * - kill -9 between the commit of a change and its calendar write: the write happens once, after the
 *   restart (CALENDAR_WRITE_DELAY_SECONDS holds the write back long enough to kill before it);
 * - the app stopped while a user moves one event and deletes another in the Bitrix24 calendar: once it
 *   is started, both items reflect it (read from the offline queue at start);
 * - times from a change in the portal to the item, online and after the outage, are printed for the notes.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { rest } from '../support/emulator-client.ts';
import { startChildStack, type ChildStack } from '../support/child-server.ts';
import { waitFor } from '../support/wait-for.ts';

setDefaultTimeout(60_000);

describe('calendar sync across outages (serve as a process)', () => {
  let stack: ChildStack;
  let token: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json().catch(() => null)) as any };
  };
  /** The event as the portal has it, read with a token of user 2 (the owner) from their own launch. */
  let ownerToken: string | undefined;
  const eventOf = async (id: string): Promise<Record<string, string> | null> => {
    ownerToken ??= (await stack.emu.launch(stack.portal.member_id, 2)).form.AUTH_ID!;
    const answer = await rest(stack.portal.client_endpoint, 'calendar.event.getbyid', { id }, ownerToken);
    if (answer.status !== 200) throw new Error(`calendar.event.getbyid answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body.result;
  };
  const jobs = () => stack.sql<{ op: string; state: string }>('SELECT op, state FROM calendar_jobs');
  async function linkedItem(name: string, startsAt: string) {
    const created = await api('POST', '/api/items', { name, starts_at: startsAt });
    expect(created.status).toBe(201);
    const linked = await api('POST', `/api/items/${created.json.id}/calendar`);
    expect(linked.status).toBe(200);
    return linked.json as { id: string; version: number; calendar_event_id: string };
  }

  beforeAll(async () => {
    stack = await startChildStack({ CALENDAR_WRITE_DELAY_SECONDS: '3' });
    token = await stack.signIn(2);
  });
  afterAll(() => stack.stop());

  it('kill -9 between the commit and the write: the write happens once, after the restart', async () => {
    const item = await linkedItem('Before the crash', '2026-12-21T09:00:00Z');
    expect((await eventOf(item.calendar_event_id))!.VERSION).toBe('1');
    const changed = await api('PUT', `/api/items/${item.id}`, { version: item.version, name: 'Written after the crash' });
    expect(changed.json.calendar_sync).toBe('pending');
    await stack.server.kill9();
    // Committed with the change, not yet written.
    expect(await jobs()).toEqual([{ op: 'update', state: 'pending' }]);
    expect((await eventOf(item.calendar_event_id))!.NAME).toBe('Before the crash');

    await stack.restart();
    token = await stack.signIn(2);
    await waitFor(async () => (await eventOf(item.calendar_event_id))!.NAME === 'Written after the crash', { what: 'the write after the restart', intervalMs: 100, timeoutMs: 20_000 });
    await waitFor(async () => (await jobs()).length === 0, { what: 'the job settled', intervalMs: 100, timeoutMs: 20_000 });
    // Added once, updated once.
    expect((await eventOf(item.calendar_event_id))!.VERSION).toBe('2');
    expect((await api('GET', `/api/items/${item.id}`)).json.calendar_sync).toBe('synced');
  });

  it('with the app stopped, a user moves one event and deletes another; once started, both items reflect it', async () => {
    const moved = await linkedItem('Moved while the app was down', '2026-12-22T09:00:00Z');
    const deleted = await linkedItem('Deleted while the app was down', '2026-12-23T09:00:00Z');

    // Online first, for the record: a change in the portal reaches the running app in…
    const onlineStart = performance.now();
    await stack.emu.editCalendarEntry(stack.portal.member_id, moved.calendar_event_id, { name: 'Renamed online' });
    await waitFor(async () => (await api('GET', `/api/items/${moved.id}`)).json.name === 'Renamed online', { what: 'the online change', intervalMs: 5 });
    const onlineMs = performance.now() - onlineStart;

    await stack.server.stop();
    const before = (await stack.emu.stats(stack.portal.member_id)).events_failed;
    await stack.emu.editCalendarEntry(stack.portal.member_id, moved.calendar_event_id, { from_ts: 1_797_100_000, to_ts: 1_797_103_600 });
    await stack.emu.deleteCalendarEntry(stack.portal.member_id, deleted.calendar_event_id);
    // Bitrix24 posted both online and nobody answered: only the offline queue has them now.
    expect((await stack.emu.stats(stack.portal.member_id)).events_failed).toBeGreaterThan(before);
    // (The queue also holds the echoes of the app's own writes until a drain reads them.)
    expect((await stack.emu.offlineEvents(stack.portal.member_id)).total).toBeGreaterThanOrEqual(2);

    const restartStart = performance.now();
    await stack.restart();
    token = await stack.signIn(2);
    await waitFor(
      async () => {
        const [m, d] = await Promise.all([api('GET', `/api/items/${moved.id}`), api('GET', `/api/items/${deleted.id}`)]);
        return m.json.starts_at === new Date(1_797_100_000_000).toISOString() && d.json.calendar_event_id === null;
      },
      { what: 'both changes read from the offline queue', intervalMs: 20, timeoutMs: 20_000 },
    );
    const afterOutageMs = performance.now() - restartStart;
    const movedNow = (await api('GET', `/api/items/${moved.id}`)).json;
    expect(movedNow).toMatchObject({ name: 'Renamed online', calendar_sync: 'synced' });
    expect((await api('GET', `/api/items/${deleted.id}`)).json).toMatchObject({ name: 'Deleted while the app was down', calendar_sync: null });
    // Read and cleared on the portal.
    await waitFor(async () => (await stack.emu.offlineEvents(stack.portal.member_id)).total === 0, { what: 'the offline queue cleared', intervalMs: 100 });
    console.log(`calendar change -> item: online ${onlineMs.toFixed(0)} ms; after the outage ${afterOutageMs.toFixed(0)} ms from the restart (process start included)`);
  });
});
