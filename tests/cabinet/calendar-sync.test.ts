/**
 * A linked item and its Bitrix24 calendar event stay one thing (app -> Bitrix24), against the
 * emulator's calendar over real HTTP: a change of name, notes or times updates the event, clearing the
 * start or deleting the item deletes it, archiving keeps it; an event deleted in Bitrix24 unlinks the
 * item; a write that cannot succeed marks the item `failed` until the user retries. The writes are
 * queued with the change (one transaction) and performed by the calendar sync, which every change
 * starts at once; the test awaits `runCalendarSync()` (a run after any in flight) instead of waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { rest } from '../support/emulator-client.ts';
import { openCabinet, type Cabinet, type CabinetUser, type ItemJson } from './cabinet-harness.ts';

interface CalendarEvent {
  ID: string;
  NAME: string;
  DESCRIPTION: string;
  DATE_FROM_TS_UTC: string;
  DATE_TO_TS_UTC: string;
}

/** The event as Bitrix24 has it, read with a fresh token of its owner (null: there is none). */
async function eventOf(cab: Cabinet, user: CabinetUser, id: string): Promise<CalendarEvent | null> {
  const auth = (await cab.stack.emu.launch(user.portal.member_id, user.userId)).form.AUTH_ID!;
  return (await rest(user.portal.client_endpoint, 'calendar.event.getbyid', { id }, auth)).body.result as CalendarEvent | null;
}

const sec = (iso: string) => String(Date.parse(iso) / 1000);

/**
 * Until nothing is left to do: every event the emulator began posting (our own writes' echoes among
 * them) answered, and no job due. Runs the sync itself and waits on /_emulator/stats, not on time.
 */
async function settle(cab: Cabinet): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await cab.stack.server.app.runCalendarSync();
    const s = await cab.stack.emu.stats();
    const due = (await cab.stack.sqlOne<{ n: number }>("SELECT count(*) AS n FROM calendar_jobs WHERE state = 'pending' AND next_at <= ?", [
      Math.floor(Date.now() / 1000),
    ]))!.n;
    if (s.events_started === s.events_sent + s.events_failed && due === 0) return;
    await Bun.sleep(5);
  }
  throw new Error('the calendar queue did not settle');
}

describe('calendar sync, app -> Bitrix24', () => {
  let cab: Cabinet;
  let user: CabinetUser;
  const outbox = () =>
    cab.stack.sql<{ op: string; state: string; item_id: string }>("SELECT op, state, item_id FROM calendar_jobs WHERE op <> 'pull'");
  const sync = () => settle(cab);

  /** An item with a start, linked to a new event. */
  async function linked(name: string): Promise<ItemJson & { calendar_event_id: string; calendar_sync: string | null }> {
    const item = await user.create({ name, data: { notes: 'first' }, starts_at: '2026-12-10T09:00:00Z', ends_at: '2026-12-10T10:00:00Z' });
    const r = await user.api('POST', `/api/items/${item.id}/calendar`);
    expect(r.status).toBe(200);
    return r.json;
  }

  beforeAll(async () => {
    cab = await openCabinet();
    user = await cab.signIn(await cab.newPortal(), 2);
  });
  afterAll(() => cab.stop());

  it('a change of name, notes and times reaches the event; the item says when it is in step', async () => {
    const item = await linked('Planning');
    expect(item.calendar_sync).toBe('synced');
    const changed = await user.api('PUT', `/api/items/${item.id}`, {
      version: item.version,
      name: 'Planning, moved',
      data: { notes: 'second' },
      starts_at: '2026-12-11T14:00:00+03:00',
      ends_at: '2026-12-11T15:30:00+03:00',
    });
    expect(changed.status).toBe(200);
    expect(changed.json.calendar_sync).toBe('pending');
    await sync();

    const event = (await eventOf(cab, user, item.calendar_event_id))!;
    expect(event.NAME).toBe('Planning, moved');
    expect(event.DESCRIPTION).toBe('second');
    expect(event.DATE_FROM_TS_UTC).toBe(sec('2026-12-11T11:00:00Z'));
    expect(event.DATE_TO_TS_UTC).toBe(sec('2026-12-11T12:30:00Z'));
    expect((await user.api('GET', `/api/items/${item.id}`)).json.calendar_sync).toBe('synced');
    expect(await outbox()).toEqual([]);
  });

  it('the row saved with a pending write looks again by itself, and a settled row does not poll', async () => {
    const item = await linked('Row that polls');
    const saved = await user.ui('PUT', `/ui/items/${item.id}`, { name: 'Row that polls, renamed', notes: 'first', starts_at: '2026-12-10T09:00', ends_at: '2026-12-10T10:00', status: 'active', version: String(item.version) });
    expect(saved.status).toBe(200);
    expect(saved.text).toContain('Updating the calendar…');
    expect(saved.text).toContain(`hx-get="/ui/items/${item.id}" hx-trigger="load delay:3s"`);
    await sync();
    const settled = await user.ui('GET', `/ui/items/${item.id}`);
    expect(settled.text).toContain('In calendar');
    expect(settled.text).not.toContain('hx-trigger="load delay');
  });

  it('quick changes in a row: the event ends with the newest state', async () => {
    const item = await linked('Draft');
    let version = item.version;
    for (const name of ['Draft 2', 'Draft 3', 'Final']) {
      const r = await user.api('PUT', `/api/items/${item.id}`, { version, name });
      version = r.json.version;
    }
    await sync();
    expect((await eventOf(cab, user, item.calendar_event_id))!.NAME).toBe('Final');
    expect(await outbox()).toEqual([]);
  });

  it('changes made while the sync is away are one queued write of the newest state', async () => {
    const item = await linked('Offline draft');
    // What a crashed (or not yet running) worker leaves: the changes and their queued write, committed.
    const actor = { portalId: user.portalId, userId: user.userId };
    let version = item.version;
    for (const name of ['Offline 2', 'Offline final']) {
      const r = await cab.stack.store.items.update(actor, item.id, version, { name, data: null, status: 'active', startsAt: Date.parse('2026-12-10T09:00:00Z') / 1000, endsAt: null }, 1, { op: 'update', dueAt: 1 });
      if (r.kind !== 'updated') throw new Error(r.kind);
      version = r.item.version;
    }
    expect(await outbox()).toEqual([{ op: 'update', state: 'pending', item_id: item.id }]);
    await sync();
    expect(await outbox()).toEqual([]);
    const event = (await eventOf(cab, user, item.calendar_event_id))!;
    expect(event).toMatchObject({ NAME: 'Offline final', DESCRIPTION: '' });
    expect(Number(event.DATE_TO_TS_UTC) - Number(event.DATE_FROM_TS_UTC)).toBe(3600);
  });

  it('archiving keeps the event and writes nothing', async () => {
    const item = await linked('Keep me');
    const r = await user.api('PUT', `/api/items/${item.id}`, { version: item.version, status: 'archived' });
    expect(r.json.calendar_sync).toBe('synced');
    expect(await outbox()).toEqual([]);
    expect(await eventOf(cab, user, item.calendar_event_id)).not.toBeNull();
  });

  it('clearing the start deletes the event and unlinks the item at once', async () => {
    const item = await linked('No longer dated');
    const r = await user.api('PUT', `/api/items/${item.id}`, { version: item.version, starts_at: null, ends_at: null });
    expect(r.json).toMatchObject({ calendar_event_id: null, calendar_sync: null });
    await sync();
    expect(await eventOf(cab, user, item.calendar_event_id)).toBeNull();
  });

  it('deleting the item deletes its event', async () => {
    const item = await linked('Delete me');
    expect((await user.api('DELETE', `/api/items/${item.id}`)).status).toBe(204);
    expect(await outbox()).toEqual([{ op: 'delete', state: 'pending', item_id: item.id }]);
    await sync();
    expect(await eventOf(cab, user, item.calendar_event_id)).toBeNull();
    expect(await outbox()).toEqual([]);
  });

  it('an event deleted in Bitrix24 (by REST) while the user renames the item: the item ends unlinked either way', async () => {
    const item = await linked('Deleted elsewhere');
    const gone = await fetch(`${user.portal.client_endpoint}calendar.event.delete.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: item.calendar_event_id, auth: (await cab.stack.emu.launch(user.portal.member_id, user.userId)).form.AUTH_ID }),
    });
    expect(gone.status).toBe(200);
    // The deletion's own event (a pull) and the user's rename race; either way the item ends unlinked.
    const r = await user.api('PUT', `/api/items/${item.id}`, { version: item.version, name: 'Renamed' });
    expect([200, 409]).toContain(r.status);
    await sync();
    expect((await user.api('GET', `/api/items/${item.id}`)).json).toMatchObject({ calendar_event_id: null, calendar_sync: null });
  });

  it('with the user\'s tokens dead the write fails, the item says so, and a retry after reopening the app succeeds', async () => {
    const victim = await cab.signIn(await cab.newPortal(), 3);
    const created = await victim.create({ name: 'Needs tokens', starts_at: '2026-12-12T09:00:00Z' });
    const item = (await victim.api('POST', `/api/items/${created.id}/calendar`)).json;
    // Someone else spent the refresh token the app stored, and the access token expired.
    await cab.killTokens(victim);

    await victim.api('PUT', `/api/items/${item.id}`, { version: item.version, name: 'Needs tokens, renamed' });
    await sync();
    expect(await outbox()).toEqual([{ op: 'update', state: 'failed', item_id: item.id }]);
    expect((await victim.api('GET', `/api/items/${item.id}`)).json.calendar_sync).toBe('failed');
    expect((await eventOf(cab, victim, item.calendar_event_id))!.NAME).toBe('Needs tokens');
    const row = await victim.ui('GET', `/ui/items/${item.id}`);
    expect(row.text).toContain(`/ui/items/${item.id}/calendar`);

    // Reopening the app brings fresh tokens; the retry (the row's button) writes the newest state.
    const again = await cab.signIn(victim.portal, 3);
    const retried = await again.ui('POST', `/ui/items/${item.id}/calendar`);
    expect(retried.status).toBe(200);
    await sync();
    expect((await again.api('GET', `/api/items/${item.id}`)).json.calendar_sync).toBe('synced');
    expect((await eventOf(cab, again, item.calendar_event_id))!.NAME).toBe('Needs tokens, renamed');
  });

  it('the queued write survives a restart of the app: another app on the same database performs it', async () => {
    const item = await linked('Across a restart');
    // The running app has nothing in flight and no run scheduled (as if it had died): only the
    // second app can take the job.
    await sync();
    await cab.stack.server.app.idle();
    // The change committed with its queued write, and the app died before performing it.
    const actor = { portalId: user.portalId, userId: user.userId };
    const input = { name: 'Written after the restart', data: null, status: 'active' as const, startsAt: Date.parse('2026-12-10T09:00:00Z') / 1000, endsAt: null };
    expect((await cab.stack.store.items.update(actor, item.id, item.version, input, 1, { op: 'update', dueAt: 1 })).kind).toBe('updated');
    // A second app over the same database file performs it.
    const { createApp } = await import('../../src/app.ts');
    const { loadConfig } = await import('../../src/config.ts');
    const { createMemoryLogger } = await import('../../src/log.ts');
    const second = createApp({
      config: loadConfig(
        {
          BITRIX24_CLIENT_ID: cab.stack.clientId,
          BITRIX24_CLIENT_SECRET: cab.stack.clientSecret,
          PUBLIC_URL: cab.stack.appUrl,
          APP_SECRET: 'x'.repeat(40),
          BITRIX24_OAUTH_SERVERS: cab.stack.emulator.url,
        },
        'serve',
      ),
      store: cab.stack.store,
      logger: createMemoryLogger(),
    });
    // (It may also take the pull its own write's echo queued: the two apps share one queue.)
    expect((await second.runCalendarSync()).done).toBeGreaterThanOrEqual(1);
    expect((await eventOf(cab, user, item.calendar_event_id))!.NAME).toBe('Written after the restart');
    await sync();
    expect(await outbox()).toEqual([]);
  });

  it('a portal administrator sees the portal\'s pending and failed calendar jobs; anyone else gets 404', async () => {
    const portal = await cab.newPortal();
    const owner = await cab.signIn(portal, 2);
    const created = await owner.create({ name: 'Dead letter', starts_at: '2026-12-12T09:00:00Z' });
    const item = (await owner.api('POST', `/api/items/${created.id}/calendar`)).json;
    await cab.killTokens(owner);
    await owner.api('PUT', `/api/items/${item.id}`, { version: item.version, name: 'Dead letter, renamed' });
    await sync();
    const admin = await cab.signIn(portal, 1);
    expect((await admin.api('GET', '/api/admin/calendar-jobs')).json).toEqual({ pending: 0, failed: 1 });
    // The admin panel's report says which way: a write to Bitrix24 (the outbox) that failed.
    expect((await admin.api('GET', '/api/admin/health')).json.calendarQueue).toEqual({ outbox: { pending: 0, failed: 1 }, inbox: { pending: 0, failed: 0 }, oldestPendingAt: null });
    // Another portal's administrator sees only their own portal.
    const elsewhere = await cab.signIn(await cab.newPortal(), 1);
    expect((await elsewhere.api('GET', '/api/admin/calendar-jobs')).json).toEqual({ pending: 0, failed: 0 });
    const notAdmin = await owner.api('GET', '/api/admin/calendar-jobs');
    expect(notAdmin.status).toBe(404);
    expect(notAdmin.json.error.code).toBe('not_found');
  });
});

describe('calendar sync, Bitrix24 -> app', () => {
  let cab: Cabinet;
  let user: CabinetUser;
  const app = () => cab.stack.server.app;
  const jobs = () => cab.stack.sql<{ op: string; state: string }>('SELECT op, state FROM calendar_jobs');
  /** A user edits or deletes the entry in the Bitrix24 calendar (the emulator's UI control). */
  const editInBitrix = (eventId: string, change: Record<string, unknown>) => cab.stack.emu.editCalendarEntry(user.portal.member_id, eventId, change);
  const deleteInBitrix = (eventId: string) => cab.stack.emu.deleteCalendarEntry(user.portal.member_id, eventId);
  async function linked(name: string, fields: Record<string, unknown> = {}) {
    const item = await user.create({ name, starts_at: '2026-12-20T09:00:00Z', ...fields });
    const r = await user.api('POST', `/api/items/${item.id}/calendar`);
    expect(r.status).toBe(200);
    await settle(cab);
    return r.json as ItemJson & { calendar_event_id: string };
  }

  beforeAll(async () => {
    cab = await openCabinet();
    user = await cab.signIn(await cab.newPortal(), 2);
  });
  afterAll(() => cab.stop());

  it('binds the calendar events online and offline, ONOFFLINEEVENT and ONAPPUPDATE, at install', async () => {
    const auth = (await cab.stack.emu.launch(user.portal.member_id, 1)).form.AUTH_ID!;
    const res = await fetch(`${user.portal.client_endpoint}event.get.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth }),
    });
    const bound = ((await res.json()) as { result: { event: string; handler?: string; offline?: number }[] }).result;
    const online = bound.filter((b) => !b.offline).map((b) => b.event.toUpperCase()).sort();
    const offline = bound.filter((b) => b.offline).map((b) => b.event.toUpperCase()).sort();
    expect(online).toEqual(['ONAPPUNINSTALL', 'ONAPPUPDATE', 'ONCALENDARENTRYDELETE', 'ONCALENDARENTRYUPDATE', 'ONOFFLINEEVENT']);
    expect(offline).toEqual(['ONCALENDARENTRYDELETE', 'ONCALENDARENTRYUPDATE']);
  });

  it('a change made in the Bitrix24 calendar reaches the item: name, notes, times', async () => {
    const item = await linked('Set in the app', { ends_at: '2026-12-20T10:00:00Z' });
    await editInBitrix(item.calendar_event_id, { name: 'Moved in Bitrix24', description: 'новое описание', from_ts: 1_797_000_000, to_ts: 1_797_005_400 });
    await settle(cab);
    const now = (await user.api('GET', `/api/items/${item.id}`)).json;
    expect(now).toMatchObject({
      name: 'Moved in Bitrix24',
      data: { notes: 'новое описание' },
      starts_at: new Date(1_797_000_000_000).toISOString(),
      ends_at: new Date(1_797_005_400_000).toISOString(),
      calendar_sync: 'synced',
      version: item.version + 1,
    });
  });

  it('our own writes come back as events and change nothing', async () => {
    const item = await linked('Echo');
    const r = await user.api('PUT', `/api/items/${item.id}`, { version: item.version, name: 'Echo, renamed' });
    await settle(cab);
    const now = (await user.api('GET', `/api/items/${item.id}`)).json;
    expect(now).toMatchObject({ name: 'Echo, renamed', version: r.json.version, calendar_sync: 'synced', ends_at: null });
  });

  it('an event deleted in the Bitrix24 calendar unlinks the item, which stays', async () => {
    const item = await linked('Deleted in Bitrix24');
    await deleteInBitrix(item.calendar_event_id);
    await settle(cab);
    expect((await user.api('GET', `/api/items/${item.id}`)).json).toMatchObject({ name: 'Deleted in Bitrix24', calendar_event_id: null, calendar_sync: null });
  });

  it('a change heard online and read again from the offline queue is applied once', async () => {
    const item = await linked('Heard twice');
    await app().runOfflineEvents(); // the link's own records out of the way
    await editInBitrix(item.calendar_event_id, { name: 'Heard twice, renamed' });
    await settle(cab);
    const online = (await user.api('GET', `/api/items/${item.id}`)).json;
    expect(online).toMatchObject({ name: 'Heard twice, renamed', version: item.version + 1 });
    // The same change waits in the offline queue too (Bitrix24 queues every change for offline bindings).
    expect((await app().runOfflineEvents()).pulls).toBeGreaterThan(0);
    await settle(cab);
    expect((await user.api('GET', `/api/items/${item.id}`)).json.version).toBe(online.version);
  });

  it('a change of a calendar entry the user does not own changes nothing', async () => {
    const mine = await linked('Only mine');
    const other = await cab.signIn(user.portal, 3);
    const auth = (await cab.stack.emu.launch(user.portal.member_id, 3)).form.AUTH_ID!;
    const added = await rest(user.portal.client_endpoint, 'calendar.event.add', { type: 'user', ownerId: 3, name: 'Someone else', from: '2026-12-24T09:00:00+00:00', to: '2026-12-24T10:00:00+00:00' }, auth);
    expect(added.status).toBe(200);
    const before = await cab.rows();
    await editInBitrix(String(added.body.result), { name: 'Someone else, renamed' });
    await settle(cab);
    expect(await cab.rows()).toEqual(before);
    expect(await jobs()).toEqual([]);
    expect((await other.api('GET', '/api/items')).json.items).toEqual([]);
    expect((await user.api('GET', `/api/items/${mine.id}`)).json.version).toBe(mine.version);
  });

  it('a change made while the app heard nothing (no online handler) is read from the offline queue', async () => {
    const item = await linked('Changed while away');
    // The online calendar handlers are gone (as if the app had been down when Bitrix24 posted).
    const auth = (await cab.stack.emu.launch(user.portal.member_id, 1)).form.AUTH_ID!;
    for (const event of ['ONCALENDARENTRYUPDATE', 'ONOFFLINEEVENT']) {
      const res = await fetch(`${user.portal.client_endpoint}event.unbind.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ auth, event, handler: `${cab.stack.appUrl}/events` }),
      });
      expect(res.status).toBe(200);
    }
    await editInBitrix(item.calendar_event_id, { name: 'Renamed while away' });
    await settle(cab);
    expect((await user.api('GET', `/api/items/${item.id}`)).json.name).toBe('Changed while away');

    const drained = await app().runOfflineEvents();
    expect(drained.records).toBeGreaterThan(0);
    await settle(cab);
    expect((await user.api('GET', `/api/items/${item.id}`)).json.name).toBe('Renamed while away');
    // Cleared on the portal: a second drain reads nothing.
    expect((await app().runOfflineEvents()).records).toBe(0);
    expect(await jobs()).toEqual([]);
  });

  it('a forged calendar event (the application token every launch form carries) only makes the app read the real event', async () => {
    const item = await linked('Forged event target');
    const appToken = user.launch.form.APPLICATION_TOKEN!;
    const res = await fetch(`${cab.stack.appUrl}/events`, {
      method: 'POST',
      body: new URLSearchParams({
        event: 'ONCALENDARENTRYUPDATE',
        'data[id]': item.calendar_event_id,
        'auth[member_id]': user.portal.member_id,
        'auth[application_token]': appToken,
        'data[NAME]': 'Injected',
      }),
    });
    expect(res.status).toBe(200);
    await settle(cab);
    expect((await user.api('GET', `/api/items/${item.id}`)).json).toMatchObject({ name: 'Forged event target', version: item.version });
  });
});

