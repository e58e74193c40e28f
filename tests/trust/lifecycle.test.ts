/**
 * The install/uninstall lifecycle under attack, with nothing but what ordinary users legitimately hold
 * (their own genuine AUTH_ID, the APPLICATION_TOKEN of every launch form, captured old requests), and
 * both ways Bitrix24 installs an app: the installer page (this app) and ONAPPINSTALL (API-only apps).
 * Everything goes over HTTP between the app and the emulator.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { sha256Hex } from '../../src/auth/secrets.ts';
import { rest, type EmulatedPortal, type LaunchParams } from '../support/emulator-client.ts';
import { portalRows, postForm, tokenRows, uninstallEvent } from '../support/portal-rows.ts';
import { anotherInstance, type Stack, type StackOptions } from '../support/stack.ts';
import { startAppSink, type AppSink } from '../support/test-bed.ts';
import { waitFor } from '../support/wait-for.ts';
import { createItem, killAppTokens, nowSec, openApp, portalIdOf, timedStack, type TimedStack } from './lifecycle-world.ts';
import { secretsSeen } from './secrets-seen.ts';

const secrets = secretsSeen();
const stacks: Stack[] = [];
const sinks: AppSink[] = [];
afterAll(async () => {
  for (const s of stacks) {
    expect(secrets.leakedInto(s.logLines)).toEqual([]);
    await s.stop();
  }
  for (const sink of sinks) sink.stop();
});

async function stack(opts: StackOptions = {}): Promise<TimedStack> {
  const s = await timedStack(opts);
  stacks.push(s);
  return s;
}

/** Moves the clock past the deletion delay of a cleaning uninstall (default 60 minutes) and runs the jobs. */
async function afterDeletionDelay(s: TimedStack) {
  s.clock.now += 61 * 60;
  return s.server.app.runLifecycleJobs();
}

async function launchAs(s: Stack, p: EmulatedPortal, userId: number): Promise<LaunchParams> {
  const l = await s.emu.launch(p.member_id, userId);
  secrets.addForm(l.form);
  return l;
}

/** A portal with the app installed through its installer page, and an item of user 2. */
async function installedPortal(s: Stack, body: { api_only?: boolean } = {}) {
  const p = await s.emu.createPortal(body);
  const inst = await s.emu.install(p.member_id);
  secrets.addForm(inst.launch.form);
  const userLaunch = await launchAs(s, p, 2);
  const opened = await openApp(s, userLaunch);
  secrets.add(opened.session);
  expect(opened.status).toBe(200);
  await createItem(s, opened.session!, `item of ${p.member_id}`);
  return { p, applicationToken: inst.application_token, userLaunch, session: opened.session! };
}

/** ONAPPINSTALL with a given user's launch pair, as an attacker (or an API-only portal) would post it. */
function installEvent(s: Stack, p: EmulatedPortal, l: Pick<LaunchParams, 'url' | 'query' | 'form'>, overrides: Record<string, string> = {}) {
  return {
    event: 'ONAPPINSTALL',
    'data[VERSION]': '1',
    'data[LANGUAGE_ID]': 'en',
    ts: String(nowSec()),
    'auth[access_token]': l.form.AUTH_ID!,
    'auth[refresh_token]': l.form.REFRESH_ID!,
    'auth[expires_in]': '3600',
    'auth[domain]': p.domain,
    'auth[member_id]': p.member_id,
    'auth[client_endpoint]': p.client_endpoint,
    'auth[server_endpoint]': `${s.emulator.url}/rest/`,
    'auth[application_token]': l.form.APPLICATION_TOKEN!,
    ...overrides,
  };
}

async function boundHandlers(p: EmulatedPortal, adminToken: string): Promise<{ event: string; handler: string }[]> {
  return (await rest(p.client_endpoint, 'event.get', {}, adminToken)).body.result ?? [];
}

describe('a non-admin with their own genuine token', () => {
  it('cannot plant install tokens, so the two-request wipe changes nothing', async () => {
    const s = await stack();
    const w = await installedPortal(s);
    const before = await portalRows(s, w.p.member_id);
    const tokensBefore = await tokenRows(s);
    const planted = 'attacker-chosen-application-token-01';
    for (const path of ['/install', '/events']) {
      const res = await postForm(s.appUrl, path, installEvent(s, w.p, w.userLaunch, { 'auth[application_token]': planted, 'auth[refresh_token]': 'r'.repeat(64) }));
      expect(res.status).toBe(401);
    }
    expect(await portalRows(s, w.p.member_id)).toEqual(before!);
    expect(await tokenRows(s)).toEqual(tokensBefore);
    // Step two of the attack, with the planted token and with the genuine one every launch form carries.
    expect((await postForm(s.appUrl, '/events', uninstallEvent(w.p, planted))).status).toBe(401);
    expect((await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken))).status).toBe(403);
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', items: 1 });
    expect(s.logLines.some((l) => l.includes('install refused: not an administrator'))).toBe(true);
  });

  it('cannot install a portal the app does not know yet, with the genuine APPLICATION_TOKEN; the admin can', async () => {
    const s = await stack();
    // An API-only portal whose ONAPPINSTALL never reached the app (its install URL was down).
    await s.emu.registerApp({ client_id: s.clientId, client_secret: s.clientSecret, app_url: s.appUrl, install_url: 'http://127.0.0.1:9/install' });
    const p = await s.emu.createPortal({ api_only: true });
    expect((await s.emu.install(p.member_id)).app_status).toBe('installed');
    const user = await launchAs(s, p, 2);
    expect((await postForm(s.appUrl, '/install', installEvent(s, p, user))).status).toBe(401);
    expect(await portalRows(s, p.member_id)).toBeNull();
    const admin = await launchAs(s, p, 1);
    expect((await postForm(s.appUrl, '/install', installEvent(s, p, admin))).status).toBe(200);
    expect(await portalRows(s, p.member_id)).toMatchObject({ status: 'installed', hash: sha256Hex(admin.form.APPLICATION_TOKEN!), tokens: 1 });
  });
});

describe('an uninstall Bitrix24 cannot confirm', () => {
  it('deletes nothing while the app tokens are dead, even with CLEAN and the right application_token; a launch disproves it', async () => {
    const s = await stack();
    const w = await installedPortal(s);
    await killAppTokens(s, w.p.member_id);
    const before = await portalRows(s, w.p.member_id);
    const res = await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken, '1'));
    expect(res.status).toBe(202);
    expect(await portalRows(s, w.p.member_id)).toEqual(before!);
    expect(before).toMatchObject({ status: 'installed', items: 1 });
    expect((await s.store.portals.findByMemberId(w.p.member_id))!.uninstallClaim).toMatchObject({ clean: true });
    // The user's session still works, and a fresh verified launch proves the app installed.
    const me = await fetch(`${s.appUrl}/api/users/current`, { headers: { authorization: `Bearer ${w.session}` } });
    expect(me.status).toBe(200);
    expect((await openApp(s, await launchAs(s, w.p, 3))).status).toBe(200);
    expect((await s.store.portals.findByMemberId(w.p.member_id))!.uninstallClaim).toBeNull();
    s.clock.now += 30 * 86_400;
    expect(await s.server.app.runLifecycleJobs()).toEqual({ confirmed: 0, disproved: 0, expired: 0, pending: 0, purged: 0 });
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', items: 1 });
  });

  it('is dropped when a re-check finds the app tokens working', async () => {
    const s = await stack();
    const w = await installedPortal(s);
    const working = (await s.store.tokens.find(await portalIdOf(s, w.p.member_id), { kind: 'app' }))!;
    await killAppTokens(s, w.p.member_id);
    expect((await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken, '1'))).status).toBe(202);
    await s.store.tokens.save(await portalIdOf(s, w.p.member_id), { kind: 'app' }, 1, working);
    expect(await s.server.app.runLifecycleJobs()).toMatchObject({ disproved: 1 });
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', items: 1 });
  });

  it('is carried out when the grace period ends undisproved with the app tokens still dead, not before; the data goes after the deletion delay; then only a verified install reopens the portal', async () => {
    const s = await stack();
    const w = await installedPortal(s);
    const other = await installedPortal(s);
    const otherBefore = await portalRows(s, other.p.member_id);
    await killAppTokens(s, w.p.member_id);
    expect((await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken, '1'))).status).toBe(202);
    expect(await s.server.app.runLifecycleJobs()).toMatchObject({ pending: 1 });
    s.clock.now += 6 * 86_400;
    expect(await s.server.app.runLifecycleJobs()).toMatchObject({ pending: 1, expired: 0 });
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ items: 1 });
    s.clock.now += 2 * 86_400;
    expect(await s.server.app.runLifecycleJobs()).toMatchObject({ expired: 1, purged: 0 });
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'uninstalled', items: 1, sessions: 0, tokens: 0 });
    expect(await afterDeletionDelay(s)).toMatchObject({ purged: 1 });
    expect(await portalRows(s, w.p.member_id)).toBeNull();
    expect(await portalRows(s, other.p.member_id)).toEqual(otherBefore!);
    // Here the app was in fact still installed: genuine launches now meet "not installed", in both languages' page.
    const refused = await openApp(s, await launchAs(s, w.p, 2));
    expect(refused.status).toBe(401);
    expect(refused.html).toContain('The app is not installed');
    const session = await fetch(`${s.appUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ AUTH_ID: w.userLaunch.form.AUTH_ID, DOMAIN: w.p.domain, member_id: w.p.member_id }),
    });
    expect(session.status).toBe(401);
    expect(((await session.json()) as { error: { code: string } }).error.code).toBe('not_installed');
    expect(await portalRows(s, w.p.member_id)).toBeNull();
    // An administrator opening the installer page is a verified install: the portal is back.
    const admin = await launchAs(s, w.p, 1);
    const url = new URL(`${s.appUrl}/install`);
    for (const [k, v] of Object.entries(admin.query)) url.searchParams.set(k, v);
    expect((await fetch(url, { method: 'POST', body: new URLSearchParams(admin.form) })).status).toBe(200);
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', hash: sha256Hex(w.applicationToken) });
    expect((await openApp(s, await launchAs(s, w.p, 2))).status).toBe(200);
  });
});

describe('an uninstall handled just after another process found the app tokens refused', () => {
  const others: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const o of others) await o.close();
  });
  /**
   * The race: the admin removes the app; before its ONAPPUNINSTALL is handled, another instance's
   * background job refreshes the app token, Bitrix24 refuses it (`invalid_client`: the app is gone) and
   * that instance marks the tokens dead. The handler can no longer ask; it reads what the refusal said,
   * while it is fresh (src/bitrix/token-keeper.ts, REFUSAL_FRESH_SEC).
   */
  async function removedBehindTheAppsBack(s: TimedStack) {
    const w = await installedPortal(s);
    const portalId = await portalIdOf(s, w.p.member_id);
    const appToken = (await s.store.tokens.find(portalId, { kind: 'app' }))!.accessToken;
    // The event reaches the app late: its ONAPPUNINSTALL handler is moved to a sink, which keeps the
    // genuine event for the test to deliver afterwards, as a delayed delivery would.
    const sink = startAppSink('localhost');
    sinks.push(sink);
    const bound = (await rest(w.p.client_endpoint, 'event.get', {}, appToken)).body.result as { event: string; handler: string }[];
    for (const b of bound.filter((x) => x.event.toUpperCase() === 'ONAPPUNINSTALL')) {
      expect((await rest(w.p.client_endpoint, 'event.unbind', { event: b.event, handler: b.handler }, appToken)).status).toBe(200);
    }
    expect((await rest(w.p.client_endpoint, 'event.bind', { event: 'ONAPPUNINSTALL', handler: `${sink.url}/events` }, appToken)).status).toBe(200);
    const removed = await s.emu.uninstall(w.p.member_id, true);
    expect(removed.deliveries.map((d) => new URL(d.url).origin)).toEqual([sink.url]);
    const [event] = await sink.waitFor((r) => r.form.get('event') === 'ONAPPUNINSTALL');
    // Another instance's job needs the app token, finds it expired, and its refresh is refused.
    await s.emu.expireTokens();
    const other = await anotherInstance(s, undefined, () => s.clock.now);
    await other.app.runOfflineEvents();
    // Left open: the test database reads rows through the store opened last (test-database.ts).
    others.push(other);
    expect(await s.store.tokens.find(portalId, { kind: 'app' })).toMatchObject({ dead: true, refusal: { code: 'invalid_client' } });
    const deliverLate = () => fetch(`${s.appUrl}/events`, { method: 'POST', headers: { 'content-type': event!.contentType }, body: event!.body });
    return { ...w, deliverLate };
  }

  it('confirms it from the refusal the other process just got: closed at once, the data deleted after the delay', async () => {
    const s = await stack();
    const w = await removedBehindTheAppsBack(s);
    s.clock.now += 30;
    const res = await w.deliverLate();
    expect(res.status).toBe(200);
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'uninstalled', items: 1 });
    const me = await fetch(`${s.appUrl}/api/users/current`, { headers: { authorization: `Bearer ${w.session}` } });
    expect(me.status).toBe(401);
    await afterDeletionDelay(s);
    expect(await portalRows(s, w.p.member_id)).toBeNull();
  });

  it('takes a refusal older than a few minutes as no answer by itself: it asks again, and Bitrix24\'s own refusal closes the portal', async () => {
    const s = await stack();
    const w = await removedBehindTheAppsBack(s);
    s.clock.now += 121;
    const res = await w.deliverLate();
    expect(res.status).toBe(200); // the app really is gone: the re-check's own refresh is refused too
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'uninstalled', sessions: 0, tokens: 0 });
  });

  it('is not confirmed by a refusal that proves nothing about the install (invalid_grant: an idle token died), and asking again shows the app is there', async () => {
    const s = await stack();
    const w = await installedPortal(s);
    const portalId = await portalIdOf(s, w.p.member_id);
    // Written down as dead (by another process, say), while its refresh token still works at Bitrix24.
    await writtenDownAsDead(s, portalId);
    const res = await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken, '1', s.clock.now));
    expect(res.status).toBe(403);
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', items: 1 });
    expect(await s.store.tokens.find(portalId, { kind: 'app' })).toMatchObject({ dead: false });
  });

  it('is not confirmed by tokens that are dead for good: a claim, nothing closed', async () => {
    const s = await stack();
    const w = await installedPortal(s);
    const portalId = await portalIdOf(s, w.p.member_id);
    await killAppTokens(s, w.p.member_id); // a refresh token Bitrix24 refuses: the re-check gets invalid_grant
    await writtenDownAsDead(s, portalId);
    const res = await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken, '1', s.clock.now));
    expect(res.status).toBe(202);
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', items: 1 });
    expect(await s.store.tokens.find(portalId, { kind: 'app' })).toMatchObject({ dead: true });
  });
});

/** The app's stored tokens marked dead with `invalid_grant` now, whatever Bitrix24 would say of them. */
async function writtenDownAsDead(s: TimedStack, portalId: number): Promise<void> {
  const row = (await s.store.tokens.find(portalId, { kind: 'app' }))!;
  await s.store.tokens.markDead(portalId, { kind: 'app' }, row.version, { code: 'invalid_grant', at: s.clock.now });
}

describe('requests captured before an uninstall', () => {
  for (const clean of [false, true]) {
    it(`open nothing after it (CLEAN=${clean ? 1 : 0}): no page, no session, the portal stays ${clean ? 'absent' : 'uninstalled'}`, async () => {
      const s = await stack();
      const w = await installedPortal(s);
      const captured = await launchAs(s, w.p, 3);
      expect((await openApp(s, captured)).status).toBe(200); // its verdict is now cached
      await s.emu.uninstall(w.p.member_id, clean);
      expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'uninstalled', items: 1, sessions: 0, tokens: 0 });
      if (clean) await afterDeletionDelay(s);
      expect(await portalRows(s, w.p.member_id)).toEqual(clean ? null : expect.objectContaining({ status: 'uninstalled', items: 1 }));
      for (const l of [captured, w.userLaunch]) {
        const replay = await openApp(s, l);
        expect(replay.status).toBe(401);
        expect(replay.session).toBeNull();
        const session = await fetch(`${s.appUrl}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ AUTH_ID: l.form.AUTH_ID, DOMAIN: w.p.domain, member_id: w.p.member_id }),
        });
        expect(session.status).toBe(401);
      }
      const me = await fetch(`${s.appUrl}/api/users/current`, { headers: { authorization: `Bearer ${w.session}` } });
      expect(me.status).toBe(401);
      expect(await portalRows(s, w.p.member_id)).toEqual(clean ? null : expect.objectContaining({ status: 'uninstalled', items: 1 }));
      // A replay of the uninstall itself is an idempotent success that changes nothing.
      expect((await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken, '1'))).status).toBe(200);
      expect(await portalRows(s, w.p.member_id)).toEqual(clean ? null : expect.objectContaining({ status: 'uninstalled', items: 1 }));
    });
  }
});

describe('genuine events captured and replayed around an uninstall and a reinstall (API-only app)', () => {
  it('change nothing, and the genuine later uninstall still works', async () => {
    const s = await stack();
    const sink = startAppSink('localhost');
    sinks.push(sink);
    const p = await s.emu.createPortal({ api_only: true });
    const other = await installedPortal(s);
    const otherBefore = await portalRows(s, other.p.member_id);
    const adminToken = async () => (await launchAs(s, p, 1)).form.AUTH_ID!;
    const ours = `${s.appUrl}/events`;
    // A copy of every lifecycle event goes to the sink: that is the attacker's capture.
    await rest(p.client_endpoint, 'event.bind', { event: 'ONAPPINSTALL', handler: `${sink.url}/capture` }, await adminToken());
    const first = await s.emu.install(p.member_id);
    expect(first.event_status).toBe(200);
    const [capturedInstall] = await sink.waitFor((r) => r.form.get('event') === 'ONAPPINSTALL');
    await waitFor(async () => (await boundHandlers(p, await adminToken())).some((b) => b.handler === ours), { what: 'the app bound ONAPPUNINSTALL', intervalMs: 50 });
    await rest(p.client_endpoint, 'event.bind', { event: 'ONAPPUNINSTALL', handler: `${sink.url}/capture` }, await adminToken());
    await s.emu.uninstall(p.member_id, false);
    const [capturedUninstall] = await sink.waitFor((r) => r.form.get('event') === 'ONAPPUNINSTALL');
    expect(await portalRows(s, p.member_id)).toMatchObject({ status: 'uninstalled' });

    const second = await s.emu.install(p.member_id);
    expect(second.application_token).not.toBe(first.application_token);
    expect(await portalRows(s, p.member_id)).toMatchObject({ status: 'installed', hash: sha256Hex(second.application_token) });
    const opened = await openApp(s, await launchAs(s, p, 2));
    await createItem(s, opened.session!, 'after the reinstall');
    const before = await portalRows(s, p.member_id);
    const tokensBefore = await tokenRows(s);

    for (const path of ['/install', '/events']) expect((await postForm(s.appUrl, path, Object.fromEntries(capturedInstall!.form))).status).toBe(401);
    expect((await postForm(s.appUrl, '/events', Object.fromEntries(capturedUninstall!.form))).status).toBe(401);
    const cleaning = Object.fromEntries(capturedUninstall!.form);
    cleaning['data[CLEAN]'] = '1';
    expect((await postForm(s.appUrl, '/events', cleaning)).status).toBe(401);
    expect(await portalRows(s, p.member_id)).toEqual(before!);
    expect(await tokenRows(s)).toEqual(tokensBefore);

    await waitFor(async () => (await boundHandlers(p, await adminToken())).some((b) => b.handler === ours), { what: 'the app bound ONAPPUNINSTALL again', intervalMs: 50 });
    await s.emu.uninstall(p.member_id, true);
    expect(await portalRows(s, p.member_id)).toMatchObject({ status: 'uninstalled', sessions: 0, tokens: 0 });
    await afterDeletionDelay(s);
    expect(await portalRows(s, p.member_id)).toBeNull();
    expect(await portalRows(s, other.p.member_id)).toEqual(otherBefore!);
  });
});

describe('both ways of installing', () => {
  for (const apiOnly of [false, true]) {
    it(`${apiOnly ? 'ONAPPINSTALL (API only)' : 'the installer page'}: the portal, the app tokens, the application_token and the ONAPPUNINSTALL binding; a cleaning uninstall deletes that portal's rows only`, async () => {
      const s = await stack();
      const other = await installedPortal(s);
      const otherBefore = await portalRows(s, other.p.member_id);
      const w = await installedPortal(s, { api_only: apiOnly });
      expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', hash: sha256Hex(w.applicationToken), items: 1 });
      const portalId = await portalIdOf(s, w.p.member_id);
      const app = (await s.store.tokens.find(portalId, { kind: 'app' }))!;
      expect(app.userId).toBe(1);
      const admin = await launchAs(s, w.p, 1);
      await waitFor(async () => (await boundHandlers(w.p, admin.form.AUTH_ID!)).some((b) => b.event === 'ONAPPUNINSTALL' && b.handler === `${s.appUrl}/events`), { what: 'ONAPPUNINSTALL is bound', intervalMs: 50 });
      // The pair that became the app's is nobody's user pair: a refresh token is single-use.
      const userRefresh = await s.sql<{ user_id: number }>("SELECT user_id FROM portal_tokens WHERE portal_id = ? AND kind = 'user'", [portalId]);
      for (const row of userRefresh) expect((await s.store.tokens.find(portalId, { kind: 'user', userId: row.user_id }))!.refreshToken).not.toBe(app.refreshToken);
      await s.emu.uninstall(w.p.member_id, true);
      // Closed at once; the rows go when the deletion delay has passed with nobody asking to keep them.
      expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'uninstalled', items: 1, sessions: 0, tokens: 0 });
      expect(await afterDeletionDelay(s)).toMatchObject({ purged: 1 });
      expect(await portalRows(s, w.p.member_id)).toBeNull();
      for (const table of ['users', 'sessions', 'items', 'portal_tokens']) {
        const orphans = (await s.sqlOne<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE portal_id NOT IN (SELECT id FROM portals)`))!;
        expect(orphans.n).toBe(0);
      }
      expect(await portalRows(s, other.p.member_id)).toEqual(otherBefore!);
    });
  }

  it('an admin re-opening the installer of an installed portal changes nothing', async () => {
    const s = await stack();
    const w = await installedPortal(s);
    const tokensBefore = (await tokenRows(s)).filter((r) => (r as { kind: string }).kind === 'app');
    const admin = await launchAs(s, w.p, 1);
    const url = new URL(`${s.appUrl}/install`);
    for (const [k, v] of Object.entries(admin.query)) url.searchParams.set(k, v);
    expect((await fetch(url, { method: 'POST', body: new URLSearchParams({ ...admin.form, APPLICATION_TOKEN: 'another-application-token-0001' }) })).status).toBe(200);
    expect((await tokenRows(s)).filter((r) => (r as { kind: string }).kind === 'app')).toEqual(tokensBefore);
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ hash: sha256Hex(w.applicationToken) });
  });
});

describe('the platform endpoints are limited like launches', () => {
  it('answers 429 after a burst of forged install events or rejected events, without asking the OAuth server again', async () => {
    const s = await stack();
    const w = await installedPortal(s);
    const forged = { AUTH_ID: 'f'.repeat(64), REFRESH_ID: 'r'.repeat(64), APPLICATION_TOKEN: 'x'.repeat(32) };
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await postForm(s.appUrl, '/install', installEvent(s, w.p, { url: '', query: {}, form: forged }))).status);
    expect(new Set(statuses)).toEqual(new Set([401]));
    const asked = (await s.emu.stats()).app_info_calls!;
    expect((await postForm(s.appUrl, '/install', installEvent(s, w.p, { url: '', query: {}, form: forged }))).status).toBe(429);
    expect((await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken))).status).toBe(429);
    expect((await s.emu.stats()).app_info_calls).toBe(asked);

    const t = await stack();
    const v = await installedPortal(t);
    for (let i = 0; i < 20; i++) expect((await postForm(t.appUrl, '/events', uninstallEvent(v.p, 'wrong-token'))).status).toBe(401);
    expect((await postForm(t.appUrl, '/events', uninstallEvent(v.p, 'wrong-token'))).status).toBe(429);
  });
});
