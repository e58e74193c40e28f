/**
 * The JSON API's contract over the real stack: every endpoint's success path, then every error
 * status as a table. Bad input is never a 500, and a refused write never changes the row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { openCabinet, type Cabinet, type CabinetUser, type ItemJson } from './cabinet-harness.ts';

let cab: Cabinet;
let ivan: CabinetUser;

beforeAll(async () => {
  cab = await openCabinet();
  ivan = await cab.signIn(await cab.newPortal(), 2);
});
afterAll(() => cab.stop());

const isoRe = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/;

describe('POST /api/items', () => {
  it('creates an item (201) with defaults, trimmed name and ISO times', async () => {
    const r = await ivan.api('POST', '/api/items', {
      name: '  Quarterly report  ',
      data: { notes: 'draft', tags: ['a'] },
      starts_at: '2026-12-01T10:00:00Z',
      ends_at: '2026-12-01T11:30:00+01:00',
    });
    expect(r.status).toBe(201);
    const item = r.json as ItemJson;
    expect(item).toMatchObject({
      name: 'Quarterly report',
      data: { notes: 'draft', tags: ['a'] },
      status: 'active',
      starts_at: '2026-12-01T10:00:00.000Z',
      ends_at: '2026-12-01T10:30:00.000Z',
      calendar_event_id: null,
      calendar_sync: null,
      version: 1,
    });
    expect(item.created_at).toMatch(isoRe);
    expect(item.updated_at).toBe(item.created_at);
    expect(Object.keys(item).sort()).toEqual(
      ['calendar_event_id', 'calendar_sync', 'created_at', 'data', 'ends_at', 'id', 'name', 'starts_at', 'status', 'updated_at', 'version'],
    );
    expect(await cab.row(item.id)).toMatchObject({ portal_id: ivan.portalId, owner_id: 2, name: 'Quarterly report' });
  });

  it('accepts an archived status, null data and null times', async () => {
    const r = await ivan.api('POST', '/api/items', { name: 'x', status: 'archived', data: null, starts_at: null, ends_at: null });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ status: 'archived', data: null, starts_at: null, ends_at: null });
  });

  it('accepts exactly 200 characters counted as code points (emoji and Cyrillic)', async () => {
    const name = '😀'.repeat(100) + 'я'.repeat(100);
    const r = await ivan.api('POST', '/api/items', { name });
    expect(r.status).toBe(201);
    expect(r.json.name).toBe(name);
  });

  it('refuses control characters in a name (NUL cannot even be stored on PostgreSQL) with a 422 that says so; tabs and line breaks pass', async () => {
    const before = await cab.rows();
    for (const name of ['a\u0000b', '\u0007bell', 'del\u007f']) {
      const r = await ivan.api('POST', '/api/items', { name });
      expect(r.status).toBe(422);
      expect(r.json.error.fields.name).toBe('Name cannot contain control characters.');
    }
    expect(await cab.rows()).toEqual(before);
    expect((await ivan.api('POST', '/api/items', { name: 'tab\there\nand there' })).status).toBe(201);
    // The cabinet's form says it in the user's language.
    const ru = await cab.signIn(await cab.newPortal({ lang: 'ru' }), 2);
    const form = await ru.ui('POST', '/ui/items', { name: 'a\u0000b' });
    expect(form.status).toBe(422);
    expect(form.text).toContain('Название не может содержать управляющие символы.');
  });
});

describe('GET /api/items/:id', () => {
  it('returns the item', async () => {
    const item = await ivan.create({ name: 'one' });
    const r = await ivan.api('GET', `/api/items/${item.id}`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual(item);
  });
});

describe('GET /api/items', () => {
  it('lists newest first with next_cursor, honouring limit, status and q', async () => {
    const u = await cab.signIn(await cab.newPortal(), 3);
    const a = await u.create({ name: 'Alpha apple' });
    const b = await u.create({ name: 'Beta', status: 'archived' });
    const c = await u.create({ name: 'Gamma APPLE' });
    const all = await u.api('GET', '/api/items');
    expect(all.status).toBe(200);
    expect(all.json.items.map((i: ItemJson) => i.id)).toEqual([c.id, b.id, a.id]);
    expect(all.json.next_cursor).toBeNull();

    const first = await u.api('GET', '/api/items?limit=2');
    expect(first.json.items.map((i: ItemJson) => i.id)).toEqual([c.id, b.id]);
    expect(typeof first.json.next_cursor).toBe('string');
    const second = await u.api('GET', `/api/items?limit=2&cursor=${encodeURIComponent(first.json.next_cursor)}`);
    expect(second.json).toEqual({ items: [a], next_cursor: null });

    const archived = await u.api('GET', '/api/items?status=archived');
    expect(archived.json.items.map((i: ItemJson) => i.id)).toEqual([b.id]);
    const apples = await u.api('GET', '/api/items?q=apple');
    expect(apples.json.items.map((i: ItemJson) => i.id)).toEqual([c.id, a.id]);
    const activeApples = await u.api('GET', '/api/items?q=APPLE&status=active&limit=100');
    expect(activeApples.json.items.length).toBe(2);
  });

  it('takes a page size written any way it was taken before: padded, signed, 2.0, 2e0', async () => {
    const u = await cab.signIn(await cab.newPortal(), 5);
    for (let i = 0; i < 3; i++) await u.create({ name: `n${i}` });
    for (const limit of ['2', '%202%20', '2%09', '%2B2', '2.0', '2e0', '02']) {
      const r = await u.api('GET', `/api/items?limit=${limit}`);
      expect(r.status, limit).toBe(200);
      expect(r.json.items.length, limit).toBe(2);
    }
  });

  it('searches case-insensitively beyond ASCII', async () => {
    const u = await cab.signIn(await cab.newPortal(), 4);
    const item = await u.create({ name: 'Отчёт за КВАРТАЛ' });
    const r = await u.api('GET', `/api/items?q=${encodeURIComponent('квартал')}`);
    expect(r.json.items.map((i: ItemJson) => i.id)).toEqual([item.id]);
  });
});

describe('PUT /api/items/:id', () => {
  it('updates only the given fields and bumps the version', async () => {
    const item = await ivan.create({ name: 'before', data: { k: 1 }, starts_at: '2026-12-01T10:00:00Z' });
    const r = await ivan.api('PUT', `/api/items/${item.id}`, { version: 1, name: ' after ' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: item.id, name: 'after', data: { k: 1 }, starts_at: item.starts_at, version: 2 });
    const r2 = await ivan.api('PUT', `/api/items/${item.id}`, { version: 2, status: 'archived', data: null, starts_at: null });
    expect(r2.json).toMatchObject({ name: 'after', status: 'archived', data: null, starts_at: null, version: 3 });
    expect((await cab.row(item.id))!.version).toBe(3);
  });
});

describe('DELETE /api/items/:id', () => {
  it('deletes (204) and the item is gone', async () => {
    const item = await ivan.create({ name: 'doomed' });
    const r = await ivan.api('DELETE', `/api/items/${item.id}`);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expect(await cab.row(item.id)).toBeNull();
    expect((await ivan.api('GET', `/api/items/${item.id}`)).status).toBe(404);
    expect((await ivan.api('DELETE', `/api/items/${item.id}`)).status).toBe(404);
  });
});

describe('GET /api/export', () => {
  it('downloads every item of the user as a JSON file', async () => {
    const u = await cab.signIn(await cab.newPortal(), 5);
    const created = [];
    // More than two of the export's pages (200 items each), so the streamed JSON crosses page joins.
    for (let i = 0; i < 430; i++) created.push(await u.create({ name: `n${i}` }));
    const r = await u.api('GET', '/api/export');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="items.json"');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.json.exported_at).toMatch(/^\d{4}-/);
    expect(r.json.items.length).toBe(430);
    expect(r.json.items.map((i: ItemJson) => i.name).slice(0, 2)).toEqual(['n429', 'n428']);
    expect(new Set(r.json.items.map((i: ItemJson) => i.id))).toEqual(new Set(created.map((i) => i.id)));
  });
});

describe('error statuses', () => {
  let item: ItemJson;
  beforeAll(async () => {
    item = await ivan.create({ name: 'target', data: { keep: true } });
  });

  const big = (bytes: number) => JSON.stringify({ name: 'x', data: { blob: 'a'.repeat(bytes) } });
  type Case = {
    name: string;
    method: string;
    path: () => string;
    body?: unknown;
    headers?: Record<string, string>;
    status: number;
    code: string;
    fields?: string[];
  };
  const id = () => item.id;
  const cases: Case[] = [
    // 400: query and cursor
    { name: 'limit not a number', method: 'GET', path: () => '/api/items?limit=abc', status: 400, code: 'invalid', fields: ['limit'] },
    { name: 'limit 0', method: 'GET', path: () => '/api/items?limit=0', status: 400, code: 'invalid' },
    { name: 'limit 101', method: 'GET', path: () => '/api/items?limit=101', status: 400, code: 'invalid' },
    // The route turns whole-number text into a number itself (integerQuery); anything else stays text and fails.
    { name: 'limit negative', method: 'GET', path: () => '/api/items?limit=-1', status: 400, code: 'invalid', fields: ['limit'] },
    { name: 'limit a fraction', method: 'GET', path: () => '/api/items?limit=1.5', status: 400, code: 'invalid', fields: ['limit'] },
    { name: 'limit past every bound', method: 'GET', path: () => `/api/items?limit=${'9'.repeat(400)}`, status: 400, code: 'invalid', fields: ['limit'] },
    { name: 'limit a digit of another script', method: 'GET', path: () => `/api/items?limit=${encodeURIComponent('٥')}`, status: 400, code: 'invalid', fields: ['limit'] },
    { name: 'unknown status', method: 'GET', path: () => '/api/items?status=deleted', status: 400, code: 'invalid' },
    { name: 'q over 200', method: 'GET', path: () => `/api/items?q=${'a'.repeat(201)}`, status: 400, code: 'invalid' },
    { name: 'cursor garbage', method: 'GET', path: () => '/api/items?cursor=garbage', status: 400, code: 'invalid', fields: ['cursor'] },
    {
      name: 'cursor of the right shape but a bad id',
      method: 'GET',
      path: () => `/api/items?cursor=${Buffer.from('123:zzz').toString('base64url')}`,
      status: 400,
      code: 'invalid',
    },
    { name: 'cursor too long', method: 'GET', path: () => `/api/items?cursor=${'A'.repeat(300)}`, status: 400, code: 'invalid' },
    // 400: malformed JSON
    { name: 'malformed JSON', method: 'POST', path: () => '/api/items', body: '{"name": ', status: 400, code: 'invalid' },
    { name: 'invalid UTF-8', method: 'POST', path: () => '/api/items', body: new Uint8Array([0x7b, 0xff, 0x7d]), status: 400, code: 'invalid' },
    { name: 'empty body', method: 'POST', path: () => '/api/items', body: '', headers: { 'content-type': 'application/json' }, status: 400, code: 'invalid' },
    { name: 'PUT malformed JSON', method: 'PUT', path: () => `/api/items/${id()}`, body: '{version:1}', status: 400, code: 'invalid' },
    // 404
    { name: 'GET missing', method: 'GET', path: () => '/api/items/01k8d1ta9q5a4bcb865cd6d9c7', status: 404, code: 'not_found' },
    { name: 'GET odd id', method: 'GET', path: () => `/api/items/${encodeURIComponent("' OR 1=1 --")}`, status: 404, code: 'not_found' },
    { name: 'PUT missing', method: 'PUT', path: () => '/api/items/nope', body: { version: 1, name: 'x' }, status: 404, code: 'not_found' },
    { name: 'DELETE missing', method: 'DELETE', path: () => '/api/items/nope', status: 404, code: 'not_found' },
    { name: 'calendar missing', method: 'POST', path: () => '/api/items/nope/calendar', status: 404, code: 'not_found' },
    // 413
    { name: 'body over 64 KB', method: 'POST', path: () => '/api/items', body: big(70 * 1024), status: 413, code: 'payload_too_large' },
    { name: 'PUT body over 64 KB', method: 'PUT', path: () => `/api/items/${id()}`, body: big(70 * 1024), status: 413, code: 'payload_too_large' },
    // 415
    { name: 'form-encoded', method: 'POST', path: () => '/api/items', body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type' },
    { name: 'text/plain JSON', method: 'POST', path: () => '/api/items', body: '{"name":"x"}', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
    { name: 'PUT without content type', method: 'PUT', path: () => `/api/items/${id()}`, body: new Blob(['{"version":1}']), status: 415, code: 'unsupported_media_type' },
    // 422: shape
    { name: 'no name', method: 'POST', path: () => '/api/items', body: {}, status: 422, code: 'unprocessable', fields: ['name'] },
    { name: 'name a number', method: 'POST', path: () => '/api/items', body: { name: 42 }, status: 422, code: 'unprocessable', fields: ['name'] },
    { name: 'body an array', method: 'POST', path: () => '/api/items', body: [{ name: 'x' }], status: 422, code: 'unprocessable' },
    { name: 'body null', method: 'POST', path: () => '/api/items', body: 'null', status: 422, code: 'unprocessable' },
    { name: 'body a string', method: 'POST', path: () => '/api/items', body: '"x"', status: 422, code: 'unprocessable' },
    { name: 'unknown field', method: 'POST', path: () => '/api/items', body: { name: 'x', owner_id: 1 }, status: 422, code: 'unprocessable' },
    { name: 'data a string', method: 'POST', path: () => '/api/items', body: { name: 'x', data: 'text' }, status: 422, code: 'unprocessable', fields: ['data'] },
    { name: 'data an array', method: 'POST', path: () => '/api/items', body: { name: 'x', data: [1, 2] }, status: 422, code: 'unprocessable', fields: ['data'] },
    { name: 'data a number', method: 'POST', path: () => '/api/items', body: { name: 'x', data: 5 }, status: 422, code: 'unprocessable', fields: ['data'] },
    { name: 'data over 16 KB', method: 'POST', path: () => '/api/items', body: big(17 * 1024), status: 422, code: 'unprocessable', fields: ['data'] },
    { name: 'status unknown', method: 'POST', path: () => '/api/items', body: { name: 'x', status: 'deleted' }, status: 422, code: 'unprocessable', fields: ['status'] },
    { name: 'starts_at a number', method: 'POST', path: () => '/api/items', body: { name: 'x', starts_at: 1700000000 }, status: 422, code: 'unprocessable', fields: ['starts_at'] },
    { name: 'starts_at not a date', method: 'POST', path: () => '/api/items', body: { name: 'x', starts_at: 'tomorrow' }, status: 422, code: 'unprocessable', fields: ['starts_at'] },
    { name: 'starts_at without a time zone (would be read as server time)', method: 'POST', path: () => '/api/items', body: { name: 'x', starts_at: '2026-12-01T10:00:00' }, status: 422, code: 'unprocessable', fields: ['starts_at'] },
    { name: 'ends_at with a date only', method: 'POST', path: () => '/api/items', body: { name: 'x', starts_at: '2026-12-01T10:00:00Z', ends_at: '2026-12-01' }, status: 422, code: 'unprocessable', fields: ['ends_at'] },
    { name: 'starts_at 30 February', method: 'POST', path: () => '/api/items', body: { name: 'x', starts_at: '2026-02-30T10:00:00Z' }, status: 422, code: 'unprocessable', fields: ['starts_at'] },
    { name: 'ends_at 31 April', method: 'POST', path: () => '/api/items', body: { name: 'x', starts_at: '2026-04-01T10:00:00Z', ends_at: '2026-04-31T10:00:00Z' }, status: 422, code: 'unprocessable', fields: ['ends_at'] },
    { name: 'starts_at impossible date', method: 'POST', path: () => '/api/items', body: { name: 'x', starts_at: '2026-13-45T99:99:00Z' }, status: 422, code: 'unprocessable', fields: ['starts_at'] },
    // 422: rules
    { name: 'blank name', method: 'POST', path: () => '/api/items', body: { name: '   \n\t ' }, status: 422, code: 'unprocessable', fields: ['name'] },
    { name: '201 code points', method: 'POST', path: () => '/api/items', body: { name: '😀'.repeat(201) }, status: 422, code: 'unprocessable', fields: ['name'] },
    { name: '5,000 Cyrillic characters', method: 'POST', path: () => '/api/items', body: { name: 'Щ'.repeat(5000) }, status: 422, code: 'unprocessable', fields: ['name'] },
    { name: '5,000 emoji', method: 'POST', path: () => '/api/items', body: { name: '👩‍💻'.repeat(1250) }, status: 422, code: 'unprocessable', fields: ['name'] },
    { name: 'ends before starts', method: 'POST', path: () => '/api/items', body: { name: 'x', starts_at: '2026-12-01T10:00:00Z', ends_at: '2026-12-01T09:00:00Z' }, status: 422, code: 'unprocessable', fields: ['ends_at'] },
    { name: 'end without start', method: 'POST', path: () => '/api/items', body: { name: 'x', ends_at: '2026-12-01T09:00:00Z' }, status: 422, code: 'unprocessable', fields: ['starts_at'] },
    { name: 'PUT without version', method: 'PUT', path: () => `/api/items/${id()}`, body: { name: 'x' }, status: 422, code: 'unprocessable', fields: ['version'] },
    { name: 'PUT version a string', method: 'PUT', path: () => `/api/items/${id()}`, body: { version: '1' }, status: 422, code: 'unprocessable', fields: ['version'] },
    { name: 'PUT version 0', method: 'PUT', path: () => `/api/items/${id()}`, body: { version: 0 }, status: 422, code: 'unprocessable', fields: ['version'] },
    { name: 'PUT blank name', method: 'PUT', path: () => `/api/items/${id()}`, body: { version: 1, name: ' ' }, status: 422, code: 'unprocessable', fields: ['name'] },
    { name: 'PUT ends before starts', method: 'PUT', path: () => `/api/items/${id()}`, body: { version: 1, starts_at: '2026-12-01T10:00:00Z', ends_at: '2026-11-01T10:00:00Z' }, status: 422, code: 'unprocessable', fields: ['ends_at'] },
    { name: 'PUT data over 16 KB', method: 'PUT', path: () => `/api/items/${id()}`, body: { version: 1, data: { blob: 'я'.repeat(9000) } }, status: 422, code: 'unprocessable', fields: ['data'] },
    { name: 'calendar without starts_at', method: 'POST', path: () => `/api/items/${id()}/calendar`, status: 422, code: 'unprocessable', fields: ['starts_at'] },
  ];

  for (const c of cases) {
    it(`${c.method} ${c.name} -> ${c.status}`, async () => {
      const before = await cab.rows();
      const headers = { ...(c.headers ?? {}) };
      let body: BodyInit | undefined;
      if (c.body instanceof Uint8Array || c.body instanceof Blob) body = c.body as BodyInit;
      else if (typeof c.body === 'string') body = c.body;
      else if (c.body !== undefined) body = JSON.stringify(c.body);
      if (body !== undefined && !(c.body instanceof Blob)) headers['content-type'] ??= 'application/json';
      const r = await cab.raw(c.method, c.path(), { body, headers: { authorization: `Bearer ${ivan.token}`, ...headers } });
      expect(r.status).toBe(c.status);
      expect(r.headers.get('content-type')).toContain('application/json');
      expect(r.json.error.code).toBe(c.code);
      expect(typeof r.json.error.message).toBe('string');
      expect(r.json.error.request_id).toBeUndefined();
      for (const f of c.fields ?? []) expect(Object.keys(r.json.error.fields ?? {})).toContain(f);
      expect(await cab.rows()).toEqual(before);
    });
  }

  const unauthenticated: [string, string][] = [
    ['GET', '/api/items'],
    ['POST', '/api/items'],
    ['GET', '/api/items/x'],
    ['PUT', '/api/items/x'],
    ['DELETE', '/api/items/x'],
    ['POST', '/api/items/x/calendar'],
    ['GET', '/api/export'],
  ];
  const badAuth: [string, Record<string, string>][] = [
    ['no session', {}],
    ['an unknown token', { authorization: `Bearer ${'A'.repeat(43)}` }],
    ['a malformed header', { authorization: 'Bearer <script>' }],
    ['Basic auth', { authorization: 'Basic dXNlcjpwYXNz' }],
    // Cookie-borne unsafe requests must come from our origin (CSRF; a cross-site one is a 403, below).
    ['an unknown cookie from our origin', { cookie: `b24app_session=${'B'.repeat(43)}`, 'sec-fetch-site': 'same-origin' }],
  ];
  for (const [method, path] of unauthenticated) {
    for (const [label, headers] of badAuth) {
      it(`${method} ${path} with ${label} -> 401`, async () => {
        const before = await cab.rows();
        const r = await cab.raw(method, path.replace('/x', `/${item.id}`), {
          headers: { 'content-type': 'application/json', ...headers },
          ...(method === 'POST' || method === 'PUT' ? { body: JSON.stringify({ name: 'hacked', version: 1 }) } : {}),
        });
        expect(r.status).toBe(401);
        expect(r.json.error.code).toBe('unauthorized');
        expect(await cab.rows()).toEqual(before);
      });
    }
  }

  it('refuses a cookie-authenticated unsafe request from another site (403) and changes nothing', async () => {
    const before = await cab.rows();
    const r = await cab.raw('DELETE', `/api/items/${item.id}`, {
      headers: { cookie: `b24app_session=${ivan.token}`, 'sec-fetch-site': 'cross-site' },
    });
    expect(r.status).toBe(403);
    expect(await cab.rows()).toEqual(before);
  });

  it('PUT with a stale version -> 409 with the current item in error.current, row unchanged', async () => {
    const it1 = await ivan.create({ name: 'v1', data: { a: 1 } });
    const ok = await ivan.api('PUT', `/api/items/${it1.id}`, { version: 1, name: 'v2' });
    expect(ok.status).toBe(200);
    const before = await cab.row(it1.id);
    const stale = await ivan.api('PUT', `/api/items/${it1.id}`, { version: 1, name: 'v3' });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe('conflict');
    expect(stale.json.error.current).toEqual(ok.json);
    expect(await cab.row(it1.id)).toEqual(before);
    const ahead = await ivan.api('PUT', `/api/items/${it1.id}`, { version: 99, name: 'v3' });
    expect(ahead.status).toBe(409);
  });

  it('concurrent PUTs of one item with the same version: exactly one 200, the rest 409', async () => {
    const target = await ivan.create({ name: 'race' });
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ivan.api('PUT', `/api/items/${target.id}`, { version: 1, name: `writer ${i}` })),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200).length).toBe(1);
    expect(statuses.filter((s) => s === 409).length).toBe(19);
    const winner = replies.find((r) => r.status === 200)!;
    const row = (await cab.row(target.id))!;
    expect(row.version).toBe(2);
    expect(row.name).toBe(winner.json.name);
    for (const r of replies.filter((x) => x.status === 409)) expect(r.json.error.current.version).toBe(2);
  });

  it('never answers 500 to fuzzed bodies', async () => {
    const bodies = [
      '[]', '{}', '0', 'true', '{"name":null}', '{"name":{}}', '{"name":["x"]}', '{"name":"x","data":{"a":{"b":[1,{"c":null}]}}}',
      '{"name":"x","data":{"__proto__":{"polluted":true}}}', '{"name":"\\u0000"}', '{"name":"x","starts_at":""}',
      '{"name":"x","starts_at":"0000-00-00T00:00"}', '{"name":"x","starts_at":"9999-12-31T23:59:59Z","ends_at":"9999-12-31T23:59:59Z"}',
      '{"name":"x","version":1.5}', `{"name":"${'\\ud800'}"}`, '{"name":"x","ends_at":null,"starts_at":null}',
      '{'.repeat(10000), `"${'x'.repeat(60000)}"`,
    ];
    for (const body of bodies) {
      const post = await ivan.api('POST', '/api/items', body);
      expect(post.status, `POST ${body.slice(0, 60)}`).toBeLessThan(500);
      const put = await ivan.api('PUT', `/api/items/${item.id}`, body);
      expect(put.status, `PUT ${body.slice(0, 60)}`).toBeLessThan(500);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(cab.stack.logLines.filter((l) => l.includes('unhandled error'))).toEqual([]);
  });
});

describe('caching of answers about a user\'s data', () => {
  it('forbids it on every authenticated JSON answer, success or error', async () => {
    const item = (await ivan.api('POST', '/api/items', { name: 'cached?' }));
    expect(item.headers.get('cache-control')).toBe('no-store');
    const id = (item.json as ItemJson).id;
    for (const [method, path, body] of [
      ['GET', '/api/items', undefined],
      ['GET', `/api/items/${id}`, undefined],
      ['PUT', `/api/items/${id}`, { name: 'still', version: 1 }],
      ['GET', '/api/users/current', undefined],
      ['GET', '/api/items/no-such-item', undefined],
    ] as const) {
      const r = await ivan.api(method, path, body);
      expect([r.status, r.headers.get('cache-control')]).toEqual([r.status, 'no-store']);
    }
  });
});

describe('time zones in the API', () => {
  it('reads an offset as the instant it names', async () => {
    const item = await ivan.create({ name: 'Moscow ten o’clock', starts_at: '2026-12-01T10:00:00+03:00', ends_at: '2026-12-01T11:30+03:00' });
    expect(item.starts_at).toBe('2026-12-01T07:00:00.000Z');
    expect(item.ends_at).toBe('2026-12-01T08:30:00.000Z');
  });

  it('refuses a zoneless time with a 422 that says a time zone is needed', async () => {
    const before = await cab.rows();
    const r = await ivan.api('POST', '/api/items', { name: 'x', starts_at: '2026-12-01T10:00:00' });
    expect(r.status).toBe(422);
    expect(r.json.error.fields.starts_at).toContain('time zone');
    expect(await cab.rows()).toEqual(before);
  });
});

describe('the per-user item limit (ITEMS_PER_USER_MAX)', () => {
  it('refuses the item beyond it with a 422 that says so, in the API and in the cabinet, and stores nothing', async () => {
    const small = await openCabinet({ env: { ITEMS_PER_USER_MAX: '3' } });
    try {
      const u = await small.signIn(await small.newPortal(), 2);
      for (let i = 0; i < 3; i++) await u.create({ name: `n${i}` });
      const before = await small.rows();
      const r = await u.api('POST', '/api/items', { name: 'one too many' });
      expect(r.status).toBe(422);
      expect(r.json.error.fields.name).toContain('as many items as one person can keep');
      expect(await small.rows()).toEqual(before);
      // Another user of the same portal has a limit of their own.
      const other = await small.signIn(await small.newPortal(), 3);
      expect((await other.api('POST', '/api/items', { name: 'mine' })).status).toBe(201);
    } finally {
      await small.stop();
    }
  });
});
