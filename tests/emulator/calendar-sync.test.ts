/**
 * Calendar sync both ways and events that are never lost, against the emulator over real HTTP:
 * calendar.event.update / delete / getbyid, OnCalendarEntryUpdate / Delete posted to online handlers
 * and queued for offline bindings (event.bind event_type=offline), whoever made the change (the app's
 * own REST call, or a user in the UI through the control API), the offline queue methods
 * (event.offline.get / list / clear / error), ONOFFLINEEVENT with minTimeout, and auth_connector.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createHash } from 'node:crypto';
import { EmulatorControlError, rest, type EmulatedPortal } from '../support/emulator-client.ts';
import { startTestBed, type Captured, type TestBed } from '../support/test-bed.ts';

let bed: TestBed;

beforeAll(async () => {
  bed = await startTestBed({ burst: 10_000 });
});
afterAll(() => bed.stop());

interface Site {
  portal: EmulatedPortal;
  admin: string;
  tokenOf(userId: number): Promise<string>;
  call(method: string, params?: Record<string, unknown>, token?: string): ReturnType<typeof rest>;
  /** Adds an entry to `owner`'s calendar as that user and returns its id. */
  addEntry(owner: number, name?: string): Promise<number>;
  /** What this portal's events posted to the app sink. */
  posts(filter?: (c: Captured) => boolean): Captured[];
}

async function openSite(): Promise<Site> {
  const portal = await bed.emu.createPortal();
  const admin = (await bed.emu.install(portal.member_id)).launch.form.AUTH_ID ?? '';
  const tokenOf = async (userId: number) => (userId === 1 ? admin : ((await bed.emu.launch(portal.member_id, userId)).form.AUTH_ID ?? ''));
  const call = (method: string, params: Record<string, unknown> = {}, token = admin) => rest(portal.client_endpoint, method, params, token);
  return {
    portal,
    admin,
    tokenOf,
    call,
    async addEntry(owner, name = 'Planning') {
      const params = { type: 'user', ownerId: owner, name, from: '2026-05-04T09:00:00Z', to: '2026-05-04T10:00:00Z' };
      const res = await call('calendar.event.add', params, await tokenOf(owner));
      expect(res.status).toBe(200);
      return res.body.result as number;
    },
    posts: (filter = () => true) => bed.app.requests.filter((r) => r.form.get('auth[member_id]') === portal.member_id && filter(r)),
  };
}

/** The control API's user in the Bitrix24 UI: edits (POST) or deletes (DELETE) a calendar entry. */
async function uiEdit(site: Site, id: number, body: Record<string, unknown>, method = 'POST'): Promise<{ status: number; body: any }> {
  try {
    const answer =
      method === 'DELETE'
        ? await bed.emu.deleteCalendarEntry(site.portal.member_id, id, body.user_id as number | undefined)
        : await bed.emu.editCalendarEntry(site.portal.member_id, id, body);
    return { status: 200, body: answer };
  } catch (e) {
    if (e instanceof EmulatorControlError) return { status: e.status, body: e.body };
    throw e;
  }
}

const queueView = (site: Site) => bed.emu.offlineEvents(site.portal.member_id);

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const update = (id: number, extra: Record<string, unknown> = {}) => ({ id, type: 'user', ownerId: 1, name: 'Planning', ...extra });

describe('calendar.event.update', () => {
  it('changes the owner\'s entry and answers its id; getbyid shows the new values, VERSION and TIMESTAMP_X', async () => {
    const site = await openSite();
    const id = await site.addEntry(1);
    const before = (await site.call('calendar.event.getbyid', { id })).body.result;
    expect(before).toMatchObject({ ID: String(id), NAME: 'Planning', VERSION: '1', DELETED: 'N', CAL_TYPE: 'user', OWNER_ID: '1' });
    const res = await site.call('calendar.event.update', update(id, { name: 'Planning v2', description: 'room 4', from: '2026-05-04T11:00:00Z', to: '2026-05-04T12:30:00Z' }));
    expect(res).toMatchObject({ status: 200, body: { result: id } });
    const after = (await site.call('calendar.event.getbyid', { id })).body.result;
    expect(after).toMatchObject({ NAME: 'Planning v2', DESCRIPTION: 'room 4', VERSION: '2', DT_LENGTH: 5400, CREATED_BY: '1' });
    expect(after.DATE_FROM_TS_UTC).toBe(String(Date.parse('2026-05-04T11:00:00Z') / 1000));
    expect(Date.parse(after.DATE_TO)).toBe(Date.parse('2026-05-04T12:30:00Z'));
    expect(Date.parse(after.TIMESTAMP_X)).toBeGreaterThanOrEqual(Date.parse(before.TIMESTAMP_X));
  });

  it('keeps what it is not given', async () => {
    const site = await openSite();
    const id = await site.addEntry(1);
    await site.call('calendar.event.update', update(id, { description: 'kept' }));
    await site.call('calendar.event.update', update(id, { name: 'Renamed' }));
    const entry = (await site.call('calendar.event.getbyid', { id })).body.result;
    expect(entry).toMatchObject({ NAME: 'Renamed', DESCRIPTION: 'kept', VERSION: '3' });
    expect(entry.DATE_FROM_TS_UTC).toBe(String(Date.parse('2026-05-04T09:00:00Z') / 1000));
  });

  it('reads plain dates in timezone_from / timezone_to, else the user\'s zone; an offset in the date wins', async () => {
    const site = await openSite();
    const id = await site.addEntry(1);
    await site.call('calendar.event.update', update(id, { from: '2026-03-20 15:00:00', to: '2026-03-20T16:00:00', timezone_from: 'Europe/Riga' }));
    const riga = (await site.call('calendar.event.getbyid', { id })).body.result;
    expect(riga).toMatchObject({ TZ_FROM: 'Europe/Riga', TZ_TO: 'Europe/Riga', TZ_OFFSET_FROM: '7200', DATE_FROM: '2026-03-20T15:00:00+02:00' });
    expect(riga.DATE_FROM_TS_UTC).toBe(String(Date.parse('2026-03-20T13:00:00Z') / 1000));
    expect(riga.DATE_TO_TS_UTC).toBe(String(Date.parse('2026-03-20T14:00:00Z') / 1000));
    await site.call('calendar.event.update', update(id, { from: '2026-03-20T15:00:00+05:00', to: '2026-03-20T16:00:00+05:00', timezone_from: 'Europe/Riga' }));
    expect((await site.call('calendar.event.getbyid', { id })).body.result.DATE_FROM_TS_UTC).toBe(String(Date.parse('2026-03-20T10:00:00Z') / 1000));
    // Мария (user 4) has Europe/Moscow as her own zone.
    const maria = await site.tokenOf(4);
    const hers = await site.addEntry(4);
    await site.call('calendar.event.update', { id: hers, type: 'user', ownerId: 4, name: 'x', from: '2026-03-20 15:00', to: '2026-03-20 16:00' }, maria);
    const moscow = (await site.call('calendar.event.getbyid', { id: hers }, maria)).body.result;
    expect(moscow).toMatchObject({ TZ_FROM: 'Europe/Moscow', DATE_FROM_TS_UTC: String(Date.parse('2026-03-20T12:00:00Z') / 1000) });
  });

  it('answers the documented errors: 400, empty code, and no change', async () => {
    const site = await openSite();
    const id = await site.addEntry(1);
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'user', ownerId: 1, name: 'x' }, 'The required parameter "id" for the method "calendar.event.update" is not set.'],
      [{ id, type: 'user', name: 'x' }, 'The required parameter "ownerId" for the method "calendar.event.update" is not set.'],
      [{ id, ownerId: 1, name: 'x' }, 'The required parameter "type" for the method "calendar.event.update" is not set.'],
      [{ id, type: 'user', ownerId: 1 }, 'Invalid value for the "name" parameter.'],
      [update(id, { description: ['not', 'text'] }), 'Invalid value for the "description" parameter.'],
      [update(id + 1000), 'An error occurred while changing the event.'],
      [update(id, { ownerId: 2 }), 'Access denied.'],
      [update(id, { recurrence_mode: 'sometimes' }), 'An invalid editing type for the recurring event is specified.'],
      [update(id, { from: '2026-05-04T12:00:00Z', to: '2026-05-04T11:00:00Z' }), 'The end date of the event is earlier than the start date'],
    ];
    for (const [params, description] of cases) {
      expect(await site.call('calendar.event.update', params)).toMatchObject({ status: 400, body: { error: '', error_description: description } });
    }
    expect((await site.call('calendar.event.getbyid', { id })).body.result.VERSION).toBe('1');
  });

  it('lets only the owner change an entry of a user calendar', async () => {
    const site = await openSite();
    const id = await site.addEntry(2);
    const john = await site.tokenOf(3);
    const denied = await site.call('calendar.event.update', { id, type: 'user', ownerId: 2, name: 'Hijacked' }, john);
    expect(denied).toMatchObject({ status: 400, body: { error: '', error_description: 'Access denied.' } });
    const byAdmin = await site.call('calendar.event.update', { id, type: 'user', ownerId: 2, name: 'Hijacked' });
    expect(byAdmin.body.error_description).toBe('Access denied.');
    expect((await site.call('calendar.event.getbyid', { id })).body.result.NAME).toBe('Planning');
    const owner = await site.call('calendar.event.update', { id, type: 'user', ownerId: 2, name: 'Mine' }, await site.tokenOf(2));
    expect(owner.body.result).toBe(id);
    const intoOthers = await site.call('calendar.event.add', { type: 'user', ownerId: 2, name: 'x', from: '2026-05-04T09:00:00Z', to: '2026-05-04T10:00:00Z' }, john);
    expect(intoOthers).toMatchObject({ status: 400, body: { error: '', error_description: 'Access denied' } });
  });
});

describe('calendar.event.delete and calendar.event.getbyid', () => {
  it('deletes the owner\'s entry; getbyid then answers null, a second delete the documented error', async () => {
    const site = await openSite();
    const id = await site.addEntry(1);
    expect(await site.call('calendar.event.delete', { id })).toMatchObject({ status: 200, body: { result: true } });
    expect((await site.call('calendar.event.getbyid', { id })).body).toMatchObject({ result: null });
    expect((await site.call('calendar.event.delete', { id })).body).toEqual({ error: '', error_description: 'An error occurred while deleting the event' });
    expect((await site.call('calendar.event.delete', {})).body).toEqual({ error: '', error_description: 'Event id not specified' });
  });

  it('refuses another user\'s entry and keeps it', async () => {
    const site = await openSite();
    const id = await site.addEntry(2);
    const res = await site.call('calendar.event.delete', { id }, await site.tokenOf(3));
    expect(res).toMatchObject({ status: 400, body: { error_description: 'An error occurred while deleting the event' } });
    expect((await site.call('calendar.event.getbyid', { id })).body.result.ID).toBe(String(id));
  });

  it('getbyid without id answers the documented error', async () => {
    const site = await openSite();
    const res = await site.call('calendar.event.getbyid', {});
    expect(res).toMatchObject({ status: 400, body: { error: '', error_description: 'The required parameter "id" for the method "calendar.event.getbyid" is not set' } });
  });
});

describe('OnCalendarEntryUpdate / OnCalendarEntryDelete to online handlers', () => {
  it('are posted for the app\'s own REST changes, with data[id] and the usual auth', async () => {
    const site = await openSite();
    const handler = `${bed.app.url}/calendar-online`;
    for (const event of ['OnCalendarEntryUpdate', 'OnCalendarEntryDelete']) {
      expect((await site.call('event.bind', { event, handler })).body.result).toBe(true);
    }
    const id = await site.addEntry(1);
    const { application_token } = await bed.emu.install(site.portal.member_id);
    await site.call('calendar.event.update', update(id, { name: 'moved' }));
    await site.call('calendar.event.delete', { id });
    const mine = (r: Captured) => r.path === '/calendar-online' && r.form.get('auth[member_id]') === site.portal.member_id;
    const posts = await bed.app.waitFor(mine, 2);
    expect(posts.map((p) => p.form.get('event')).sort()).toEqual(['ONCALENDARENTRYDELETE', 'ONCALENDARENTRYUPDATE']);
    for (const post of posts) {
      expect(Object.fromEntries(post.form)).toMatchObject({
        'data[id]': String(id),
        'auth[application_token]': application_token,
        'auth[domain]': site.portal.domain,
        'auth[user_id]': '1',
      });
      expect(post.form.get('auth[access_token]')).toMatch(/^[0-9a-f]{70}$/);
      expect(post.form.has('auth[refresh_token]')).toBe(false);
      expect(Number(post.form.get('event_handler_id'))).toBeGreaterThan(0);
    }
  });

  it('are posted when a user edits or deletes the entry in the UI, on behalf of that user', async () => {
    const site = await openSite();
    const handler = `${bed.app.url}/calendar-ui`;
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', handler });
    await site.call('event.bind', { event: 'ONCALENDARENTRYDELETE', handler });
    const id = await site.addEntry(2);
    const edited = await uiEdit(site, id, { name: 'Moved in the UI', from: '2026-05-05T09:00:00Z', to: '2026-05-05T10:00:00Z' });
    expect(edited.status).toBe(200);
    expect(edited.body.event).toMatchObject({ NAME: 'Moved in the UI', VERSION: '2' });
    expect(edited.body.deliveries).toEqual([{ url: handler, status: 200 }]);
    const [update] = site.posts((r) => r.path === '/calendar-ui');
    expect(update?.form.get('event')).toBe('ONCALENDARENTRYUPDATE');
    expect(update?.form.get('auth[user_id]')).toBe('2');
    expect((await site.call('calendar.event.getbyid', { id })).body.result.NAME).toBe('Moved in the UI');
    const deleted = await uiEdit(site, id, {}, 'DELETE');
    expect(deleted).toMatchObject({ status: 200, body: { deleted: true } });
    expect(site.posts((r) => r.path === '/calendar-ui').map((r) => r.form.get('event'))).toEqual(['ONCALENDARENTRYUPDATE', 'ONCALENDARENTRYDELETE']);
    expect((await site.call('calendar.event.getbyid', { id })).body.result).toBeNull();
  });

  it('reach every installed app, not only the one that made the change, and none that is not installed', async () => {
    await bed.emu.registerApp({ client_id: 'app.calendar.second', client_secret: 's', app_url: `${bed.app.url}/second/` });
    await bed.emu.registerApp({ client_id: 'app.calendar.pending', client_secret: 's', app_url: `${bed.app.url}/pending/` });
    const site = await openSite();
    const second = (await bed.emu.install(site.portal.member_id, { client_id: 'app.calendar.second' })).launch.form.AUTH_ID;
    bed.app.setStatus(500);
    let pending: string | undefined;
    try {
      // The installer page fails: the app stays added but not installed (INSTALLED=N).
      pending = (await bed.emu.install(site.portal.member_id, { client_id: 'app.calendar.pending' })).launch.form.AUTH_ID;
    } finally {
      bed.app.setStatus(200);
    }
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', handler: `${bed.app.url}/first/h` });
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', handler: `${bed.app.url}/second/h` }, second);
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', handler: `${bed.app.url}/pending/h` }, pending);
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' }, pending);
    const id = await site.addEntry(1);
    await site.call('calendar.event.update', update(id));
    await bed.app.waitFor((r) => r.path === '/second/h' && r.form.get('auth[member_id]') === site.portal.member_id);
    await bed.app.waitFor((r) => r.path === '/first/h' && r.form.get('auth[member_id]') === site.portal.member_id);
    await Bun.sleep(50);
    expect(site.posts((r) => r.path === '/pending/h')).toHaveLength(0);
    expect((await site.call('event.offline.list', {}, pending)).body.total).toBe(0);
  });

  it('the UI applies the same access rules: another user cannot edit, an unknown entry is 404', async () => {
    const site = await openSite();
    const id = await site.addEntry(2);
    expect(await uiEdit(site, id, { user_id: 3, name: 'nope' })).toMatchObject({ status: 403, body: { error: 'access_denied' } });
    expect((await uiEdit(site, id + 99, { name: 'nope' })).status).toBe(404);
    expect((await site.call('calendar.event.getbyid', { id })).body.result.VERSION).toBe('1');
  });
});

describe('event.bind / event.get / event.unbind with event_type=offline', () => {
  it('binds without a handler for an admin only, and lists offline bindings with their connector', async () => {
    const site = await openSite();
    const user2 = await site.tokenOf(2);
    const denied = await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' }, user2);
    expect(denied).toMatchObject({ status: 403, body: { error: 'ACCESS_DENIED', error_description: 'Access denied! Offline events binding requires administrator access rights' } });
    expect((await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' })).body.result).toBe(true);
    expect((await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline', auth_connector: 'sync' })).body.result).toBe(true);
    expect((await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' })).body.error).toBe('ERROR_HANDLER_ALREADY_EXIST');
    expect((await site.call('event.bind', { event: 'ONOFFLINEEVENT', event_type: 'offline' })).body.error).toBe('ERROR_ARGUMENT');
    expect((await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'sometimes' })).body.error).toBe('ERROR_ARGUMENT');
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', handler: `${bed.app.url}/h` });
    expect((await site.call('event.get')).body.result).toEqual([
      { event: 'ONCALENDARENTRYUPDATE', connector_id: '', offline: 1 },
      { event: 'ONCALENDARENTRYUPDATE', connector_id: 'sync', offline: 1 },
      { event: 'ONCALENDARENTRYUPDATE', handler: `${bed.app.url}/h`, auth_type: '0', offline: 0 },
    ]);
  });

  it('unbinds offline bindings only with event_type=offline, as an admin, per auth_connector', async () => {
    const site = await openSite();
    await site.call('event.bind', { event: 'ONCALENDARENTRYDELETE', event_type: 'offline' });
    await site.call('event.bind', { event: 'ONCALENDARENTRYDELETE', event_type: 'offline', auth_connector: 'sync' });
    await site.call('event.bind', { event: 'ONCALENDARENTRYDELETE', handler: `${bed.app.url}/h` });
    const denied = await site.call('event.unbind', { event: 'ONCALENDARENTRYDELETE', event_type: 'offline' }, await site.tokenOf(2));
    expect(denied).toMatchObject({ status: 403, body: { error_description: 'Access denied! Offline events unbinding requires administrator access rights' } });
    expect((await site.call('event.unbind', { event: 'ONCALENDARENTRYDELETE', handler: `${bed.app.url}/h` })).body.result).toEqual({ count: 1 });
    expect((await site.call('event.unbind', { event: 'ONCALENDARENTRYDELETE', event_type: 'offline' })).body.result).toEqual({ count: 1 });
    expect((await site.call('event.get')).body.result).toEqual([{ event: 'ONCALENDARENTRYDELETE', connector_id: 'sync', offline: 1 }]);
    expect((await site.call('event.unbind', { event: 'ONCALENDARENTRYDELETE', event_type: 'offline', auth_connector: 'sync' })).body.result).toEqual({ count: 1 });
  });
});

describe('the offline queue', () => {
  it('gets a record instead of a POST, keeps one record per changed object, and event.offline.get drains it', async () => {
    const site = await openSite();
    const handler = `${bed.app.url}/both`;
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', handler });
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' });
    await site.call('event.bind', { event: 'ONCALENDARENTRYDELETE', event_type: 'offline' });
    const id = await site.addEntry(2);
    for (const name of ['a', 'b', 'c']) expect((await uiEdit(site, id, { name })).body.queued).toBe(1);
    await uiEdit(site, id, {}, 'DELETE');
    // Three UI edits: three POSTs to the online handler and nothing else anywhere.
    expect(site.posts().map((r) => `${r.path} ${r.form.get('event')}`)).toEqual(Array(3).fill('/both ONCALENDARENTRYUPDATE'));
    expect((await queueView(site)).total).toBe(2);

    const got = await site.call('event.offline.get');
    expect(got.status).toBe(200);
    expect(got.body.result.process_id).toBeNull();
    const events = got.body.result.events;
    expect(events.map((e: any) => e.EVENT_NAME)).toEqual(['ONCALENDARENTRYUPDATE', 'ONCALENDARENTRYDELETE']);
    expect(events[0]).toEqual({
      ID: expect.stringMatching(/^\d+$/),
      TIMESTAMP_X: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/),
      EVENT_NAME: 'ONCALENDARENTRYUPDATE',
      EVENT_DATA: { id: String(id) },
      EVENT_ADDITIONAL: { user_id: '2' },
      MESSAGE_ID: md5(`ONCALENDARENTRYUPDATE|{"id":"${id}"}`),
    });
    expect((await site.call('event.offline.get')).body.result.events).toEqual([]);
    expect((await site.call('event.offline.list')).body).toMatchObject({ result: [], total: 0 });
    expect(await queueView(site)).toMatchObject({ total: 0 });
  });

  it('records the app\'s own REST changes too (the cycle auth_connector exists to break)', async () => {
    const site = await openSite();
    await site.call('event.bind', { event: 'ONCALENDARENTRYADD', event_type: 'offline' });
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' });
    const id = await site.addEntry(1);
    await site.call('calendar.event.update', update(id, { name: 'by the app' }));
    const listed = (await site.call('event.offline.list')).body;
    expect(listed.total).toBe(2);
    expect(listed.result.map((r: any) => [r.EVENT_NAME, r.EVENT_ADDITIONAL.user_id, r.PROCESS_ID, r.ERROR])).toEqual([
      ['ONCALENDARENTRYADD', '1', '', '0'],
      ['ONCALENDARENTRYUPDATE', '1', '', '0'],
    ]);
    expect((await bed.emu.stats(site.portal.member_id)).offline_events_queued).toBe(2);
  });

  it('clear=0 reserves a batch under a process_id that event.offline.clear confirms, in part or whole', async () => {
    const site = await openSite();
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' });
    const ids = [await site.addEntry(1, 'one'), await site.addEntry(1, 'two'), await site.addEntry(1, 'three')];
    for (const id of ids) await uiEdit(site, id, { description: 'changed' });
    const batch = (await site.call('event.offline.get', { clear: 0, limit: 2 })).body.result;
    expect(batch.process_id).toMatch(/^[0-9a-f]{32}$/);
    expect(batch.events.map((e: any) => e.EVENT_DATA.id)).toEqual([String(ids[0]), String(ids[1])]);
    // The batch is hidden from other reads; the third record is still waiting.
    const other = (await site.call('event.offline.get', { clear: 0 })).body.result;
    expect(other.events.map((e: any) => e.EVENT_DATA.id)).toEqual([String(ids[2])]);
    // A change of a reserved object while the batch is out adds a new waiting record.
    await uiEdit(site, ids[0] ?? 0, { description: 'again' });
    const list = (await site.call('event.offline.list')).body.result;
    expect(list.map((r: any) => [r.EVENT_DATA.id, r.PROCESS_ID])).toEqual([
      [String(ids[0]), batch.process_id],
      [String(ids[1]), batch.process_id],
      [String(ids[2]), other.process_id],
      [String(ids[0]), ''],
    ]);
    // Re-reading the batch by its process_id, without clearing.
    const again = (await site.call('event.offline.get', { process_id: batch.process_id, clear: 0 })).body.result;
    expect(again).toMatchObject({ process_id: batch.process_id, events: [{ ID: batch.events[0].ID }, { ID: batch.events[1].ID }] });
    // `id` wins over `message_id` (DOCS): only the record with that ID goes.
    const byId = { process_id: batch.process_id, id: [Number(batch.events[1].ID)], message_id: [batch.events[0].MESSAGE_ID] };
    expect((await site.call('event.offline.clear', byId)).body.result).toBe(true);
    expect((await site.call('event.offline.list')).body.result.map((r: any) => r.ID)).not.toContain(batch.events[1].ID);
    expect((await site.call('event.offline.list')).body.total).toBe(3);
    expect((await site.call('event.offline.clear', { process_id: batch.process_id, message_id: [batch.events[0].MESSAGE_ID] })).body.result).toBe(true);
    expect((await site.call('event.offline.list')).body.total).toBe(2);
    expect((await site.call('event.offline.clear', { process_id: other.process_id })).body.result).toBe(true);
    const left = (await site.call('event.offline.list')).body;
    expect(left.total).toBe(1);
    expect(left.result[0]).toMatchObject({ EVENT_DATA: { id: String(ids[0]) }, PROCESS_ID: '' });
    expect((await site.call('event.offline.clear', {})).body).toMatchObject({ error: 'ERROR_ARGUMENT' });
    expect((await site.call('event.offline.clear', { process_id: batch.process_id, message_id: ['short'] })).body.error).toBe('ERROR_ARGUMENT');
  });

  it('event.offline.error puts a record back marked as an error, read only with error=1', async () => {
    const site = await openSite();
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' });
    const a = await site.addEntry(1, 'a');
    const b = await site.addEntry(1, 'b');
    await uiEdit(site, a, { description: 'x' });
    await uiEdit(site, b, { description: 'x' });
    const batch = (await site.call('event.offline.get', { clear: 0 })).body.result;
    const failed = batch.events[0];
    expect(failed.EVENT_DATA).toEqual({ id: String(a) });
    // A newer change of the same entry waits as a second record until the error mark replaces both.
    await uiEdit(site, a, { description: 'y' });
    expect((await site.call('event.offline.list')).body.total).toBe(3);
    expect((await site.call('event.offline.error', { process_id: batch.process_id, message_id: [failed.MESSAGE_ID] })).body.result).toBe(true);
    await site.call('event.offline.clear', { process_id: batch.process_id });
    const listed = (await site.call('event.offline.list')).body.result;
    expect(listed).toEqual([expect.objectContaining({ ID: failed.ID, MESSAGE_ID: failed.MESSAGE_ID, PROCESS_ID: '', ERROR: '1' })]);
    expect((await site.call('event.offline.get')).body.result.events).toEqual([]);
    const errors = (await site.call('event.offline.get', { error: 1 })).body.result.events;
    expect(errors.map((e: any) => e.ID)).toEqual([failed.ID]);
    expect((await site.call('event.offline.list')).body.total).toBe(0);
    expect((await site.call('event.offline.error', { process_id: 'x' })).body.error).toBe('ERROR_ARGUMENT');
  });

  it('filters, orders and limits event.offline.get and event.offline.list as documented', async () => {
    const site = await openSite();
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' });
    await site.call('event.bind', { event: 'ONCALENDARENTRYDELETE', event_type: 'offline' });
    const ids = [await site.addEntry(1, 'a'), await site.addEntry(1, 'b'), await site.addEntry(1, 'c')];
    for (const id of ids) await uiEdit(site, id, { description: 'x' });
    await uiEdit(site, ids[2] ?? 0, {}, 'DELETE');
    const all = (await site.call('event.offline.list', { order: { ID: 'DESC' } })).body.result;
    expect(all.map((r: any) => r.EVENT_NAME)).toEqual(['ONCALENDARENTRYDELETE', 'ONCALENDARENTRYUPDATE', 'ONCALENDARENTRYUPDATE', 'ONCALENDARENTRYUPDATE']);
    const deletes = (await site.call('event.offline.list', { filter: { EVENT_NAME: 'ONCALENDARENTRYDELETE' } })).body;
    expect(deletes).toMatchObject({ total: 1, result: [{ EVENT_DATA: { id: String(ids[2]) } }] });
    const firstId = Number(all.at(-1).ID);
    const later = (await site.call('event.offline.get', { clear: 0, filter: { '>ID': firstId }, order: { ID: 'DESC' }, limit: 2 })).body.result.events;
    expect(later.map((e: any) => Number(e.ID))).toEqual([firstId + 3, firstId + 2]);
    const bad: [Record<string, unknown>, string][] = [
      [{ limit: 0 }, 'Value must be positive integer'],
      [{ filter: { '!EVENT_NAME': 'X' } }, 'Filter operation not allowed: !'],
      [{ filter: { PROCESS_ID: '' } }, 'Filter field not allowed: PROCESS_ID'],
      [{ order: { ID: 'UP' } }, 'Order direction should be one of {ASC|DESC}'],
    ];
    for (const [params, description] of bad) {
      expect(await site.call('event.offline.get', params)).toMatchObject({ status: 400, body: { error: 'ERROR_ARGUMENT', error_description: description } });
    }
  });

  it('is for administrators only', async () => {
    const site = await openSite();
    const user2 = await site.tokenOf(2);
    for (const method of ['event.offline.get', 'event.offline.list', 'event.offline.clear', 'event.offline.error']) {
      const res = await site.call(method, { process_id: 'x', message_id: [] }, user2);
      expect(res).toMatchObject({ status: 403, body: { error: 'ACCESS_DENIED', error_description: 'Access denied!' } });
    }
  });

  it('keeps a queue per auth_connector and leaves out the app\'s own changes made with that connector', async () => {
    const site = await openSite();
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline', auth_connector: 'sync' });
    const id = await site.addEntry(1);
    await site.call('calendar.event.update', update(id, { name: 'by the app', auth_connector: 'sync' }));
    expect((await site.call('event.offline.list', { auth_connector: 'sync' })).body.total).toBe(0);
    await site.call('calendar.event.update', update(id, { name: 'by the app, no connector' }));
    await uiEdit(site, id, { name: 'by a user' });
    expect((await site.call('event.offline.get')).body.result.events).toEqual([]);
    const got = (await site.call('event.offline.get', { auth_connector: 'sync' })).body.result.events;
    expect(got).toEqual([expect.objectContaining({ EVENT_NAME: 'ONCALENDARENTRYUPDATE', EVENT_ADDITIONAL: { user_id: '1' } })]);
    expect((await queueView(site)).apps).toEqual([{ client_id: bed.clientId, total: 0, queues: [] }]);
  });

  it('shows its depth per app and connector on the control API', async () => {
    const site = await openSite();
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' });
    const a = await site.addEntry(1, 'a');
    const b = await site.addEntry(1, 'b');
    await uiEdit(site, a, { description: 'x' });
    await uiEdit(site, b, { description: 'x' });
    await site.call('event.offline.get', { clear: 0, limit: 1 });
    expect(await queueView(site)).toEqual({
      member_id: site.portal.member_id,
      total: 2,
      apps: [{ client_id: bed.clientId, total: 2, queues: [{ connector_id: '', total: 2, waiting: 1, reserved: 1, errors: 0 }] }],
    });
  });
});

describe('ONOFFLINEEVENT', () => {
  async function signalled(site: Site) {
    return site.posts((r) => r.path === '/offline-signal');
  }

  it('is posted with empty data and a refresh token when records arrive, at most once per minTimeout', async () => {
    const site = await openSite();
    const { application_token } = await bed.emu.install(site.portal.member_id);
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' });
    await site.call('event.bind', { event: 'ONOFFLINEEVENT', handler: `${bed.app.url}/offline-signal`, options: { minTimeout: 60 } });
    const id = await site.addEntry(2);
    const first = await uiEdit(site, id, { name: 'one' });
    expect(first.body.deliveries).toEqual([{ url: `${bed.app.url}/offline-signal`, status: 200 }]);
    const [signal] = await signalled(site);
    expect(signal?.form.get('event')).toBe('ONOFFLINEEVENT');
    expect([...(signal?.form.keys() ?? [])].filter((k) => k.startsWith('data'))).toEqual([]);
    expect(Object.fromEntries(signal?.form ?? [])).toMatchObject({ 'auth[application_token]': application_token, 'auth[user_id]': '2' });
    expect(signal?.form.get('auth[refresh_token]')).toMatch(/^[0-9a-f]{70}$/);
    await uiEdit(site, id, { name: 'two' });
    expect(await signalled(site)).toHaveLength(1);
    expect((await site.call('event.offline.list')).body.total).toBe(1);
  });

  it('with minTimeout 0 is sent once per hit: once for a batch of changes, again for the next call', async () => {
    const site = await openSite();
    await site.call('event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' });
    await site.call('event.bind', { event: 'ONOFFLINEEVENT', handler: `${bed.app.url}/offline-signal`, options: { minTimeout: 0 } });
    const a = await site.addEntry(1, 'a');
    const b = await site.addEntry(1, 'b');
    const cmd = {
      first: `calendar.event.update?id=${a}&type=user&ownerId=1&name=a2`,
      second: `calendar.event.update?id=${b}&type=user&ownerId=1&name=b2`,
    };
    const batch = await site.call('batch', { halt: 1, cmd });
    expect(batch.body.result.result).toEqual({ first: a, second: b });
    await bed.app.waitFor((r) => r.path === '/offline-signal' && r.form.get('auth[member_id]') === site.portal.member_id);
    await Bun.sleep(50);
    expect(await signalled(site)).toHaveLength(1);
    await uiEdit(site, a, { name: 'a3' });
    expect(await signalled(site)).toHaveLength(2);
  });

  it('is not sent when nothing was queued', async () => {
    const site = await openSite();
    await site.call('event.bind', { event: 'ONOFFLINEEVENT', handler: `${bed.app.url}/offline-signal`, options: { minTimeout: 0 } });
    const id = await site.addEntry(1);
    await uiEdit(site, id, { name: 'nobody listens offline' });
    expect(await signalled(site)).toHaveLength(0);
  });
});
