/**
 * Install health (issue 14) against an ordinary user of the portal who holds only their own launch form
 * (AUTH_ID, REFRESH_ID and the portal's APPLICATION_TOKEN): a lapsed subscription, dormant tokens and
 * the renewal job must never turn into a wipe or a stall. Real HTTP between the app and the emulator;
 * the app's clock and the emulator's move together.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { portalRows, postForm, uninstallEvent } from '../support/portal-rows.ts';
import { createItem, openApp, portalIdOf, timedStack, type TimedStack } from './lifecycle-world.ts';

const DAY = 86_400;
const stacks: TimedStack[] = [];
afterAll(async () => {
  for (const s of stacks) await s.stop();
});

/** A stack whose app clock and emulator clock move together (`advance`). */
async function agingStack() {
  const s = await timedStack();
  stacks.push(s);
  return Object.assign(s, {
    async advance(seconds: number) {
      s.clock.now += seconds;
      await s.emu.clock(seconds);
    },
  });
}

/** A paid marketplace install; user 2 (the attacker, not an admin) opened it and made an item. */
async function paidPortal(s: TimedStack) {
  const p = await s.emu.createPortal();
  await s.emu.billing(p.member_id, { status: 'P', payment_expired: 'N', days: 30 });
  await s.emu.install(p.member_id);
  const attacker = await s.emu.launch(p.member_id, 2);
  const opened = await openApp(s, attacker);
  expect(opened.status).toBe(200);
  await createItem(s, opened.session!, `item of ${p.member_id}`);
  return { p, token: attacker.form.APPLICATION_TOKEN! };
}

describe('a lapsed subscription is not an uninstall', () => {
  it("a forged CLEAN=1 sent while the portal is unpaid is not kept as a claim that fires once the app's idle token dies", async () => {
    const s = await agingStack();
    const w = await paidPortal(s);
    // The portal stops paying; its data is meant to wait for the renewal.
    await s.emu.billing(w.p.member_id, { payment_expired: 'Y', days: -1 });
    await s.advance(2 * 3600); // the app's access token expired: asking Bitrix24 means a refresh
    // The attacker's forged uninstall: the refresh answers PAYMENT_REQUIRED — the OAuth server knows the
    // install and says it is unpaid, which is no sign of an uninstall.
    expect((await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.token, '1', s.clock.now))).status).toBe(403);
    expect((await s.store.portals.findByMemberId(w.p.member_id))!.uninstallClaim).toBeNull();
    // Months later, still unpaid: the app's refresh token dies unused, as Bitrix24 lets it.
    await s.advance(181 * DAY);
    expect(await s.server.app.runInstallHealth()).toMatchObject({ dead: 1 });
    await s.server.app.runLifecycleJobs();
    s.clock.now += 2 * 3600;
    expect(await s.server.app.runLifecycleJobs()).toMatchObject({ expired: 0, purged: 0 });
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', items: 1 });
  }, 30_000);

  it('users opening an unpaid app disprove a forged CLEAN=1 claim: the OAuth server vouched for their tokens of this install', async () => {
    const s = await agingStack();
    const w = await paidPortal(s);
    await s.emu.billing(w.p.member_id, { payment_expired: 'Y', days: -1 });
    // Unpaid for longer than the refresh lifetime: the app's tokens died unused (or an earlier release
    // marked them dead at the first PAYMENT_REQUIRED).
    await s.advance(181 * DAY);
    expect(await s.server.app.runInstallHealth()).toMatchObject({ dead: 1 });
    expect((await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.token, '1', s.clock.now))).status).toBe(202);
    // During the grace period the portal's users (the administrator too) open the app: each launch is a
    // fresh verification of a genuine token of this app on this portal, answered with the expired page.
    await s.advance(3600);
    for (const userId of [3, 1]) expect((await openApp(s, await s.emu.launch(w.p.member_id, userId))).status).toBe(402);
    expect((await s.store.portals.findByMemberId(w.p.member_id))!.uninstallClaim).toBeNull();
    await s.advance(8 * DAY);
    expect(await s.server.app.runLifecycleJobs()).toMatchObject({ expired: 0 });
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', items: 1 });
  }, 30_000);
});

describe('the renewal job', () => {
  it("rows it cannot renew (unpaid portals answer PAYMENT_REQUIRED, hour after hour) do not keep a paying portal's idle token from being renewed", async () => {
    const s = await agingStack();
    // Unpaid installs pile up over an app's life; each keeps its app token, and its calendar users'
    // tokens, among the live rows. Here one portal stands for them: 210 calendar users whose stored
    // refresh token the OAuth server answers with PAYMENT_REQUIRED (it leaves the token usable).
    const unpaid = await paidPortal(s);
    const unpaidId = await portalIdOf(s, unpaid.p.member_id);
    const genuine = (await s.emu.launch(unpaid.p.member_id, 3)).form;
    for (let userId = 10; userId < 220; userId++) {
      await s.store.tokens.save(unpaidId, { kind: 'user', userId }, userId, { accessToken: genuine.AUTH_ID!, refreshToken: genuine.REFRESH_ID!, expiresAt: s.clock.now + 3600, scope: 'user,calendar' });
      await s.sql(
        `INSERT INTO items (id, portal_id, owner_id, name, name_fold, status, calendar_event_id, calendar_sync, created_at, updated_at)
         VALUES (?, ?, ?, 'x', 'x', 'active', '1', 'synced', ?, ?)`,
        [`unpaid-item-${userId}`, unpaidId, userId, s.clock.now, s.clock.now],
      );
    }
    await s.emu.billing(unpaid.p.member_id, { payment_expired: 'Y', days: -1 });
    await s.advance(3600);
    // A paying portal, installed after them, whose app nobody happens to use for a while.
    const paying = await paidPortal(s);
    await s.emu.billing(paying.p.member_id, { days: 3650 });
    const payingId = await portalIdOf(s, paying.p.member_id);
    await s.advance(150 * DAY);
    // Hourly runs for a day: the paying portal's dormant token must be renewed in one of them.
    for (let hour = 0; hour < 24; hour++) {
      await s.server.app.runInstallHealth();
      await s.advance(3600);
    }
    const row = (await s.store.tokens.find(payingId, { kind: 'app' }))!;
    expect(row.dead).toBe(false);
    expect(row.issuedAt).toBeGreaterThan(s.clock.now - 2 * DAY);
  }, 120_000);
});

describe('an unpaid portal makes the app ask Bitrix24 no more than a paid one', () => {
  it('one token of an unpaid portal, replayed at /api/session, costs the app one verification, not one per request', async () => {
    const s = await agingStack();
    const w = await paidPortal(s);
    await s.emu.billing(w.p.member_id, { payment_expired: 'Y', days: -1 });
    const form = (await s.emu.launch(w.p.member_id, 2)).form;
    const before = await s.emu.stats(w.p.member_id);
    const body = JSON.stringify({ AUTH_ID: form.AUTH_ID, DOMAIN: w.p.domain, member_id: w.p.member_id });
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${s.appUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(402);
    }
    const after = await s.emu.stats(w.p.member_id);
    // A paid portal's token is verified once and its verdict kept; a refused one is counted by the
    // failed-attempt limiter. An unpaid portal's was neither: two Bitrix24 round trips per request.
    expect(after.app_info_calls - before.app_info_calls).toBeLessThanOrEqual(2);
    expect(after.rest_calls - before.rest_calls).toBeLessThanOrEqual(2);
  }, 30_000);
});

describe('ONAPPUPDATE, which any user can send (every launch form carries the application token)', () => {
  it('50 of them in a burst cost the app one event.get and bind nothing that is there', async () => {
    const s = await agingStack();
    const w = await paidPortal(s);
    await s.server.app.idle();
    const before = await s.emu.stats(w.p.member_id);
    const event = { event: 'ONAPPUPDATE', 'auth[member_id]': w.p.member_id, 'auth[domain]': w.p.domain, 'auth[application_token]': w.token };
    const answers = await Promise.all(Array.from({ length: 50 }, () => postForm(s.appUrl, '/events', event)));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    await s.server.app.idle();
    expect((await s.emu.stats(w.p.member_id)).rest_calls - before.rest_calls).toBe(1);
  }, 30_000);
});
