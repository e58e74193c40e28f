/**
 * The failed-launch limiter across instances (architecture §5, "several instances"): two apps on one
 * database, as two `b24app serve` processes behind one balancer. A client that spends its burst of
 * forged launches on instance A is refused with 429 by instance B, without B asking Bitrix24's OAuth
 * server: the counts are rows in the store (`launch:<client>`), not in A's memory.
 */
import { afterAll, expect, it } from 'bun:test';
import type { App } from '../../src/app.ts';
import { anotherInstance, startStack, type Stack } from '../support/stack.ts';

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

/** Instance B: its own Store over A's database and its own app; the client at `ip`. */
async function secondInstance(s: Stack, ip: string): Promise<App> {
  const b = await anotherInstance(s, ip);
  closers.push(b.close);
  return b.app;
}

it('forged launches on instance A use up the client’s burst; instance B answers 429 without asking Bitrix24', async () => {
  const s = await startStack();
  closers.push(() => s.stop());
  const b = await secondInstance(s, '127.0.0.1'); // the same client as A sees over loopback
  const other = await secondInstance(s, '198.51.100.7'); // another client, on B's database too
  const p = await s.emu.createPortal();
  await s.emu.install(p.member_id);
  const forged = { AUTH_ID: 'f'.repeat(64), member_id: p.member_id };
  const launchOn = (app: App) => {
    const url = new URL(s.appUrl + '/');
    url.searchParams.set('DOMAIN', p.domain);
    return app.handle(new Request(url, { method: 'POST', body: new URLSearchParams(forged) }));
  };

  // One forged launch on B, then the rest of the burst (20) on A.
  expect((await launchOn(b)).status).toBe(401);
  const statuses: number[] = [];
  for (let i = 0; i < 19; i++) statuses.push((await s.launch({ url: '', query: { DOMAIN: p.domain }, form: forged })).status);
  expect(new Set(statuses)).toEqual(new Set([401]));
  expect(await s.sqlOne('SELECT key FROM leaky_buckets WHERE key = ?', ['launch:127.0.0.1'])).toEqual({ key: 'launch:127.0.0.1' });

  const asked = (await s.emu.stats()).app_info_calls!;
  expect((await launchOn(b)).status).toBe(429);
  expect((await s.launch({ url: '', query: { DOMAIN: p.domain }, form: forged })).status).toBe(429);
  expect((await s.emu.stats()).app_info_calls).toBe(asked);
  // Another client is not affected, on either instance.
  expect((await launchOn(other)).status).toBe(401);
}, 30_000);
