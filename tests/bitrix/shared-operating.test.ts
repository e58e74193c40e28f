/**
 * The operating-time budget per method shared by instances (architecture §5, "several instances"): two
 * `createBitrix` over one database, as two `b24app serve` processes. Instance A drives `user.get` into
 * the emulator's (tiny) operating limit until it is refused with 429; instance B, which never called
 * `user.get`, then holds the method too — a typed OPERATION_TIME_LIMIT without a request — while other
 * methods go on. Without the shared figures B would spend a refused call of its own.
 */
import { afterAll, beforeAll, expect, it } from 'bun:test';
import { createBitrix, type BitrixError, type SharedLevels } from '../../src/bitrix/index.ts';
import type { Store } from '../../src/store/store.ts';
import { forEachBackend } from '../store/backends.ts';
import { tempDir } from '../support/temp.ts';
import { CLIENT_ID, CLIENT_SECRET, startWorld, type World } from './helpers/emulator-world.ts';

const LIMIT_SEC = 0.05;
const dir = tempDir('b24-shared-operating-');
let world: World;

beforeAll(async () => {
  world = await startWorld(dir.file('app.db'), { rate: 500, burst: 500, latencyMs: 2, operatingLimitSeconds: LIMIT_SEC });
});
afterAll(async () => {
  await world.stop();
  dir.cleanup();
});

const instance = (store: Store, shared: SharedLevels | undefined) =>
  createBitrix({
    store,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    oauthServers: [world.oauthUrl],
    limits: { rate: 500, burst: 500 },
    operating: { limitSec: LIMIT_SEC, maxSlowdownMs: 20 },
    retry: { maxOperatingWaitMs: 2_000 },
    sharedBuckets: shared,
  });

forEachBackend('one operating-time budget for several instances', (backend) => {
  it('a method instance A drove into the operating limit is held on instance B without a request', async () => {
    const installed = await world.installPortal(500);
    const db = await backend.freshDb();
    const [a, b] = await Promise.all([db.open(), db.open()]);
    const portal = await world.copyPortal(a, installed);
    const onA = instance(a, a.leakyBuckets).client(portal, installed.owner);
    const onB = instance(b, b.leakyBuckets).client(portal, installed.owner);
    expect((await onB.call<{ ID: string }>('user.current')).result.ID).toBeTruthy();

    let error: BitrixError | null = null;
    for (let calls = 0; !error && calls < 500; calls++) {
      await onA.call('user.get', { sort: 'ID' }).catch((e: BitrixError) => {
        error = e;
      });
    }
    expect((error as unknown as BitrixError | null)?.code).toBe('OPERATION_TIME_LIMIT');
    await Bun.sleep(50); // A publishes its figures without waiting

    const before = await world.emu.stats(installed.memberId);
    const onBRefused = (await onB.call('user.get').catch((x) => x)) as BitrixError;
    expect(onBRefused.code).toBe('OPERATION_TIME_LIMIT');
    expect(onBRefused.status).toBe(429);
    expect((await world.emu.stats(installed.memberId)).rest_calls).toBe(before.rest_calls);
    expect((await onB.call<{ ID: string }>('user.current')).result.ID).toBeTruthy();
    expect(await db.count('leaky_buckets', "key LIKE 'op:%:user.get'")).toBe(1);
  }, 60_000);

  it('without the shared figures, instance B spends a refused call of its own (what the test above rules out)', async () => {
    const installed = await world.installPortal(500);
    const db = await backend.freshDb();
    const [a, b] = await Promise.all([db.open(), db.open()]);
    const portal = await world.copyPortal(a, installed);
    const onA = instance(a, undefined).client(portal, installed.owner);
    const onB = instance(b, undefined).client(portal, installed.owner);
    let error: BitrixError | null = null;
    for (let calls = 0; !error && calls < 500; calls++) {
      await onA.call('user.get', { sort: 'ID' }).catch((e: BitrixError) => {
        error = e;
      });
    }
    const before = await world.emu.stats(installed.memberId);
    const refused = (await onB.call('user.get').catch((x) => x)) as BitrixError;
    expect(refused.code).toBe('OPERATION_TIME_LIMIT');
    expect((await world.emu.stats(installed.memberId)).rest_calls).toBeGreaterThan(before.rest_calls);
  }, 60_000);
});
