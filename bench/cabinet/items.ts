/**
 * Cabinet benchmark: `GET /api/items?limit=50` (authenticated, 50 items) and the `/ui/items` list
 * fragment of the real app, next to a bare `Bun.serve` + `bun:sqlite` handler returning the same 50
 * rows as JSON from the same database file, in the same run, at 32 concurrent connections; and the
 * same authenticated list with the app on PostgreSQL (the local server, TEST_DATABASE_URL; a fresh
 * schema) as a ratio of the app on SQLite. When PostgreSQL is not reachable that phase is left out,
 * saying so.
 * Each server is its own process (the app with the emulator it launched from); the load comes from
 * wrk if installed, else from fetch loops in this process. Bounded: a short warm-up and ~5 s a phase.
 *
 *   bun bench/cabinet/items.ts [--seconds 5] [--connections 32]      (or `bun run bench`)
 *   BENCH_NO_WRK=1 forces the fetch generator.
 */
import { resolve } from 'node:path';
import { TEST_APP_SECRET } from '../../tests/support/config.ts';
import { freePort } from '../../tests/support/stack.ts';
import { tempDir } from '../../tests/support/temp.ts';
import { runLoad, type LoadResult } from './load.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

interface Child {
  info: Record<string, any>;
  stop(): Promise<void>;
}

/** Starts `bun <script> …args` and waits for its first stdout line (a JSON object). */
async function startChild(script: string, args: string[]): Promise<Child> {
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

interface Phase {
  name: string;
  /** The ratio to the baseline this phase should reach (issue 15); none for context phases. */
  goal?: number;
  /** The bare phase this one is compared with (none for the bare phases themselves). */
  baseline?: string;
  url: string;
  headers?: Record<string, string>;
  check: (body: string) => void;
  /** Another phase this one is also compared with (the app on SQLite, for the app on PostgreSQL). */
  versus?: string;
}

export interface CabinetBenchResult {
  phase: string;
  goal?: number;
  result: LoadResult;
  /** req/s relative to the baseline phase; null for a baseline. */
  ratio: number | null;
  baseline?: string;
  /** req/s relative to the `versus` phase. */
  versus?: { phase: string; ratio: number };
}

export async function runCabinetBench(opts: { seconds?: number; connections?: number } = {}): Promise<CabinetBenchResult[]> {
  const seconds = opts.seconds ?? 5;
  const connections = opts.connections ?? 32;
  const dir = tempDir('b24-bench-cabinet-');
  const children: Child[] = [];
  try {
    const app = await startChild('app-server.ts', [dir.file('app.db')]);
    children.push(app);
    const bare = await startChild('bare-server.ts', [dir.file('app.db'), String(app.info.portalId), String(app.info.userId)]);
    children.push(bare);
    const pg = await startChild('app-server.ts', [dir.file('unused-pg.db'), 'postgres']).catch((e: Error) => {
      console.error(`cabinet: the PostgreSQL phase is left out: ${e.message} (is PostgreSQL running? see README)`);
      return null;
    });
    if (pg) children.push(pg);
    // `b24app serve` itself, one process and one per core, on the app's database file.
    const serveOne = await startServe(dir.file('app.db'), 1);
    children.push(serveOne);
    const serveAll = await startServe(dir.file('app.db'), navigator.hardwareConcurrency);
    children.push(serveAll);
    // The app listens on 127.0.0.1; address it there (wrk may resolve localhost to ::1 first).
    const appBase = String(app.info.url).replace('localhost', '127.0.0.1');
    const auth = { authorization: `Bearer ${app.info.token}` };

    const bareBody = await (await fetch(bare.info.url)).json();
    const bareFragment = await (await fetch(`${bare.info.url}/fragment`)).text();
    const FLOOR = 'floor: Bun.serve + bun:sqlite, session row + ready JSON';
    const BARE_JSON = 'bare Bun.serve + bun:sqlite, rows mapped (JSON, no session)';
    const BARE_HTML = 'bare Bun.serve + bun:sqlite + the same row views (HTML)';
    const APP_JSON = 'app GET /api/items?limit=50';
    const APP_PG_JSON = 'app GET /api/items?limit=50 on PostgreSQL';
    const SERVE_ONE = 'b24app serve --workers 1: GET /api/items?limit=50';
    const phases: Phase[] = [
      {
        name: FLOOR,
        url: `${bare.info.url}/floor`,
        headers: auth,
        check: (b) => {
          expectItems(JSON.parse(b), 50);
          if (b !== JSON.stringify(bareBody)) throw new Error('the floor and the mapped rows disagree on the bytes');
        },
      },
      {
        name: BARE_JSON,
        baseline: FLOOR,
        url: bare.info.url,
        check: (b) => expectItems(JSON.parse(b), 50),
      },
      {
        name: APP_JSON,
        baseline: FLOOR,
        goal: 0.8,
        url: `${appBase}/api/items?limit=50`,
        headers: auth,
        check: (b) => {
          const body = JSON.parse(b);
          expectItems(body, 50);
          if (b !== JSON.stringify(bareBody)) throw new Error('the app and the bare handler disagree on the bytes');
        },
      },
      ...(pg
        ? [
            {
              name: APP_PG_JSON,
              baseline: FLOOR,
              versus: APP_JSON,
              url: `${String(pg.info.url).replace('localhost', '127.0.0.1')}/api/items?limit=50`,
              headers: { authorization: `Bearer ${pg.info.token}` },
              check: (b: string) => {
                const body = JSON.parse(b);
                expectItems(body, 50);
                // Other ids and times (another database), the same items in the same order.
                const names = (items: { name: string; status: string }[]) => items.map((i) => `${i.name}|${i.status}`);
                if (JSON.stringify(names(body.items)) !== JSON.stringify(names(bareBody.items))) throw new Error('the app on PostgreSQL lists other rows');
              },
            },
          ]
        : []),
      {
        name: BARE_HTML,
        url: `${bare.info.url}/fragment`,
        check: (b) => {
          const rows = b.match(/<li id="item-/g)?.length ?? 0;
          if (rows !== 20) throw new Error(`bare fragment has ${rows} rows`);
        },
      },
      {
        name: 'app GET /ui/items fragment (20 rows)',
        baseline: BARE_HTML,
        goal: 0.8,
        url: `${appBase}/ui/items?q=&status=`,
        headers: { ...auth, 'hx-request': 'true' },
        check: (b) => {
          if (b !== bareFragment) throw new Error('the app and the bare handler render different fragments');
        },
      },
      {
        name: SERVE_ONE,
        url: `${serveOne.info.url}/api/items?limit=50`,
        headers: auth,
        check: (b) => expectItems(JSON.parse(b), 50),
      },
      {
        name: `b24app serve --workers ${navigator.hardwareConcurrency}: GET /api/items?limit=50`,
        baseline: SERVE_ONE,
        goal: 1,
        url: `${serveAll.info.url}/api/items?limit=50`,
        headers: auth,
        check: (b) => expectItems(JSON.parse(b), 50),
      },
    ];

    const results: CabinetBenchResult[] = [];
    for (const phase of phases) {
      const probe = await fetch(phase.url, { headers: phase.headers });
      if (probe.status !== 200) throw new Error(`${phase.name}: ${probe.status} ${await probe.text()}`);
      phase.check(await probe.text());
      await runLoad({ url: phase.url, headers: phase.headers, connections, seconds: 1 }); // warm-up (JIT, page cache)
      const result = await runLoad({ url: phase.url, headers: phase.headers, connections, seconds });
      if (result.errors) throw new Error(`${phase.name}: ${result.errors} failed requests`);
      results.push({ phase: phase.name, result, ratio: null, baseline: phase.baseline, goal: phase.goal });
    }
    for (const r of results) {
      const base = results.find((b) => b.phase === r.baseline);
      if (base) r.ratio = r.result.rps / base.result.rps;
      const versus = phases.find((p) => p.name === r.phase)?.versus;
      const other = results.find((b) => b.phase === versus);
      if (other) r.versus = { phase: other.phase, ratio: r.result.rps / other.result.rps };
    }
    return results;
  } finally {
    for (const c of children.reverse()) await c.stop();
    dir.cleanup();
  }
}

/** `b24app serve --workers N` from this checkout on the app's database (the app-server's sessions and items). */
async function startServe(dbPath: string, workers: number): Promise<Child> {
  const port = await freePort();
  const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, '../../src/main.ts'), 'serve', '--workers', String(workers)], {
    cwd: resolve(import.meta.dir, '../..'),
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
    },
    stdout: 'ignore',
    stderr: 'inherit',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && (await fetch(`${url}/ready`).catch(() => null))?.status !== 200; i++) await Bun.sleep(100);
  return {
    info: { url },
    async stop() {
      proc.kill('SIGTERM');
      await Promise.race([proc.exited, Bun.sleep(5000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}

function expectItems(body: { items?: unknown[] }, n: number) {
  if (!Array.isArray(body.items) || body.items.length !== n) throw new Error(`expected ${n} items, got ${body.items?.length}`);
}

export function printCabinetBench(results: CabinetBenchResult[], connections: number, seconds: number) {
  const tool = results[0]?.result.tool ?? '?';
  console.log(`\ncabinet: ${connections} connections, ${seconds} s a phase, load from ${tool}, ${navigator.hardwareConcurrency} CPUs`);
  const rows = results.map((r) => ({
    phase: r.phase,
    'req/s': Math.round(r.result.rps),
    'p50 ms': r.result.p50Ms.toFixed(2),
    'p99 ms': r.result.p99Ms.toFixed(2),
    requests: r.result.requests,
    'vs bare': r.ratio === null ? '(baseline)' : r.ratio.toFixed(2),
  }));
  console.table(rows);
  // Goals (issue 15) for the phases that have one; the others are context (what keeping the JSON ready bought).
  for (const r of results.filter((x) => x.ratio !== null && x.goal !== undefined)) {
    const met = r.goal === 1 ? r.ratio! > 1 : r.ratio! >= r.goal!;
    console.log(`${r.phase}: ${r.ratio!.toFixed(2)} of "${r.baseline}" (goal ${r.goal === 1 ? '> 1' : `≥ ${r.goal}`} ${met ? 'met' : 'NOT met'})`);
  }
  for (const r of results.filter((x) => x.versus)) {
    const p50 = results.find((b) => b.phase === r.versus!.phase)!.result.p50Ms;
    console.log(
      `${r.phase}: ${r.versus!.ratio.toFixed(2)} of "${r.versus!.phase}" on SQLite in the same run ` +
        `(${Math.round(r.result.rps)} vs ${Math.round(r.result.rps / r.versus!.ratio)} req/s, p50 ${r.result.p50Ms.toFixed(2)} vs ${p50.toFixed(2)} ms)`,
    );
  }
}

if (import.meta.main) {
  const seconds = arg('seconds', 5);
  const connections = arg('connections', 32);
  printCabinetBench(await runCabinetBench({ seconds, connections }), connections, seconds);
}
