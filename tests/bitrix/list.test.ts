/** Paging 1,000 seeded users three ways over the emulator: offset, start=-1 by ID, and batched pages. */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createBitrix, type RestClient } from '../../src/bitrix/index.ts';
import { tempDir } from '../support/temp.ts';
import { CLIENT_ID, CLIENT_SECRET, startWorld, type World } from './helpers/emulator-world.ts';

const dir = tempDir('b24-bitrix-list-');
let world: World;
let client: RestClient;
const USERS = 1000;

beforeAll(async () => {
  world = await startWorld(dir.file('app.db'), { rate: 200, burst: 200 });
  const { portal, owner } = await world.installPortal(USERS);
  client = createBitrix({ store: world.store, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, oauthServers: [world.oauthUrl], limits: { rate: 200, burst: 200 } }).client(portal, owner);
});
afterAll(async () => {
  await world.stop();
  dir.cleanup();
});

type UserRow = { ID: string; NAME: string };
const collect = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

describe('lists', () => {
  it('offset paging and start=-1 paging by ID return the same 1,000 users', async () => {
    const total = (await client.call<UserRow[]>('user.get', { sort: 'ID', order: 'ASC' })).total!;
    expect(total).toBeGreaterThanOrEqual(USERS);

    const before = await world.emu.stats();
    const byOffset = await collect(client.list<UserRow>('user.get', { sort: 'ID', order: 'ASC' }));
    const mid = await world.emu.stats();
    const byId = await collect(client.list<UserRow>('user.get', {}, { mode: 'id' }));
    const after = await world.emu.stats();

    expect(byOffset.length).toBe(total);
    expect(byId.map((u) => u.ID)).toEqual(byOffset.map((u) => u.ID));
    expect(new Set(byId.map((u) => u.ID)).size).toBe(total);
    const pages = Math.ceil(total / 50);
    expect(mid.rest_calls - before.rest_calls).toBe(pages);
    expect(after.rest_calls - mid.rest_calls).toBeLessThanOrEqual(pages + 1);
  });

  it('start=-1 paging keeps the caller\'s filter', async () => {
    const rows = await collect(client.list<UserRow>('user.get', { FILTER: { '<=ID': 120 } }, { mode: 'id' }));
    expect(rows.map((u) => Number(u.ID))).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  });

  it('listAll pulls the whole list in batches of pages with the same result', async () => {
    const byOffset = await collect(client.list<UserRow>('user.get', { sort: 'ID', order: 'ASC' }));
    const before = await world.emu.stats();
    const all = await client.listAll<UserRow>('user.get', { sort: 'ID', order: 'ASC' });
    const after = await world.emu.stats();
    expect(all.map((u) => u.ID)).toEqual(byOffset.map((u) => u.ID));
    console.log(`listAll: ${all.length} rows, emulator counted ${after.rest_calls - before.rest_calls} REST calls`);
  });
});
