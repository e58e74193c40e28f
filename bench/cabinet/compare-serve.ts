/**
 * An A/B between two builds of the app: `b24app serve --workers 1` from another checkout (A: a git
 * worktree of the commit to compare with) and from this one (B). Rounds are interleaved (A, B, …, then
 * the other way round) and each phase reports the serving process's CPU time per request (all its
 * threads, from /proc; the load generator excluded), steadier on a shared machine than requests per
 * second, and its req/s. Medians of the rounds.
 * - default: the list (`GET /api/items?limit=50`), both on one database, with the floor beside
 *   them and each side's req/s as a ratio of the floor's in the same round;
 * - `--create`: creates (`POST /api/items`), each side on its own copy of the database (both grow alike),
 *   with B's req/s as a ratio of A's.
 *
 *   git worktree add /tmp/base HEAD~1 && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   bun bench/cabinet/compare-serve.ts /tmp/base [--create] [--rounds 8] [--seconds 2]
 *   A_ENV='{"LOG_LEVEL":"warn"}' bun bench/cabinet/compare-serve.ts .    (the same build, A with other settings)
 *
 * Linux only (/proc); needs wrk for a steady load (otherwise the fetch generator shares this process).
 */
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { tempDir } from '../../tests/support/temp.ts';
import { startAppAndFloor, startServe, type Child } from './children.ts';
import { runLoad, type LoadSpec } from './load.ts';
import { median, numberArg } from '../numbers.ts';

const other = process.argv[2];
if (!other || other.startsWith('--')) throw new Error('usage: compare-serve.ts <checkout to compare with> [--create] [--rounds 8] [--seconds 2]');
const creates = process.argv.includes('--create');
const rounds = numberArg('rounds', 8);
const seconds = numberArg('seconds', 2);
const envOf = (name: string): Record<string, string> => JSON.parse(process.env[name] ?? '{}');

/** CPU seconds of every thread of the process so far (utime + stime from /proc, in clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ticks / 100;
}

/** A copy of a SQLite database another process has open but is not writing to (its WAL included). */
function copyDatabase(from: string, to: string): string {
  for (const suffix of ['', '-wal']) if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
  return to;
}

const dir = tempDir('b24-bench-compare-');
const children: Child[] = [];
try {
  const { app, bare } = await startAppAndFloor(dir.file('app.db'), children);
  // Creates: each side on its own copy, so neither counts (ITEMS_PER_USER_MAX) the other's items.
  const [dbA, dbB] = creates ? [copyDatabase(dir.file('app.db'), dir.file('a.db')), copyDatabase(dir.file('app.db'), dir.file('b.db'))] : [dir.file('app.db'), dir.file('app.db')];
  const limits: Record<string, string> = creates ? { ITEMS_PER_USER_MAX: '999999999' } : {};
  const a = await startServe(dbA, 1, { checkout: resolve(other), env: { ...limits, ...envOf('A_ENV') } });
  children.push(a);
  const b = await startServe(dbB, 1, { env: { ...limits, ...envOf('B_ENV') } });
  children.push(b);
  const auth = { authorization: `Bearer ${app.info.token}` };
  const create = { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"name":"Quarterly planning","data":{"notes":"the same item again"}}' };
  const phases: (Omit<LoadSpec, 'connections' | 'seconds'> & { name: string; pid: number })[] = creates
    ? [
        { name: `A (${other})`, pid: a.info.pid, url: `${a.info.url}/api/items`, ...create },
        { name: 'B (this checkout)', pid: b.info.pid, url: `${b.info.url}/api/items`, ...create },
      ]
    : [
        { name: `A (${other})`, pid: a.info.pid, url: `${a.info.url}/api/items?limit=50`, headers: auth },
        { name: 'B (this checkout)', pid: b.info.pid, url: `${b.info.url}/api/items?limit=50`, headers: auth },
        { name: 'floor', pid: bare.info.pid, url: `${bare.info.url}/floor`, headers: auth },
      ];
  const baseline = creates ? phases[0]!.name : 'floor';
  for (const p of phases) {
    const probe = await fetch(p.url, { method: p.method, headers: p.headers, body: p.body });
    if (!probe.ok) throw new Error(`${p.name}: ${probe.status}`);
    await runLoad({ ...p, connections: 32, seconds: 1 });
  }
  const cpu = new Map<string, number[]>(phases.map((p) => [p.name, []]));
  const rps = new Map<string, number[]>(phases.map((p) => [p.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const p of round % 2 ? [...phases].reverse() : phases) {
      const before = cpuSeconds(p.pid);
      const r = await runLoad({ ...p, connections: 32, seconds });
      if (r.errors) throw new Error(`${p.name}: ${r.errors} failed requests`);
      cpu.get(p.name)!.push(((cpuSeconds(p.pid) - before) / r.requests) * 1e6);
      rps.get(p.name)!.push(r.rps);
    }
  }
  const base = rps.get(baseline)!;
  const what = creates ? 'POST /api/items (creates)' : 'GET /api/items?limit=50';
  console.log(`\n${what}, 32 connections, ${rounds} interleaved rounds of ${seconds} s (medians)`);
  for (const p of phases) {
    const ratio = p.name === baseline ? '' : ` | ${median(rps.get(p.name)!.map((x, i) => x / base[i]!)).toFixed(3)} of ${creates ? 'A' : 'the floor'}`;
    console.log(`${p.name.padEnd(28)} ${median(cpu.get(p.name)!).toFixed(1)} µs CPU a request | ${Math.round(median(rps.get(p.name)!))} req/s${ratio}`);
  }
} finally {
  for (const c of children.reverse()) await c.stop();
  dir.cleanup();
}
