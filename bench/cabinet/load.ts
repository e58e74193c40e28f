/**
 * A bounded HTTP load generator for the benchmarks: `wrk` when it is installed (C, its own threads,
 * so the generator does not steal the server's event loop), otherwise `fetch` loops in this process.
 * Either way: N connections for a fixed time, every response checked for its status, and
 * requests/s with p50/p99 latency out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadSpec {
  url: string;
  headers?: Record<string, string>;
  /** GET when absent; with `body` (ASCII text, sent as it is with every request) for a write. */
  method?: string;
  body?: string;
  connections: number;
  seconds: number;
}

export interface LoadResult {
  tool: 'wrk' | 'fetch';
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export const wrkPath = (): string | null => (process.env.BENCH_NO_WRK ? null : Bun.which('wrk'));

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const wrk = wrkPath();
  return wrk ? runWrk(wrk, spec) : runFetch(spec);
}

/** wrk with a tiny Lua reporter: exact totals, non-2xx counted, latency percentiles in microseconds. */
async function runWrk(wrk: string, spec: LoadSpec): Promise<LoadResult> {
  if (spec.body !== undefined && !/^[\x20-\x7e]*$/.test(spec.body)) throw new Error('the load body must be printable ASCII (it is written into a Lua string)');
  const dir = mkdtempSync(join(tmpdir(), 'b24-bench-wrk-'));
  const script = join(dir, 'report.lua');
  // JSON's string escapes for printable ASCII (\" and \\) are Lua's too.
  const request = `${spec.method ? `wrk.method = ${JSON.stringify(spec.method)}\n` : ''}${spec.body !== undefined ? `wrk.body = ${JSON.stringify(spec.body)}\n` : ''}`;
  writeFileSync(
    script,
    `${request}done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.duration, latency:percentile(50), latency:percentile(99)))
end
`,
  );
  try {
    const threads = Math.min(2, spec.connections);
    const args = [wrk, `-t${threads}`, `-c${spec.connections}`, `-d${spec.seconds}s`, '--timeout', '5s', '-s', script];
    for (const [k, v] of Object.entries(spec.headers ?? {})) args.push('-H', `${k}: ${v}`);
    args.push(spec.url);
    const p = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe' });
    const out = await new Response(p.stdout).text();
    await p.exited;
    const m = /RESULT (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(out);
    if (!m) throw new Error(`wrk gave no result: ${out} ${await new Response(p.stderr).text()}`);
    const [requests, errors, durationUs, p50, p99] = m.slice(1).map(Number) as [number, number, number, number, number];
    return { tool: 'wrk', requests, errors, rps: requests / (durationUs / 1e6), p50Ms: p50 / 1000, p99Ms: p99 / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `connections` fetch loops until the deadline (keep-alive connections, reused by Bun's fetch). */
async function runFetch(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + spec.seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const res = await fetch(spec.url, { method: spec.method, headers: spec.headers, body: spec.body });
        await res.arrayBuffer();
        if (!res.ok) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, loop));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { tool: 'fetch', requests: latencies.length, errors, rps: latencies.length / elapsed, p50Ms: at(0.5), p99Ms: at(0.99) };
}
