/**
 * `b24app serve --workers 2` (src/cli/workers.ts) as a real child process tree: two workers answer on
 * one port, counts that must be one across processes are one (failed launches), a worker that dies is
 * replaced, and SIGTERM stops everything with exit code 0. Connections are opened anew per request
 * (`Connection: close`), so the kernel spreads them over the workers.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { workerCount } from '../../src/cli/workers.ts';
import { startChildStack, type ChildStack } from '../support/child-server.ts';
import { waitFor } from '../support/wait-for.ts';

setDefaultTimeout(60_000);

/** A request on a connection of its own (never one pooled from an earlier request): the kernel picks its worker. */
const FRESH = { keepalive: false, headers: { connection: 'close' } } as const;

/** The worker numbers of the access-log lines printed so far (each worker logs its number). */
const workersSeen = (stack: ChildStack) =>
  new Set(
    stack.server
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"request"'))
      .map((l) => (JSON.parse(l) as { worker?: number }).worker),
  );

/** Until both workers have said they listen (the first one answering is not the second one ready). */
const bothListening = (stack: ChildStack) =>
  waitFor(
    () => {
      const listening = stack.server.output().split('\n').filter((l) => l.includes('"msg":"listening"'));
      return new Set(listening.map((l) => (JSON.parse(l) as { worker?: number }).worker)).size === 2;
    },
    { timeoutMs: 15_000, what: 'both workers listening' },
  );

/** The supervisor's child processes (Linux /proc). */
const childrenOf = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);

describe('serve --workers 2', () => {
  let stack: ChildStack;
  beforeAll(async () => {
    stack = await startChildStack({ WORKERS: '2', LOG_LEVEL: 'info' });
    await bothListening(stack);
  });
  afterAll(() => stack?.stop());

  it('answers on one port from two processes', async () => {
    expect(childrenOf(stack.server.pid)).toHaveLength(2);
    for (let i = 0; i < 60; i++) expect((await fetch(`${stack.server.url}/health`, FRESH)).status).toBe(200);
    // Log lines go out in batches (within 100 ms): wait for both workers' to arrive.
    await waitFor(() => workersSeen(stack).size === 2, { timeoutMs: 5_000, what: 'access lines from both workers' });
    expect([...workersSeen(stack)].sort()).toEqual([1, 2]);
  });

  it('counts failed launches once across the workers: the burst is the same 20 as one process allows', async () => {
    const forged = new URLSearchParams({ AUTH_ID: 'f'.repeat(64), member_id: stack.portal.member_id });
    const launch = () =>
      fetch(`${stack.server.url}/?DOMAIN=${encodeURIComponent(stack.portal.domain)}`, { method: 'POST', body: forged, ...FRESH }).then((r) => r.status);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(await launch());
    expect(statuses.every((s) => s === 401)).toBe(true);
    expect(await launch()).toBe(429);
  });

  it('replaces a worker that dies, and keeps answering meanwhile', async () => {
    const [victim] = childrenOf(stack.server.pid);
    process.kill(victim!, 'SIGKILL');
    // Gone (a zombie until the supervisor reaps it, its socket closed): the other worker takes every connection.
    await waitFor(() => !existsSync(`/proc/${victim}`) || /State:\s+Z/.test(readFileSync(`/proc/${victim}/status`, 'utf8')), { timeoutMs: 5_000, what: 'the worker to die' });
    // A connection the kernel had already queued on the dead worker's socket is reset, as with any
    // process that dies (nginx's proxy_next_upstream retries it); the next connection is answered.
    let answer: Response | null = null;
    for (let attempt = 0; attempt < 5 && !answer; attempt++) answer = await fetch(`${stack.server.url}/health`, FRESH).catch(() => null);
    expect(answer?.status).toBe(200);
    await waitFor(() => stack.server.output().includes('worker exited; restarting'), { timeoutMs: 10_000, what: 'the restart message' });
    const replaced = await waitFor(
      () => {
        const now = childrenOf(stack.server.pid);
        return now.length === 2 && !now.includes(victim!) && now;
      },
      { timeoutMs: 10_000, what: 'a replacement worker' },
    );
    expect(replaced).not.toContain(victim);
    await waitFor(() => stack.server.output().split('\n').filter((l) => l.includes('"msg":"listening"')).length >= 3, { timeoutMs: 10_000, what: 'the replacement listening' });
    await waitFor(async () => (await fetch(`${stack.server.url}/ready`, FRESH).catch(() => null))?.status === 200, { timeoutMs: 10_000, what: 'ready' });
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const workers = childrenOf(stack.server.pid);
    await stack.server.stop();
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
    expect(stack.server.output()).toContain('"msg":"stopped"');
  });
});

describe('the number of workers', () => {
  it('comes from --workers, then WORKERS, else the cores; anything else is refused', () => {
    expect(workerCount(['--workers', '3'], { WORKERS: '5' }, 2)).toBe(3);
    expect(workerCount(['--workers=4'], {}, 2)).toBe(4);
    expect(workerCount([], { WORKERS: '5' }, 2)).toBe(5);
    expect(workerCount([], {}, 8)).toBe(8);
    for (const bad of ['0', '-1', 'two', '1.5', '999']) expect([bad, workerCount(['--workers', bad], {}, 2)]).toEqual([bad, null]);
  });
});
