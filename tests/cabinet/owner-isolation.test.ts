/**
 * Owner isolation: an item belongs to (portal, user). Another user of the same portal, and the same
 * user id on another portal, get 404 for it everywhere (JSON API and htmx), never see it in lists or
 * exports, and cannot change it: the database rows are compared before and after every attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { openCabinet, type Cabinet, type CabinetUser, type ItemJson } from './cabinet-harness.ts';

let cab: Cabinet;
let owner: CabinetUser;
let item: ItemJson;
const strangers: Record<string, CabinetUser> = {};

beforeAll(async () => {
  cab = await openCabinet();
  const portal = await cab.newPortal();
  const other = await cab.newPortal();
  owner = await cab.signIn(portal, 2);
  strangers['a second user of the same portal'] = await cab.signIn(portal, 3);
  strangers['the admin of the same portal'] = await cab.signIn(portal, 1);
  strangers['the same user id on another portal'] = await cab.signIn(other, 2);
  item = await owner.create({ name: 'Private plan', data: { secret: 'owner only' }, starts_at: '2026-12-01T10:00:00Z' });
  for (let i = 0; i < 3; i++) await owner.create({ name: `Private ${i}` });
  // Each stranger has an item of their own, so "sees nothing" is not just "has nothing".
  for (const s of Object.values(strangers)) await s.create({ name: `mine on ${s.portal.member_id}/${s.userId}` });
});
afterAll(() => cab.stop());

const names = [
  'a second user of the same portal',
  'the admin of the same portal',
  'the same user id on another portal',
];

for (const who of names) {
  describe(`owner isolation against ${who}`, () => {
    const stranger = () => strangers[who]!;

    it('list: sees only their own items, with or without q and status', async () => {
      for (const qs of ['', '?q=Private', '?status=active', '?q=plan&status=active&limit=100']) {
        const r = await stranger().api('GET', `/api/items${qs}`);
        expect(r.status).toBe(200);
        expect(r.json.items.map((i: ItemJson) => i.name).filter((n: string) => n.startsWith('Private'))).toEqual([]);
      }
      const own = await stranger().api('GET', '/api/items');
      expect(own.json.items.length).toBe(1);
    });

    it("list: the owner's cursor gives nothing of the owner's", async () => {
      const page = await owner.api('GET', '/api/items?limit=1');
      const r = await stranger().api('GET', `/api/items?cursor=${encodeURIComponent(page.json.next_cursor)}`);
      expect(r.status).toBe(200);
      for (const i of r.json.items as ItemJson[]) expect(i.name.startsWith('Private')).toBe(false);
    });

    it('get: 404, same as a missing item', async () => {
      const r = await stranger().api('GET', `/api/items/${item.id}`);
      expect(r.status).toBe(404);
      const missing = await stranger().api('GET', `/api/items/${item.id.slice(0, -1)}0`);
      expect(r.json).toEqual(missing.json);
      expect(r.text).not.toContain('Private');
    });

    it('update: 404 for every version and nothing changes', async () => {
      const before = await cab.rows();
      for (const version of [1, 2, 99]) {
        const r = await stranger().api('PUT', `/api/items/${item.id}`, { version, name: 'hijacked', status: 'archived' });
        expect(r.status).toBe(404);
        expect(r.text).not.toContain('Private');
      }
      expect(await cab.rows()).toEqual(before);
    });

    it('delete: 404 and the row is still there', async () => {
      const before = await cab.rows();
      const r = await stranger().api('DELETE', `/api/items/${item.id}`);
      expect(r.status).toBe(404);
      expect(await cab.rows()).toEqual(before);
    });

    it('export: only their own items', async () => {
      const r = await stranger().api('GET', '/api/export');
      expect(r.status).toBe(200);
      expect(r.json.items.length).toBe(1);
      expect(r.text).not.toContain('Private');
      expect(r.text).not.toContain('owner only');
    });

    it('calendar: 404, no event is created and nothing changes', async () => {
      const before = await cab.rows();
      const calls = (await cab.stack.emu.stats()).rest_calls;
      const r = await stranger().api('POST', `/api/items/${item.id}/calendar`);
      expect(r.status).toBe(404);
      expect(await cab.rows()).toEqual(before);
      expect((await cab.stack.emu.stats()).rest_calls).toBe(calls);
    });

    it('htmx fragments: 404 for row, edit, save, archive, calendar, delete; the list shows nothing of the owner', async () => {
      const before = await cab.rows();
      const s = stranger();
      const attempts = [
        await s.ui('GET', `/ui/items/${item.id}`),
        await s.ui('GET', `/ui/items/${item.id}/edit`),
        await s.ui('PUT', `/ui/items/${item.id}`, { name: 'hijacked', version: '1', notes: '', starts_at: '', ends_at: '', status: 'active' }),
        await s.ui('POST', `/ui/items/${item.id}/archive`, { version: '1' }),
        await s.ui('POST', `/ui/items/${item.id}/calendar`),
        await s.ui('DELETE', `/ui/items/${item.id}`),
      ];
      for (const r of attempts) {
        expect(r.status).toBe(404);
        expect(r.text).not.toContain('Private');
      }
      const list = await s.ui('GET', '/ui/items?q=Private');
      expect(list.status).toBe(200);
      expect(list.text).not.toContain('Private');
      expect(await cab.rows()).toEqual(before);
    });
  });
}

it("the owner still has everything, unchanged", async () => {
  const r = await owner.api('GET', `/api/items/${item.id}`);
  expect(r.json).toEqual(item);
  expect((await owner.api('GET', '/api/export')).json.items.length).toBe(4);
});
