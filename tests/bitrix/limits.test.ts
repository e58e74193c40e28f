/**
 * The per-portal bucket against the emulator's: the emulator refuses with 503 QUERY_LIMIT_EXCEEDED
 * exactly as Bitrix24 does; none of those refusals may reach the caller. Rates are higher than the
 * real 2/s so the file runs in seconds; the behaviour does not depend on the numbers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createBitrix } from '../../src/bitrix/index.ts';
import { tempDir } from '../support/temp.ts';
import { CLIENT_ID, CLIENT_SECRET, startWorld, type World } from './helpers/emulator-world.ts';

const RATE = 50;
const BURST = 10;
const dir = tempDir('b24-bitrix-limits-');
let world: World;

beforeAll(async () => {
  world = await startWorld(dir.file('app.db'), { rate: RATE, burst: BURST });
});
afterAll(async () => {
  await world.stop();
  dir.cleanup();
});

const bitrixWith = (limits: { rate: number; burst: number }) =>
  createBitrix({ store: world.store, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, oauthServers: [world.oauthUrl], limits, retry: { baseDelayMs: 50 } });

describe('rate limits', () => {
  it(`200 concurrent calls at burst ${BURST}, ${RATE}/s all succeed, paced so the server barely refuses any`, async () => {
    const { portal, owner } = await world.installPortal();
    await Bun.sleep((BURST / RATE) * 1000); // the install's own calls drain
    const client = bitrixWith({ rate: RATE, burst: BURST }).client(portal, owner);
    const before = await world.emu.stats();
    const t0 = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => client.call('user.get', { ID: (i % 5) + 1 })));
    const elapsed = Date.now() - t0;
    const after = await world.emu.stats();
    console.log(`200 calls in ${elapsed} ms; server refused ${after.rate_limited - before.rate_limited}`);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    // 190 requests past the burst at RATE/s is the floor; the client should be close to it.
    expect(elapsed).toBeGreaterThanOrEqual(((200 - BURST) / RATE) * 1000 * 0.9);
    expect(elapsed).toBeLessThan(((200 - BURST) / RATE) * 1000 * 1.5 + 1000);
    expect(after.rate_limited - before.rate_limited).toBeLessThanOrEqual(2);
  }, 20_000);

  it('a client that overestimates the burst absorbs the 503s with back-off and retries', async () => {
    const { portal, owner } = await world.installPortal();
    await Bun.sleep((BURST / RATE) * 1000);
    const client = bitrixWith({ rate: RATE, burst: 50 }).client(portal, owner);
    const before = await world.emu.stats();
    const results = await Promise.allSettled(Array.from({ length: 60 }, () => client.call('user.current')));
    const after = await world.emu.stats();
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(after.rate_limited - before.rate_limited).toBeGreaterThan(0); // the server did refuse some
  }, 20_000);
});
