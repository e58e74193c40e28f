/**
 * Two OS processes, one SQLite file, one expired token: the compare-and-swap lease in the token row
 * lets exactly one refresh request reach the OAuth server; the other process waits and uses its result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { tempDir } from '../support/temp.ts';
import { startWorld, type World } from './helpers/emulator-world.ts';

const dir = tempDir('b24-bitrix-2proc-');
let world: World;

beforeAll(async () => {
  world = await startWorld(dir.file('shared.db'), { rate: 200, burst: 200 });
});
afterAll(async () => {
  await world.stop();
  dir.cleanup();
});

describe('refresh across processes', () => {
  it('two processes × 25 concurrent calls on an expired token: one refresh, 50 successes', async () => {
    const { portal, memberId } = await world.installPortal();
    await world.emu.expireTokens({ member_id: memberId });
    const before = await world.emu.stats();
    const startAt = Date.now() + 1500; // both processes are up and have opened the database by then
    const worker = join(import.meta.dir, 'fixtures', 'refresh-worker.ts');
    const procs = [0, 1].map(() =>
      Bun.spawn([process.execPath, worker, world.dbPath, world.oauthUrl, String(portal.id), '25', String(startAt)], { stdout: 'pipe', stderr: 'pipe' }),
    );
    const outputs = await Promise.all(
      procs.map(async (p) => {
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        if (code !== 0) throw new Error(`worker exited ${code}: ${err}`);
        return JSON.parse(out.trim().split('\n').pop()!) as { ok: number; failed: number; codes: string[] };
      }),
    );
    const after = await world.emu.stats();
    expect(outputs.map((o) => o.codes)).toEqual([[], []]);
    expect(outputs.reduce((n, o) => n + o.ok, 0)).toBe(50);
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.refresh_failures - before.refresh_failures).toBe(0);
  });
});
