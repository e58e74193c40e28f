/**
 * The per-portal bucket against the emulator's: the emulator refuses with 503 QUERY_LIMIT_EXCEEDED
 * exactly as Bitrix24 does; none of those refusals may reach the caller. Rates are higher than the
 * real 2/s so the file runs in seconds; the behaviour does not depend on the numbers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createBitrix } from '../../src/bitrix/index.ts';
import { createPortalLimiter } from '../../src/bitrix/portal-limiter.ts';
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
    const { portal, owner, memberId } = await world.installPortal();
    // ONAPPINSTALL went to the app; no REST call has touched the portal's bucket yet, so it is empty.
    expect((await world.emu.stats(memberId)).rest_calls).toBe(0);
    const client = bitrixWith({ rate: RATE, burst: BURST }).client(portal, owner);
    const before = await world.emu.stats(memberId);
    const t0 = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => client.call('user.get', { ID: (i % 5) + 1 })));
    const elapsed = Date.now() - t0;
    const after = await world.emu.stats(memberId);
    const refused = after.rate_limited - before.rate_limited;
    console.log(`200 calls in ${elapsed} ms; server refused ${refused}`);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    // 190 requests past the burst at RATE/s is the floor: the client cannot be faster than that.
    expect(elapsed).toBeGreaterThanOrEqual(((200 - BURST) / RATE) * 1000 * 0.9);
    expect(refused).toBeLessThanOrEqual(2);
    // Every call went out once, plus one retry per refusal: no request was wasted.
    expect(after.rest_calls - before.rest_calls).toBe(200 + refused);
  }, 20_000);

  it(`the client's bucket (on a fake clock) spaces 200 calls at burst ${BURST}, ${RATE}/s close to the floor, not slower`, () => {
    // Not slower, checked where the pacing is decided rather than on a wall clock a busy machine
    // stretches: the send slots the client's per-portal limiter hands out, all at one instant.
    const now = 1_000_000;
    const bucket = createPortalLimiter({ rate: RATE, burst: BURST }, undefined, () => now).forBase('https://portal.example/rest/').bucket;
    const waits = Array.from({ length: 200 }, () => bucket.reserve());
    const floor = ((200 - BURST) / RATE) * 1000;
    const last = Math.max(...waits);
    expect(last).toBeGreaterThanOrEqual(floor * 0.9);
    expect(last).toBeLessThan(floor * 1.5 + 1000);
  });

  it('a client that overestimates the burst absorbs the 503s with back-off and retries', async () => {
    const { portal, owner, memberId } = await world.installPortal();
    expect((await world.emu.stats(memberId)).rest_calls).toBe(0); // the portal's bucket is empty
    const client = bitrixWith({ rate: RATE, burst: 50 }).client(portal, owner);
    const before = await world.emu.stats();
    const results = await Promise.allSettled(Array.from({ length: 60 }, () => client.call('user.current')));
    const after = await world.emu.stats();
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(after.rate_limited - before.rate_limited).toBeGreaterThan(0); // the server did refuse some
  }, 20_000);
});
