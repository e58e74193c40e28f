/**
 * Search and cursor paging over 250 items: following next_cursor returns each matching item exactly
 * once, newest first, for every page size, with and without `q`, with a status filter; the htmx
 * "load more" chain does the same. Items are created as fast as the API allows, so many share a
 * creation second (and millisecond): the tie-break on id must hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { openCabinet, type Cabinet, type CabinetUser, type ItemJson } from './cabinet-harness.ts';

let cab: Cabinet;
let user: CabinetUser;
let created: ItemJson[] = [];

beforeAll(async () => {
  cab = await openCabinet();
  user = await cab.signIn(await cab.newPortal(), 2);
  // In parallel batches: many ids within one millisecond and second.
  for (let batch = 0; batch < 25; batch++) {
    const made = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const n = batch * 10 + i;
        return user.create({
          name: `${n % 3 === 0 ? 'Fizz' : 'item'} ${n} ${n % 5 === 0 ? 'ЖУК' : ''}`,
          status: n % 4 === 0 ? 'archived' : 'active',
        });
      }),
    );
    created.push(...made);
  }
  // The API's order: newest first by (created_at, id).
  created = created.sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1));
});
afterAll(() => cab.stop());

async function walk(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const qs = new URLSearchParams(query);
    qs.set('limit', String(limit));
    if (cursor) qs.set('cursor', cursor);
    const r = await user.api('GET', `/api/items?${qs}`);
    expect(r.status).toBe(200);
    expect(r.json.items.length).toBeLessThanOrEqual(limit);
    ids.push(...r.json.items.map((i: ItemJson) => i.id));
    cursor = r.json.next_cursor;
    if (++pages > 400) throw new Error('paging does not end');
  } while (cursor);
  return { ids, pages };
}

const filters: [string, string, (i: ItemJson) => boolean][] = [
  ['everything', '', () => true],
  ['q=fizz', 'q=fizz', (i) => i.name.includes('Fizz')],
  ['status=archived', 'status=archived', (i) => i.status === 'archived'],
  ['status=active', 'status=active', (i) => i.status === 'active'],
  ['q=жук & status=active', 'q=%D0%B6%D1%83%D0%BA&status=active', (i) => i.name.includes('ЖУК') && i.status === 'active'],
  ['q with no match', 'q=nothing-like-this', () => false],
];

describe('GET /api/items paging over 250 items', () => {
  it('created 250 items', () => expect(created.length).toBe(250));

  for (const [label, query, match] of filters) {
    for (const limit of [1, 7, 20, 50, 100]) {
      if (limit === 1 && label !== 'everything' && label !== 'q=fizz') continue;
      it(`${label}, limit ${limit}: each item exactly once, newest first`, async () => {
        const expected = created.filter(match).map((i) => i.id);
        const { ids, pages } = await walk(query, limit);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toEqual(expected);
        expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
      });
    }
  }

  it('the default page is 20', async () => {
    const r = await user.api('GET', '/api/items');
    expect(r.json.items.length).toBe(20);
  });

  it('an item deleted between pages does not break the walk', async () => {
    const first = await user.api('GET', '/api/items?limit=10');
    const last: ItemJson = first.json.items[9];
    const extra = await user.create({ name: 'late arrival' });
    expect((await user.api('DELETE', `/api/items/${last.id}`)).status).toBe(204);
    const next = await user.api('GET', `/api/items?limit=10&cursor=${encodeURIComponent(first.json.next_cursor)}`);
    expect(next.status).toBe(200);
    const seen = [...first.json.items, ...next.json.items].map((i: ItemJson) => i.id);
    expect(new Set(seen).size).toBe(20);
    expect(seen).not.toContain(extra.id);
  });
});

describe('GET /ui/items "load more" over 250 items', () => {
  it('following the load-more links returns each item exactly once', async () => {
    const ids: string[] = [];
    let url: string | null = '/ui/items?q=&status=';
    let first = true;
    while (url) {
      const r = await user.ui('GET', url);
      expect(r.status).toBe(200);
      if (first) expect(r.text).toContain('empty-state');
      first = false;
      ids.push(...[...r.text.matchAll(/<li id="item-([0-9a-v]+)"/g)].map((m) => m[1]!));
      const more = /<li id="load-more"[\s\S]*?hx-get="([^"]+)"/.exec(r.text);
      url = more ? more[1]!.replace(/&amp;/g, '&') : null;
      if (url) expect(r.text.trimEnd().endsWith('</li>')).toBe(true);
    }
    const all = (await user.api('GET', '/api/export')).json.items as ItemJson[];
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(all.length);
  });

  it('keeps q and status in the load-more link', async () => {
    const r = await user.ui('GET', '/ui/items?q=fizz&status=active');
    const more = /<li id="load-more"[\s\S]*?hx-get="([^"]+)"/.exec(r.text)!;
    const link = new URL(more[1]!.replace(/&amp;/g, '&'), 'http://x');
    expect(link.searchParams.get('q')).toBe('fizz');
    expect(link.searchParams.get('status')).toBe('active');
    const next = await user.ui('GET', link.pathname + link.search);
    const names = [...next.text.matchAll(/<h2 class="item-row__name">([^<]*)<\/h2>/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n).toContain('Fizz');
    expect(next.text).not.toContain('empty-state');
  });
});

describe('route handlers are compiled once', () => {
  // Elysia compiles a route's handler on its first request; a handler composed again on every request
  // (seen once with routes mounted from plugins) costs a third of the list's CPU without failing a test.
  it('the list routes keep the handler their first request compiled', async () => {
    const history = (cab.stack.server.app.router as unknown as { router: { history: { method: string; path: string; composed: unknown }[] } }).router.history;
    const composed = () => new Map(history.map((r) => [`${r.method} ${r.path}`, r.composed]));
    await user.api('GET', '/api/items?limit=5');
    await user.ui('GET', '/ui/items');
    const first = composed();
    for (let i = 0; i < 3; i++) {
      expect((await user.api('GET', '/api/items?limit=5')).status).toBe(200);
      expect((await user.ui('GET', '/ui/items')).status).toBe(200);
    }
    const later = composed();
    for (const route of ['GET /api/items', 'GET /ui/items']) {
      expect(typeof first.get(route)).toBe('function');
      expect(later.get(route)).toBe(first.get(route));
    }
  });
});
