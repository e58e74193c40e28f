/**
 * `bun run bench`: runs the benchmarks one after another, each bounded in time, and prints their
 * tables. Name some to run only those: `bun bench/run.ts cabinet`.
 *
 * To add a benchmark, add an entry below: a name and a function that runs it and prints its results.
 * (bench/rest/pull-users.ts is a standalone script with its own arguments; run it directly.)
 */
import { printCabinetBench, runCabinetBench } from './cabinet/items.ts';
import { printStartupBench, runStartupBench } from './startup/startup.ts';

const benchmarks: Record<string, () => Promise<void>> = {
  cabinet: async () => {
    const seconds = Number(process.env.BENCH_SECONDS ?? 3);
    const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
    const connections = 32;
    printCabinetBench(await runCabinetBench({ seconds, connections, rounds }), connections, seconds, rounds);
  },
  startup: async () => {
    const runs = Number(process.env.BENCH_STARTUP_RUNS ?? 7);
    printStartupBench(await runStartupBench({ runs }), runs);
  },
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((n) => !(n in benchmarks));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length ? wanted : Object.keys(benchmarks)) {
  const started = performance.now();
  await benchmarks[name]!();
  console.log(`${name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
