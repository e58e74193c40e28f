import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { rest, type EmulatedPortal } from '../support/emulator-client.ts';
import { startTestBed, type TestBed } from '../support/test-bed.ts';

let bed: TestBed;
let portal: EmulatedPortal;
let admin: string;
let user2: string;

beforeAll(async () => {
  bed = await startTestBed({ burst: 10_000 });
  portal = await bed.emu.createPortal();
  admin = (await bed.emu.install(portal.member_id)).launch.form.AUTH_ID ?? '';
  user2 = (await bed.emu.launch(portal.member_id, 2)).form.AUTH_ID ?? '';
});
afterAll(() => bed.stop());

describe('request formats', () => {
  it('accepts a form body, a JSON body and a text/plain form body (BX24.js)', async () => {
    const form = await fetch(`${portal.client_endpoint}user.get`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `auth=${admin}&FILTER[ID]=3`,
    });
    expect(((await form.json()) as any).result[0].NAME).toBe('John');
    const json = await rest(portal.client_endpoint, 'user.get', { FILTER: { ID: 4 } }, admin);
    expect(json.body.result[0].NAME).toBe('Мария');
    const text = await fetch(`${portal.client_endpoint}user.get.json`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: `auth=${admin}&filter%5BID%5D=2`,
    });
    expect(((await text.json()) as any).result[0].LAST_NAME).toBe('Петров');
  });

  it('takes auth from the query, the body or a Bearer header, and tolerates // and .json', async () => {
    const q = await fetch(`${portal.client_endpoint}profile?auth=${admin}`);
    expect(q.status).toBe(200);
    const bearer = await fetch(`${portal.client_endpoint}/profile.json`, { method: 'POST', headers: { authorization: `Bearer ${user2}` } });
    expect(((await bearer.json()) as any).result).toMatchObject({ ID: '2', ADMIN: false });
    const accessToken = await fetch(`${portal.client_endpoint}user.admin?access_token=${admin}`);
    expect(((await accessToken.json()) as any).result).toBe(true);
  });

  it('answers CORS preflights and puts ACAO on successes and errors', async () => {
    const pre = await fetch(`${portal.client_endpoint}user.current`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(pre.status).toBe(200);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toContain('content-type');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    const ok = await rest(portal.client_endpoint, 'profile', {}, admin);
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    const err = await rest(portal.client_endpoint, 'profile', {});
    expect(err.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('envelopes and errors', () => {
  it('wraps results with a full time object', async () => {
    const { body } = await rest(portal.client_endpoint, 'user.current', {}, admin);
    expect(Object.keys(body)).toEqual(['result', 'time']);
    expect(Object.keys(body.time)).toEqual(['start', 'finish', 'duration', 'processing', 'date_start', 'date_finish', 'operating', 'operating_reset_at']);
    expect(body.time.date_start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
  });

  it.each([
    ['no auth', undefined, 'profile', 401, 'NO_AUTH_FOUND'],
    ['a made-up token', 'ff'.repeat(35), 'profile', 401, 'invalid_token'],
    ['an unknown method', 'ADMIN', 'crm.deal.list', 404, 'ERROR_METHOD_NOT_FOUND'],
  ])('rejects %s', async (_name, auth, method, status, code) => {
    const res = await rest(portal.client_endpoint, method, {}, auth === 'ADMIN' ? admin : auth);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(code);
    expect(typeof res.body.error_description).toBe('string');
  });

  it('refuses a token of this app on another portal', async () => {
    const other = await bed.emu.createPortal();
    await bed.emu.install(other.member_id);
    const res = await rest(other.client_endpoint, 'profile', {}, admin);
    expect(res).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
  });

  it('checks scope: user methods need a user scope', async () => {
    await bed.emu.registerApp({ client_id: 'app.brief', client_secret: 's', app_url: bed.app.url, scope: 'user_brief' });
    await bed.emu.registerApp({ client_id: 'app.noscope', client_secret: 's', app_url: bed.app.url, scope: 'placement' });
    const brief = (await bed.emu.install(portal.member_id, { client_id: 'app.brief' })).launch.form.AUTH_ID;
    const none = (await bed.emu.install(portal.member_id, { client_id: 'app.noscope' })).launch.form.AUTH_ID;
    const current = await rest(portal.client_endpoint, 'user.current', {}, brief);
    expect(current.body.result.NAME).toBe('Ada');
    expect(current.body.result.EMAIL).toBeUndefined();
    expect(current.body.result.ADMIN).toBeUndefined();
    const denied = await rest(portal.client_endpoint, 'user.current', {}, none);
    expect(denied).toMatchObject({ status: 401, body: { error: 'insufficient_scope' } });
    expect((await rest(portal.client_endpoint, 'profile', {}, none)).status).toBe(200);
  });
});

describe('user methods', () => {
  it('profile has ADMIN; user.current has no ADMIN; user.admin answers a boolean', async () => {
    expect((await rest(portal.client_endpoint, 'profile', {}, admin)).body.result).toMatchObject({ ID: '1', ADMIN: true, NAME: 'Ada' });
    const current = (await rest(portal.client_endpoint, 'user.current', {}, user2)).body.result;
    expect(current).toMatchObject({ ID: '2', NAME: 'Иван', ACTIVE: true, UF_DEPARTMENT: [1], EMAIL: 'ivan@example.com' });
    expect('ADMIN' in current).toBe(false);
    expect((await rest(portal.client_endpoint, 'user.admin', {}, user2)).body.result).toBe(false);
  });

  it('filters with top-level keys unless FILTER is given, which replaces them', async () => {
    const top = await rest(portal.client_endpoint, 'user.get', { ID: 5 }, admin);
    expect(top.body.result.map((u: any) => u.ID)).toEqual(['5']);
    const replaced = await rest(portal.client_endpoint, 'user.get', { ID: 5, FILTER: { '%LAST_NAME': 'ов' } }, admin);
    expect(replaced.body.result.map((u: any) => u.ID)).toEqual(['2', '4']);
    const search = await rest(portal.client_endpoint, 'user.get', { FILTER: { NAME_SEARCH: "o'brien" } }, admin);
    expect(search.body.result.map((u: any) => u.NAME)).toEqual(['Zoë']);
  });
});

describe('paging over 1,000 users', () => {
  let big: EmulatedPortal;
  let token: string;
  beforeAll(async () => {
    big = await bed.emu.createPortal({ users: 1000 });
    token = (await bed.emu.install(big.member_id)).launch.form.AUTH_ID ?? '';
  });

  it('pages by 50 with next and total, and no next on the last page', async () => {
    const first = await rest(big.client_endpoint, 'user.get', {}, token);
    expect(first.body.result).toHaveLength(50);
    expect(first.body).toMatchObject({ next: 50, total: 1000 });
    expect(Object.keys(first.body)).toEqual(['result', 'next', 'total', 'time']);
    const second = await rest(big.client_endpoint, 'user.get', { start: 50 }, token);
    expect(second.body.result[0].ID).toBe('51');
    const last = await rest(big.client_endpoint, 'user.get', { start: 950 }, token);
    expect(last.body.result).toHaveLength(50);
    expect(last.body.next).toBeUndefined();
    expect(last.body.total).toBe(1000);
  });

  it('start=-1 skips counting, and >ID walks everything', async () => {
    let lastId = 0;
    let seen = 0;
    for (let guard = 0; guard < 30; guard++) {
      const page = await rest(big.client_endpoint, 'user.get', { order: { ID: 'ASC' }, filter: { '>ID': lastId }, start: -1 }, token);
      expect(page.body.next).toBeUndefined();
      expect(page.body.total).toBe(0);
      seen += page.body.result.length;
      if (page.body.result.length < 50) break;
      lastId = Number(page.body.result.at(-1).ID);
    }
    expect(seen).toBe(1000);
  });

  it('sorts descending on request', async () => {
    const res = await rest(big.client_endpoint, 'user.get', { sort: 'ID', order: 'DESC' }, token);
    expect(res.body.result[0].ID).toBe('1000');
  });
});

describe('app, event, placement and calendar methods', () => {
  it('portal app.info carries no client_id or member_id', async () => {
    const { body } = await rest(portal.client_endpoint, 'app.info', {}, admin);
    expect(body.result).toMatchObject({ CODE: bed.clientId, VERSION: 1, STATUS: 'F', INSTALLED: true, LANGUAGE_ID: 'en' });
    expect(body.result.client_id).toBeUndefined();
    expect(body.result.member_id).toBeUndefined();
  });

  it('event.bind / event.get / event.unbind with the platform errors', async () => {
    const handler = `${bed.app.url}/events`;
    expect((await rest(portal.client_endpoint, 'event.bind', { event: 'onAppUninstall', handler }, admin)).body.result).toBe(true);
    const dup = await rest(portal.client_endpoint, 'event.bind', { event: 'ONAPPUNINSTALL', handler }, admin);
    expect(dup.body.error).toBe('ERROR_HANDLER_ALREADY_EXIST');
    expect((await rest(portal.client_endpoint, 'event.bind', { event: 'ONNOTHING', handler }, admin)).body.error).toBe('ERROR_EVENT_NOT_FOUND');
    const foreign = await rest(portal.client_endpoint, 'event.bind', { event: 'ONAPPTEST', handler: 'http://evil.example.com/h' }, admin);
    expect(foreign.body.error).toBe('ERROR_WRONG_HANDLER_URL');
    const offline = await rest(portal.client_endpoint, 'event.bind', { event: 'ONAPPTEST', handler, event_type: 'offline' }, user2);
    expect(offline).toMatchObject({ status: 403, body: { error: 'ACCESS_DENIED' } });
    const list = await rest(portal.client_endpoint, 'event.get', {}, admin);
    expect(list.body.result).toEqual([{ event: 'ONAPPUNINSTALL', handler, auth_type: '0', offline: 0 }]);
    const unbind = await rest(portal.client_endpoint, 'event.unbind', { event: 'ONAPPUNINSTALL', handler }, admin);
    expect(unbind.body.result).toEqual({ count: 1 });
  });

  it('placement.bind is admin-only and checks the placement code', async () => {
    const handler = `${bed.app.url}/placement`;
    const params = { PLACEMENT: 'USER_PROFILE_MENU', HANDLER: handler, TITLE: 'Items' };
    expect((await rest(portal.client_endpoint, 'placement.bind', params, user2)).status).toBe(403);
    expect((await rest(portal.client_endpoint, 'placement.bind', params, admin)).body.result).toBe(true);
    const crm = await rest(portal.client_endpoint, 'placement.bind', { ...params, PLACEMENT: 'CRM_DEAL_DETAIL_TAB' }, admin);
    expect(crm.body.error).toBe('ERROR_PLACEMENT_NOT_FOUND');
    const got = await rest(portal.client_endpoint, 'placement.get', {}, admin);
    expect(got.body.result).toEqual([expect.objectContaining({ placement: 'USER_PROFILE_MENU', handler, title: 'Items' })]);
  });

  it('calendar.event.add returns an id, validates with an empty error code, and calendar.event.get finds it', async () => {
    const add = await rest(portal.client_endpoint, 'calendar.event.add', { type: 'user', ownerId: 2, name: 'Встреча', from: '2026-01-10T10:00:00+03:00', to: '2026-01-10T11:00:00+03:00' }, user2);
    expect(add.status).toBe(200);
    expect(typeof add.body.result).toBe('number');
    const bad = await rest(portal.client_endpoint, 'calendar.event.add', { type: 'user', ownerId: 2, from: '2026-01-10' }, user2);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('');
    expect(bad.body.error_description).toContain('name');
    const get = await rest(portal.client_endpoint, 'calendar.event.get', { type: 'user', ownerId: 2, from: '2026-01-01', to: '2026-02-01' }, user2);
    expect(get.body.result).toEqual([expect.objectContaining({ ID: String(add.body.result), NAME: 'Встреча', OWNER_ID: '2', CREATED_BY: '2' })]);
  });
});
