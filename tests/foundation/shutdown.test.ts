import { afterAll, describe, expect, it } from 'bun:test';
import { createApp } from '../../src/app.ts';
import { createTokenCipher } from '../../src/auth/secrets.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { startServer } from '../../src/server.ts';
import { openSqliteStore } from '../../src/store/sqlite/open-store.ts';
import { testConfig, TEST_APP_SECRET } from '../support/config.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('graceful shutdown', () => {
  it('finishes an in-flight request, refuses new connections, then closes the store', async () => {
    const store = await openSqliteStore(dir.file('s.db'), { cipher: createTokenCipher(TEST_APP_SECRET) });
    const logger = createMemoryLogger();
    let entered!: () => void;
    const inFlight = new Promise<void>((r) => (entered = r));
    // The slow request runs until the test lets it finish, whatever the machine's speed.
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const running = startServer({
      app: (peerIp) => {
        const app = createApp({ config: testConfig(), store, logger }, peerIp);
        app.router.get('/slow', async () => {
          entered();
          await finished;
          return 'finished';
        });
        return app;
      },
      store,
      logger,
      host: '127.0.0.1',
      port: 0,
    });
    const slow = fetch(`${running.url}/slow`);
    await inFlight;
    const stopped = running.shutdown('test');
    // Shutting down while the request is still running: new connections are refused, then it finishes.
    await expect(fetch(`${running.url}/health`)).rejects.toThrow();
    finish();
    const response = await slow;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('finished');
    await stopped;
    await expect(fetch(`${running.url}/health`)).rejects.toThrow();
    expect((await store.readiness()).ok).toBe(false); // the database handle is closed
  });

  it('exits cleanly on SIGTERM, its last log line written (lines go out in batches), and leaves no WAL behind', async () => {
    const db = dir.file('signal.db');
    const proc = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
      cwd: `${import.meta.dir}/../..`,
      env: {
        ...process.env,
        BITRIX24_CLIENT_ID: 'local.abc.1',
        BITRIX24_CLIENT_SECRET: 'client-secret',
        APP_SECRET: TEST_APP_SECRET,
        DATABASE_URL: `sqlite:${db}`,
        HOST: '127.0.0.1',
        PORT: '0',
      },
      stdout: 'pipe',
    });
    const reader = proc.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const url = JSON.parse(first.split('\n')[0]!).url as string;
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    proc.kill('SIGTERM');
    let rest = '';
    const decoder = new TextDecoder();
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += decoder.decode(r.value, { stream: true });
    expect(await proc.exited).toBe(0);
    // Nothing logged before the exit is lost: the access line of /ready, and `stopped` last.
    const msgs = (first + rest).trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toContain('request');
    expect(msgs.at(-1)).toBe('stopped');
    expect(await Bun.file(`${db}-wal`).exists()).toBe(false);
  });
});
