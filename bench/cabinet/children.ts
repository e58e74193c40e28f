/**
 * The benchmarks' server processes: a script of this folder that prints one JSON line when ready
 * (app-server.ts, bare-server.ts), and `b24app serve` itself, from this checkout or another one.
 */
import { resolve } from 'node:path';
import { TEST_APP_SECRET } from '../../tests/support/config.ts';
import { freePort } from '../../tests/support/stack.ts';

export interface Child {
  info: Record<string, any>;
  stop(): Promise<void>;
}

/** Starts `bun <script> …args` and waits for its first stdout line (a JSON object). */
export async function startChild(script: string, args: string[]): Promise<Child> {
  const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, script), ...args], { stdout: 'pipe', stderr: 'inherit' });
  const reader = proc.stdout.getReader();
  let text = '';
  const timeout = setTimeout(() => proc.kill(), 30_000);
  while (!text.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${script} exited before it was ready`);
    text += new TextDecoder().decode(value);
  }
  clearTimeout(timeout);
  reader.releaseLock();
  return {
    info: JSON.parse(text.slice(0, text.indexOf('\n'))),
    async stop() {
      proc.kill('SIGTERM');
      await Promise.race([proc.exited, Bun.sleep(3000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}

/**
 * `b24app serve --workers N` on a database the app-server wrote (its sessions and items), from this
 * checkout or from `checkout` (another worktree, for an A/B), with `env` over the defaults.
 */
export async function startServe(dbPath: string, workers: number, opts: { checkout?: string; env?: Record<string, string> } = {}): Promise<Child> {
  const port = await freePort();
  const checkout = opts.checkout ?? resolve(import.meta.dir, '../..');
  const proc = Bun.spawn([process.execPath, resolve(checkout, 'src/main.ts'), 'serve', '--workers', String(workers)], {
    cwd: checkout,
    env: {
      ...process.env,
      BITRIX24_CLIENT_ID: 'local.bench.1',
      BITRIX24_CLIENT_SECRET: 'bench-client-secret',
      APP_SECRET: TEST_APP_SECRET,
      DATABASE_URL: `sqlite:${dbPath}`,
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'info',
      ...opts.env,
    },
    stdout: 'ignore',
    stderr: 'inherit',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && (await fetch(`${url}/ready`).catch(() => null))?.status !== 200; i++) await Bun.sleep(100);
  return {
    info: { url, pid: proc.pid },
    async stop() {
      proc.kill('SIGTERM');
      await Promise.race([proc.exited, Bun.sleep(5000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}

/**
 * The list's two sides on one new database file: the app (app-server.ts: a user signed in,
 * 50 items) and the floors reading that file (bare-server.ts). Both are pushed onto `children`, to be
 * stopped by the caller.
 */
export async function startAppAndFloor(dbPath: string, children: Child[]): Promise<{ app: Child; bare: Child }> {
  const app = await startChild('app-server.ts', [dbPath]);
  children.push(app);
  const bare = await startChild('bare-server.ts', [dbPath, String(app.info.portalId), String(app.info.userId)]);
  children.push(bare);
  return { app, bare };
}
