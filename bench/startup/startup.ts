/**
 * Startup benchmark: the single binary's cold start (exec → the first 200 from `/health`) and idle
 * memory (RSS one second later), next to a floor built the same way (floor-server.ts: Bun.serve +
 * bun:sqlite and nothing else), alternating runs of the two in one script.
 * - "first start": a new database file (the app applies every migration);
 * - "restart": the same file again (the common case: a deploy, a crash, a scale-out).
 * Both binaries are built here into a temporary directory (`bun build --compile --minify --bytecode`,
 * as `npm run build` does). `/health` is polled from this process every millisecond (no process
 * spawned per attempt), so the figure is the binary's, not the poller's.
 *
 *   bun bench/startup/startup.ts [--runs 7]      (or `bun run bench startup`)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TEST_APP_SECRET } from '../../tests/support/config.ts';
import { freePort } from '../../tests/support/stack.ts';
import { tempDir } from '../../tests/support/temp.ts';
import { median } from '../numbers.ts';

const root = resolve(import.meta.dir, '../..');

async function build(entry: string, outfile: string): Promise<void> {
  const proc = Bun.spawn([process.execPath, 'build', '--compile', '--minify', '--bytecode', entry, '--outfile', outfile], {
    cwd: root,
    stdout: 'ignore',
    stderr: 'pipe',
  });
  if ((await proc.exited) !== 0) throw new Error(`bun build ${entry} failed: ${await new Response(proc.stderr).text()}`);
}

const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

interface Start {
  coldMs: number;
  idleRssMiB: number;
}

/** Spawns `bin serve`, polls /health until 200, waits a second, reads its RSS, stops it. */
async function startOnce(bin: string, databaseFile: string): Promise<Start> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://localhost:${port}`,
    BITRIX24_CLIENT_ID: 'local.bench.1',
    BITRIX24_CLIENT_SECRET: 'bench-client-secret',
    APP_SECRET: TEST_APP_SECRET,
    DATABASE_URL: `sqlite:${databaseFile}`,
    LOG_LEVEL: 'warn',
    WORKERS: '1',
  };
  const url = `http://127.0.0.1:${port}/health`;
  const started = performance.now();
  const proc = Bun.spawn([bin, 'serve'], { env, stdout: 'ignore', stderr: 'inherit' });
  let coldMs = NaN;
  try {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`${bin} exited with ${proc.exitCode} before answering`);
      if (performance.now() - started > 10_000) throw new Error(`${bin} did not answer /health within 10 s`);
      const status = await fetch(url, { keepalive: false }).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) {
        coldMs = performance.now() - started;
        break;
      }
      await Bun.sleep(1);
    }
    await Bun.sleep(1000);
    return { coldMs, idleRssMiB: rssKiB(proc.pid) / 1024 };
  } finally {
    proc.kill('SIGTERM');
    await proc.exited;
  }
}

export interface StartupRow {
  what: string;
  app: Start;
  floor: Start;
}

export async function runStartupBench(opts: { runs?: number } = {}): Promise<{ binaryMiB: number; rows: StartupRow[] }> {
  const runs = opts.runs ?? 7;
  const dir = tempDir('b24-bench-startup-');
  try {
    const app = dir.file('b24app');
    const floor = dir.file('floor');
    await build('src/main.ts', app);
    await build('bench/startup/floor-server.ts', floor);
    const samples: Record<string, { app: Start[]; floor: Start[] }> = { 'first start': { app: [], floor: [] }, restart: { app: [], floor: [] } };
    for (let i = 0; i < runs; i++) {
      // Alternate the two, so anything the machine does meanwhile falls on both.
      for (const [name, bin] of [['app', app], ['floor', floor]] as const) {
        const file = dir.file(`${name}-${i}.db`);
        samples['first start']![name].push(await startOnce(bin, file));
        samples.restart![name].push(await startOnce(bin, file));
      }
    }
    const summarise = (xs: Start[]): Start => ({ coldMs: median(xs.map((x) => x.coldMs)), idleRssMiB: median(xs.map((x) => x.idleRssMiB)) });
    return {
      binaryMiB: Bun.file(app).size / 1048576,
      rows: Object.entries(samples).map(([what, s]) => ({ what, app: summarise(s.app), floor: summarise(s.floor) })),
    };
  } finally {
    dir.cleanup();
  }
}

/** Issue 15's goals for the binary. */
const GOAL = { coldMs: 50, idleRssMiB: 60 };

export function printStartupBench(result: { binaryMiB: number; rows: StartupRow[] }, runs: number): void {
  console.log(`\nstartup: the binary (${result.binaryMiB.toFixed(0)} MiB) vs the floor (Bun.serve + bun:sqlite, compiled the same way); median of ${runs} runs each`);
  console.log('phase        | app cold start | floor  | app/floor | app idle RSS | floor   | goal (app)');
  for (const r of result.rows) {
    console.log(
      `${r.what.padEnd(12)} | ${r.app.coldMs.toFixed(1).padStart(11)} ms | ${r.floor.coldMs.toFixed(1).padStart(3)} ms | ${(r.app.coldMs / r.floor.coldMs).toFixed(2).padStart(9)} | ${r.app.idleRssMiB.toFixed(1).padStart(8)} MiB | ${r.floor.idleRssMiB.toFixed(1).padStart(3)} MiB | < ${GOAL.coldMs} ms ${r.app.coldMs < GOAL.coldMs ? 'met' : 'NOT met'}, ≤ ${GOAL.idleRssMiB} MiB ${r.app.idleRssMiB <= GOAL.idleRssMiB ? 'met' : 'NOT met'}`,
    );
  }
}

if (import.meta.main) {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 7;
  printStartupBench(await runStartupBench({ runs }), runs);
}
