/**
 * Two OS processes, one database (a SQLite file, or a PostgreSQL schema with TEST_STORE=postgres), one expired token: the compare-and-swap lease in the token row
 * lets exactly one refresh request reach the OAuth server; the other process waits and uses its result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { tempDir } from '../support/temp.ts';
import { waitFor } from '../support/wait-for.ts';
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
    const worker = join(import.meta.dir, 'fixtures', 'refresh-worker.ts');
    const procs = [0, 1].map(() => {
      const proc = Bun.spawn([process.execPath, worker, world.databaseUrl, world.oauthUrl, String(portal.id), '25'], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
      const run = { proc, out: '', err: new Response(proc.stderr).text(), drained: Promise.resolve() };
      run.drained = (async () => {
        const reader = proc.stdout.getReader();
        const decoder = new TextDecoder();
        for (let r = await reader.read(); !r.done; r = await reader.read()) run.out += decoder.decode(r.value, { stream: true });
      })();
      return run;
    });
    // Both processes are up and have opened the database: start them together.
    await waitFor(() => procs.every((r) => r.out.includes('ready\n') || r.proc.exitCode !== null), { what: 'both workers ready', timeoutMs: 30_000 });
    for (const { proc } of procs) {
      proc.stdin.write('go\n');
      await proc.stdin.end();
    }
    const outputs = await Promise.all(
      procs.map(async (r) => {
        const [code] = await Promise.all([r.proc.exited, r.drained]);
        if (code !== 0) throw new Error(`worker exited ${code}: ${await r.err}`);
        return JSON.parse(r.out.trim().split('\n').pop()!) as { ok: number; failed: number; codes: string[] };
      }),
    );
    const after = await world.emu.stats();
    expect(outputs.map((o) => o.codes)).toEqual([[], []]);
    expect(outputs.reduce((n, o) => n + o.ok, 0)).toBe(50);
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.refresh_failures - before.refresh_failures).toBe(0);
  }, 30_000);
});
