/**
 * The per-method operating limit against the emulator (a tiny limit, so it trips in a few calls):
 * the client slows the method down as `time.operating` nears the limit, and once the server answers
 * 429 with a reset ten minutes away it stops sending that method at all — one typed error per call,
 * no request — while other methods keep working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createBitrix, type BitrixError } from '../../src/bitrix/index.ts';
import { tempDir } from '../support/temp.ts';
import { CLIENT_ID, CLIENT_SECRET, startWorld, type World } from './helpers/emulator-world.ts';

const LIMIT_SEC = 0.05;
const dir = tempDir('b24-bitrix-operating-');
let world: World;

beforeAll(async () => {
  world = await startWorld(dir.file('app.db'), { rate: 500, burst: 500, latencyMs: 2, operatingLimitSeconds: LIMIT_SEC });
});
afterAll(async () => {
  await world.stop();
  dir.cleanup();
});

describe('operating limit', () => {
  it('holds a method locked by 429 without further requests; other methods go on', async () => {
    const { portal, owner } = await world.installPortal(500);
    const bitrix = createBitrix({
      store: world.store,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      oauthServers: [world.oauthUrl],
      limits: { rate: 500, burst: 500 },
      operating: { limitSec: LIMIT_SEC, maxSlowdownMs: 20 },
      retry: { maxOperatingWaitMs: 2_000 },
    });
    const client = bitrix.client(portal, owner);
    let error: BitrixError | null = null;
    let calls = 0;
    while (!error && calls < 500) {
      calls++;
      await client.call('user.get', { sort: 'ID' }).catch((e: BitrixError) => {
        error = e;
      });
    }
    expect(calls).toBeGreaterThan(1);
    const e = error as unknown as BitrixError;
    expect(e.code).toBe('OPERATION_TIME_LIMIT');
    expect(e.status).toBe(429);

    const before = await world.emu.stats();
    const again = (await client.call('user.get').catch((x) => x)) as BitrixError;
    expect(again.code).toBe('OPERATION_TIME_LIMIT');
    expect((await world.emu.stats()).rest_calls).toBe(before.rest_calls);
    expect((await client.call<{ ID: string }>('user.current')).result.ID).toBeTruthy();
  });
});
