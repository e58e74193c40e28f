/**
 * `bun run bench`: runs the benchmarks one after another, each bounded in time, and prints their
 * tables. Name some to run only those: `bun bench/run.ts cabinet`.
 *
 * To add a benchmark, add an entry below: a name and a function that runs it and prints its results.
 * (bench/rest/pull-users.ts is a standalone script with its own arguments; run it directly.)
 */
import { printCabinetBench, runCabinetBench } from './cabinet/items.ts';

const benchmarks: Record<string, () => Promise<void>> = {
  cabinet: async () => {
    const seconds = Number(process.env.BENCH_SECONDS ?? 5);
    const connections = 32;
    printCabinetBench(await runCabinetBench({ seconds, connections }), connections, seconds);
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
