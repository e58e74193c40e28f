/**
 * An A/B of the list between two builds of the app: `b24app serve --workers 1` from another checkout
 * (A: a git worktree of the commit to compare with) and from this one (B), on one database, with the
 * issue's floor beside them. Rounds are interleaved (A, B, floor, then the other way round) and each
 * phase reports the serving process's CPU time per request (all its threads, from /proc; the load
 * generator excluded), steadier on a shared machine than requests per second, and its req/s as a ratio
 * of the floor's in the same round. Medians of the rounds.
 *
 *   git worktree add /tmp/base HEAD~1 && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   bun bench/cabinet/compare-serve.ts /tmp/base [--rounds 8] [--seconds 2]
 *   A_ENV='{"LOG_LEVEL":"warn"}' bun bench/cabinet/compare-serve.ts .    (the same build, A with other settings)
 *
 * Linux only (/proc); needs wrk for a steady load (otherwise the fetch generator shares this process).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { tempDir } from '../../tests/support/temp.ts';
import { startAppAndFloor, startServe, type Child } from './children.ts';
import { runLoad } from './load.ts';
import { median, numberArg } from '../numbers.ts';

const other = process.argv[2];
if (!other || other.startsWith('--')) throw new Error('usage: compare-serve.ts <checkout to compare with> [--rounds 8] [--seconds 2]');
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

const dir = tempDir('b24-bench-compare-');
const children: Child[] = [];
try {
  const { app, bare } = await startAppAndFloor(dir.file('app.db'), children);
  const a = await startServe(dir.file('app.db'), 1, { checkout: resolve(other), env: envOf('A_ENV') });
  children.push(a);
  const b = await startServe(dir.file('app.db'), 1, { env: envOf('B_ENV') });
  children.push(b);
  const headers = { authorization: `Bearer ${app.info.token}` };
  const phases = [
    { name: `A (${other})`, pid: a.info.pid as number, url: `${a.info.url}/api/items?limit=50` },
    { name: 'B (this checkout)', pid: b.info.pid as number, url: `${b.info.url}/api/items?limit=50` },
    { name: 'floor', pid: bare.info.pid as number, url: `${bare.info.url}/floor` },
  ];
  for (const p of phases) {
    const probe = await fetch(p.url, { headers });
    if (probe.status !== 200) throw new Error(`${p.name}: ${probe.status}`);
    await runLoad({ url: p.url, headers, connections: 32, seconds: 1 });
  }
  const cpu = new Map<string, number[]>(phases.map((p) => [p.name, []]));
  const rps = new Map<string, number[]>(phases.map((p) => [p.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const p of round % 2 ? [...phases].reverse() : phases) {
      const before = cpuSeconds(p.pid);
      const r = await runLoad({ url: p.url, headers, connections: 32, seconds });
      if (r.errors) throw new Error(`${p.name}: ${r.errors} failed requests`);
      cpu.get(p.name)!.push(((cpuSeconds(p.pid) - before) / r.requests) * 1e6);
      rps.get(p.name)!.push(r.rps);
    }
  }
  const floor = rps.get('floor')!;
  console.log(`\nGET /api/items?limit=50, 32 connections, ${rounds} interleaved rounds of ${seconds} s (medians)`);
  for (const p of phases) {
    const ratio = p.name === 'floor' ? '' : ` | ${median(rps.get(p.name)!.map((x, i) => x / floor[i]!)).toFixed(3)} of the floor`;
    console.log(`${p.name.padEnd(28)} ${median(cpu.get(p.name)!).toFixed(1)} µs CPU a request | ${Math.round(median(rps.get(p.name)!))} req/s${ratio}`);
  }
} finally {
  for (const c of children.reverse()) await c.stop();
  dir.cleanup();
}
