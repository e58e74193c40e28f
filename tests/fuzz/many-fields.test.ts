/**
 * The request that froze everyone: a form with 100,000 empty fields (688 KB, under the 1 MB body
 * limit) to the routes that read Bitrix24's forms. Merging fields one by one was quadratic: 20–30 s
 * of CPU on the server's only JavaScript thread, /health stalled with it.
 *
 * Why CPU work and not "/health answered during the request": a count of /health answers cannot tell
 * a 30 s stall from no stall. With the fix the form is handled in a few milliseconds, too short for a
 * /health round trip to fit inside; without it /health is answered right after the stall. Both give
 * zero or one. What differs is how much work the request costs, so the test compares that (server
 * CPU, which other load on the machine does not inflate) with the cost of plain /health requests: the
 * form must cost less than 5,000 of them. /health latency during the form is printed, not asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { startChildStack, type ChildStack } from '../support/child-server.ts';
import { pollHealth } from './fuzz-runner.ts';

const FIELDS = 100_000;
const BASELINE_REQUESTS = 5000;

let stack: ChildStack;
// Its own server: no earlier test has filled the failed-attempt limiter, which would answer /events
// with 429 before it reads the form.
beforeAll(async () => {
  stack = await startChildStack();
});
afterAll(() => stack.stop());

/** Server CPU ticks spent while `work` runs. */
async function serverCpu(work: () => Promise<unknown>): Promise<number> {
  const before = stack.server.cpuTicks();
  await work();
  return stack.server.cpuTicks() - before;
}

async function healthRequests(n: number) {
  for (let i = 0; i < n; i += 8) await Promise.all(Array.from({ length: 8 }, () => fetch(`${stack.server.url}/health`).then((r) => r.arrayBuffer())));
}

describe(`a form with ${FIELDS.toLocaleString('en')} empty fields`, () => {
  const body = Array.from({ length: FIELDS }, (_, i) => `f${i}=`).join('&');

  it('is answered without a 5xx on POST /, /install and /events, for less server CPU than 5,000 /health requests', async () => {
    await healthRequests(200); // warm up: the first requests pay for compiling the handlers
    const baseline = await serverCpu(() => healthRequests(BASELINE_REQUESTS));
    const results: Record<string, { status: number; cpuTicks: number; healthMaxMs: number }> = {};
    for (const path of ['/', '/install', '/events']) {
      const health = pollHealth(stack.server.url);
      let status = 0;
      const cpuTicks = await serverCpu(async () => {
        const res = await fetch(stack.server.url + path, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
          signal: AbortSignal.timeout(120_000),
        }).catch(() => null);
        status = res?.status ?? 0;
        await res?.arrayBuffer();
      });
      results[path] = { status, cpuTicks, healthMaxMs: Math.round((await health.stop()).maxMs) };
    }
    console.log(`${FIELDS} fields: baseline ${BASELINE_REQUESTS} x /health = ${baseline} CPU ticks; ${JSON.stringify(results)}`);
    for (const [path, r] of Object.entries(results)) {
      expect({ path, answered: r.status > 0, serverError: r.status >= 500 }).toEqual({ path, answered: true, serverError: false });
      expect({ path, cheaperThanBaseline: r.cpuTicks < baseline }).toEqual({ path, cheaperThanBaseline: true });
    }
  }, 400_000);
});
