/**
 * Hostile input over every route of src/app.ts, against `b24app serve` as a child process (or the
 * binary named by FUZZ_TARGET_CMD). Seeded: `FUZZ_SEED=<n>` replays a run, `FUZZ_COUNT=<n>` sizes it
 * (default 3,000: about ten seconds on two busy cores once nothing stalls). Requires of every answer: no 5xx, no internal detail
 * (answer-checks.ts); and of the server: /health keeps answering throughout. Latencies are reported in
 * the summary line, never asserted. The 100,000-field form has its own file (many-fields.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { serveCommand, startChildStack, type ChildStack } from '../support/child-server.ts';
import { problemWith } from './answer-checks.ts';
import { pollHealth, runFuzz, summaryLine } from './fuzz-runner.ts';
import { generateRequests, halfCloses, rawCases, RAW_PATHS, ROUTES, type Known } from './hostile-requests.ts';
import { sendRaw } from './raw-http.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 11);
const COUNT = Number(process.env.FUZZ_COUNT ?? 3000);
const CONCURRENCY = 6;

/** A signed-in user with a few items, and the page's asset URLs: what authenticated paths need. */
async function knownState(stack: ChildStack): Promise<Known> {
  const token = await stack.signIn(1);
  const itemIds: string[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${stack.server.url}/api/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `fuzz item ${i}`, data: { notes: 'seed' } }),
    });
    if (res.status !== 201) throw new Error(`could not create an item: ${res.status}`);
    itemIds.push(((await res.json()) as { id: string }).id);
  }
  const page = await (await fetch(`${stack.server.url}/`, { headers: { cookie: `b24app_session=${token}` } })).text();
  const assetPaths = [...new Set(page.match(/\/public\/[\w.-]+/g) ?? [])];
  if (!assetPaths.length) throw new Error('no asset URL on the cabinet page');
  return { token, itemIds, assetPaths };
}

describe(`hostile requests to every route (seed ${SEED}, ${COUNT} requests)`, () => {
  let stack: ChildStack;
  let known: Known;
  let port: number;
  beforeAll(async () => {
    stack = await startChildStack({ TRUST_PROXY: 'true' });
    known = await knownState(stack);
    port = Number(new URL(stack.server.url).port);
  });
  afterAll(() => stack.stop());

  it('answers every request without a 5xx or an internal detail, /health answering throughout', async () => {
    const health = pollHealth(stack.server.url);
    const figures = await runFuzz(stack.server.url, port, generateRequests(SEED, COUNT, port, known), CONCURRENCY);
    const h = await health.stop();
    console.log(`${summaryLine(SEED, figures, h)} target=${serveCommand().join(' ')}`);
    const failures = [...figures.failures].map(([cls, f]) => `${cls} [${f.count}x on ${f.routes.size} routes]: ${f.reproducer}`);
    for (const line of failures) console.log(`  FAIL ${line}`);
    expect([...ROUTES].filter((r) => !figures.routesHit.has(r))).toEqual([]);
    expect(h.failed).toBe(0);
    expect(h.answered).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  }, 600_000);

  it('answers bad Host headers, literal traversal, odd methods and broken framing without a 5xx or a leak', async () => {
    // label → problem → the paths that showed it: one line per class, not one per path.
    const problems = new Map<string, string[]>();
    for (const path of [...RAW_PATHS, known.assetPaths[0]!]) {
      for (const auth of ['', `Authorization: Bearer ${known.token}\r\n`]) {
        for (const [label, bytes] of rawCases(port, path, auth, 'PROPFIND')) {
          const problem = problemWith(await sendRaw(port, bytes, 15_000, halfCloses(label)), { raw: true });
          if (!problem) continue;
          const cls = `${label}: ${problem}`;
          problems.set(cls, [...(problems.get(cls) ?? []), `${path}${auth ? ' (signed in)' : ''}`]);
        }
      }
    }
    expect([...problems].map(([cls, paths]) => `${cls} on ${paths.length} paths, e.g. ${paths[0]}`)).toEqual([]);
  }, 120_000);
});
