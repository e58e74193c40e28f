/**
 * Sends generated requests to a running server a few at a time, judges every answer, and keeps the
 * figures the suite prints: a status histogram, the slowest answer, and for each class of failure
 * (input label + problem) its smallest reproducer. Alongside, a poller asks /health in a loop, so a
 * request that stalls the whole server shows up as a long /health latency in the summary.
 */
import { problemWith } from './answer-checks.ts';
import type { FuzzRequest } from './hostile-requests.ts';
import { sendRaw } from './raw-http.ts';

export interface Answer {
  status: number;
  text: string;
  ms: number;
  timedOut: boolean;
}

const ANSWER_TIMEOUT_MS = 20_000;

export async function send(base: string, port: number, r: FuzzRequest): Promise<Answer> {
  const started = performance.now();
  if (r.raw) {
    const a = await sendRaw(port, r.body!, ANSWER_TIMEOUT_MS, r.halfClose);
    return { ...a, ms: performance.now() - started };
  }
  try {
    const res = await fetch(base + r.target, {
      method: r.method,
      headers: r.headers,
      ...(r.body !== undefined ? { body: r.body as BodyInit } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
    const text = await res.text();
    return { status: res.status, text, ms: performance.now() - started, timedOut: false };
  } catch (e) {
    const timedOut = (e as Error).name === 'TimeoutError';
    return { status: 0, text: String(e), ms: performance.now() - started, timedOut };
  }
}

/** One line a developer can paste into a shell (bodies abbreviated past 300 characters). */
export function reproducer(base: string, r: FuzzRequest): string {
  const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : new TextDecoder().decode(r.body);
  const shown = body.length > 300 ? `${JSON.stringify(body.slice(0, 120))}… (${body.length} chars)` : JSON.stringify(body);
  if (r.raw) return `raw bytes to the port: ${shown}`;
  const headers = Object.entries(r.headers).map(([k, v]) => `-H ${JSON.stringify(`${k}: ${v.length > 80 ? v.slice(0, 40) + '…' : v}`)}`);
  return `curl -X ${r.method} ${headers.join(' ')} ${body ? `--data-binary ${shown} ` : ''}'${base}${r.target.length > 200 ? r.target.slice(0, 200) + '…' : r.target}'`;
}

export interface FuzzFigures {
  requests: number;
  statuses: Record<string, number>;
  slowest: { ms: number; label: string; route: string };
  /** `label → problem` → how often, on which routes, and the smallest request that showed it. */
  failures: Map<string, { reproducer: string; size: number; count: number; routes: Set<string> }>;
  routesHit: Set<string>;
}

export async function runFuzz(base: string, port: number, requests: Iterable<FuzzRequest>, concurrency: number): Promise<FuzzFigures> {
  const figures: FuzzFigures = { requests: 0, statuses: {}, slowest: { ms: 0, label: '', route: '' }, failures: new Map(), routesHit: new Set() };
  const queue = requests[Symbol.iterator]();
  const worker = async () => {
    for (let next = queue.next(); !next.done; next = queue.next()) {
      const r = next.value;
      const a = await send(base, port, r);
      figures.requests++;
      figures.routesHit.add(r.route);
      const key = a.status === 0 ? (a.timedOut ? 'timeout' : 'closed') : String(a.status);
      figures.statuses[key] = (figures.statuses[key] ?? 0) + 1;
      if (a.ms > figures.slowest.ms) figures.slowest = { ms: a.ms, label: r.label, route: r.route };
      const served = r.route === 'GET /public/:file' && a.status === 200;
      const problem = problemWith(a, { raw: r.raw, served });
      if (!problem) continue;
      // One class per kind of input and problem, whatever the route: the fix is per class.
      const cls = `${r.label.replace(/ \(.*\)$/, '')} → ${problem.replace(/ \(".*"\)$/, '')}`;
      const size = (typeof r.body === 'string' ? r.body.length : r.body?.byteLength ?? 0) + r.target.length + JSON.stringify(r.headers).length;
      const seen = figures.failures.get(cls) ?? { reproducer: '', size: Infinity, count: 0, routes: new Set<string>() };
      seen.count++;
      seen.routes.add(r.route === 'raw' ? r.target : r.route);
      if (size < seen.size) Object.assign(seen, { reproducer: reproducer(base, r), size });
      figures.failures.set(cls, seen);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return figures;
}

/** Asks /health in a loop until stopped; counts answers and keeps the slowest. */
export function pollHealth(base: string) {
  let running = true;
  const figures = { answered: 0, failed: 0, maxMs: 0 };
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const ok = await fetch(`${base}/health`, { signal: AbortSignal.timeout(60_000) }).then((r) => r.status === 200, () => false);
      const ms = performance.now() - started;
      if (ok) figures.answered++;
      else figures.failed++;
      figures.maxMs = Math.max(figures.maxMs, ms);
      await Bun.sleep(20); // pacing only, so the poller does not compete with the fuzz for the CPU
    }
  })();
  return {
    figures,
    async stop() {
      running = false;
      await loop;
      return figures;
    },
  };
}

export function summaryLine(seed: number, f: FuzzFigures, health: { answered: number; failed: number; maxMs: number }): string {
  const statuses = Object.entries(f.statuses).sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}:${n}`).join(' ');
  return (
    `fuzz seed=${seed} requests=${f.requests} statuses {${statuses}} ` +
    `slowest=${Math.round(f.slowest.ms)}ms (${f.slowest.route} ${f.slowest.label}) ` +
    `health answered=${health.answered} failed=${health.failed} max=${Math.round(health.maxMs)}ms ` +
    `failure classes=${f.failures.size}`
  );
}
