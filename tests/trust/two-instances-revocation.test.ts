/**
 * Revocation across instances (architecture §5, "several instances"): two apps on one database, as two
 * `b24app serve` processes. The uninstall reaches instance A (Bitrix24 posts events to one address);
 * instance B, which has a verdict for a user's launch cached in its memory and sessions of its own,
 * must refuse that launch from the moment A has closed the portal (B reads the portal's status from
 * the store on every launch), and every session within a second: B trusts a session it verified from
 * memory for one second (src/auth/sessions.ts), which B's clock, moved here, shows without waiting.
 * A itself forgets what it closed or revoked at once.
 */
import { afterAll, expect, it } from 'bun:test';
import type { App } from '../../src/app.ts';
import { sha256Hex } from '../../src/auth/secrets.ts';
import type { LaunchParams } from '../support/emulator-client.ts';
import { portalRows } from '../support/portal-rows.ts';
import { anotherInstance, sessionTokenOf, startStack, type Stack } from '../support/stack.ts';

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

/** Instance B: its own Store over A's database and its own app (its own caches), on a clock the test moves. */
async function secondInstance(s: Stack): Promise<App & { tick(seconds: number): void }> {
  const clock = { offset: 0 };
  const b = await anotherInstance(s, undefined, () => Math.floor(Date.now() / 1000) + clock.offset);
  closers.push(b.close);
  return Object.assign(b.app, { tick: (seconds: number) => void (clock.offset += seconds) });
}

const launchOn = (app: App, appUrl: string, l: Pick<LaunchParams, 'url' | 'query' | 'form'>) => {
  const url = new URL(appUrl + '/');
  for (const [k, v] of Object.entries(l.query)) url.searchParams.set(k, v);
  return app.handle(new Request(url, { method: 'POST', body: new URLSearchParams(l.form) }));
};
const whoAmI = (app: App, appUrl: string, session: string) =>
  app.handle(new Request(`${appUrl}/api/users/current`, { headers: { authorization: `Bearer ${session}` } }));

it('an uninstall handled by instance A is refused by instance B at once: its cached launch verdict and every session', async () => {
  const s = await startStack();
  closers.push(() => s.stop());
  const b = await secondInstance(s);
  const p = await s.emu.createPortal();
  await s.emu.install(p.member_id);
  const launch = await s.emu.launch(p.member_id, 2);
  // B verifies the launch (the verdict is now in B's cache) and opens a session; A opens one too.
  const onB = await launchOn(b, s.appUrl, launch);
  expect(onB.status).toBe(200);
  const sessionB = sessionTokenOf(await onB.text())!;
  const onA = await s.launch(launch);
  expect(onA.status).toBe(200);
  const sessionA = sessionTokenOf(await onA.text())!;
  expect((await launchOn(b, s.appUrl, launch)).status).toBe(200); // served from B's cache
  for (const session of [sessionA, sessionB]) expect((await whoAmI(b, s.appUrl, session)).status).toBe(200);

  await s.emu.uninstall(p.member_id, false); // Bitrix24 tells A; A confirms and closes the portal
  expect(await portalRows(s, p.member_id)).toMatchObject({ status: 'uninstalled' });
  const t0 = performance.now();
  const replay = await launchOn(b, s.appUrl, launch);
  const refusedAfterMs = performance.now() - t0;
  console.log(`instance B refused the cached launch ${refusedAfterMs.toFixed(1)} ms after A closed the portal (one request, no waiting)`);
  expect(replay.status).toBe(401);
  expect(sessionTokenOf(await replay.text())).toBeNull();
  // A, which closed the portal, refuses every session at once; B once its second of trust is over.
  for (const session of [sessionA, sessionB]) expect((await whoAmI(s.server.app, s.appUrl, session)).status).toBe(401);
  b.tick(2);
  for (const session of [sessionA, sessionB]) expect((await whoAmI(b, s.appUrl, session)).status).toBe(401);
}, 30_000);

it('a session revoked on instance A is refused by instance B within a second', async () => {
  const s = await startStack();
  closers.push(() => s.stop());
  const b = await secondInstance(s);
  const p = await s.emu.createPortal();
  await s.emu.install(p.member_id);
  const opened = await s.launch(await s.emu.launch(p.member_id, 2));
  const session = sessionTokenOf(await opened.text())!;
  expect((await whoAmI(b, s.appUrl, session)).status).toBe(200);
  // What a sign-out (sessions.revoke) does on A: the row goes.
  await s.store.sessions.delete(sha256Hex(session));
  b.tick(2);
  expect((await whoAmI(b, s.appUrl, session)).status).toBe(401);
}, 30_000);
