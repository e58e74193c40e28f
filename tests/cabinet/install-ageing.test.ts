/**
 * Installs that age, against the emulator's clock, billing and app updates (docs/install-health.md):
 * the app's clock and the emulator's move together, by days; the emulator lets a refresh token die
 * 180 days after it was issued unless it is used, drops the app's handlers on an update, and gates a
 * marketplace app whose payment expired. Each test has a stack of its own (its own emulator clock).
 */
import { afterEach, describe, expect, it } from 'bun:test';
import { translator } from '../../views/i18n.ts';
import { rest, type EmulatedPortal } from '../support/emulator-client.ts';
import { sessionTokenOf } from '../support/stack.ts';
import { openCabinet, type Cabinet, type CabinetUser } from './cabinet-harness.ts';

const DAY = 86_400;
/** Text as the views escape it. */
const html = (text: string) => Bun.escapeHTML(text);

interface AgeingCabinet extends Cabinet {
  /** Moves the app's clock and the emulator's by `seconds`. */
  advance(seconds: number): Promise<void>;
}

let opened: Cabinet[] = [];
afterEach(async () => {
  await Promise.all(opened.map((c) => c.stop()));
  opened = [];
});

async function ageingCabinet(): Promise<AgeingCabinet> {
  const clock = { offset: 0 };
  const cab = await openCabinet({ now: () => Math.floor(Date.now() / 1000) + clock.offset });
  opened.push(cab);
  return Object.assign(cab, {
    async advance(seconds: number) {
      clock.offset += seconds;
      expect((await cab.stack.emu.clock(seconds)).offset_s).toBe(clock.offset);
    },
  });
}

const NEEDED = ['ONAPPUNINSTALL', 'ONAPPUPDATE', 'ONCALENDARENTRYDELETE', 'ONCALENDARENTRYDELETE:offline', 'ONCALENDARENTRYUPDATE', 'ONCALENDARENTRYUPDATE:offline', 'ONOFFLINEEVENT'].sort();

/** The bindings on the portal, as `event.get` lists them to a fresh token of the portal's admin. */
async function boundEvents(cab: Cabinet, portal: EmulatedPortal): Promise<string[]> {
  const auth = (await cab.stack.emu.launch(portal.member_id, 1)).form.AUTH_ID!;
  const r = await rest(portal.client_endpoint, 'event.get', {}, auth);
  return (r.body.result as { event: string; offline: number }[]).map((b) => `${b.event.toUpperCase()}${Number(b.offline) === 1 ? ':offline' : ''}`).sort();
}

/** Runs the calendar sync until the item's name is `name` (the pull job reads the event with the owner's stored tokens). */
async function itemNamed(cab: Cabinet, id: string, name: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await cab.stack.server.app.idle();
    await cab.stack.server.app.runCalendarSync();
    if ((await cab.row(id))?.name === name) return;
    await Bun.sleep(50);
  }
  throw new Error(`item ${id} never became "${name}" (is "${(await cab.row(id))?.name}")`);
}

describe('dormant tokens, by the emulator clock', () => {
  it('renews unused tokens past 80 % of the lifetime, so the app and the calendar sync still work after the original expiry', async () => {
    const cab = await ageingCabinet();
    const portal = await cab.newPortal();
    await cab.signIn(portal, 1);
    const owner = await cab.signIn(portal, 2);
    const item = await owner.create({ name: 'Planned', starts_at: '2027-06-01T09:00:00Z' });
    const linked = (await owner.api('POST', `/api/items/${item.id}/calendar`)).json;
    await cab.stack.server.app.idle();

    await cab.advance(145 * DAY); // past 80 % of 180 days, nothing used meanwhile
    const summary = await cab.stack.server.app.runInstallHealth();
    expect({ renewed: summary.renewed, dead: summary.dead }).toEqual({ renewed: 2, dead: 0 });

    await cab.advance(40 * DAY); // 185 days after install: the original refresh tokens would be dead
    expect((await cab.stack.server.app.runInstallHealth()).dead).toBe(0);
    // The app's own tokens work: the admin panel reads the bindings with them.
    const admin = await cab.signIn(portal, 1);
    const report = (await admin.api('GET', '/api/admin/health')).json;
    expect(report.appTokens.state).toBe('live');
    expect(report.bindings.ok).toBe(true);
    // And the owner's stored tokens: a change in the Bitrix24 calendar reaches the item through them.
    await cab.stack.emu.editCalendarEntry(portal.member_id, linked.calendar_event_id, { user_id: 2, name: 'Moved in Bitrix24' });
    await itemNamed(cab, item.id, 'Moved in Bitrix24');
  });

  it('a token left to die marks the install "needs re-authorization"; an administrator opening the app is the way out', async () => {
    const cab = await ageingCabinet();
    const portal = await cab.newPortal();
    await cab.signIn(portal, 1);
    await cab.advance(181 * DAY);
    // The administrator opens the app: the launch works (their own token is fresh) and the check of the
    // bindings it starts finds the app's refresh token dead.
    const admin = await cab.signIn(portal, 1);
    await cab.stack.server.app.idle();
    expect((await cab.stack.store.tokens.find(admin.portalId, { kind: 'app' }))?.dead).toBe(true);
    // The job never tries a dead token again.
    expect(await cab.stack.server.app.runInstallHealth()).toMatchObject({ renewed: 0, dead: 0, deferred: 0 });
    const panel = await admin.ui('GET', '/ui/admin');
    expect(panel.text).toContain('data-tokens="needs-reauthorization"');
    expect(panel.text).toContain('Open the app once more from the Bitrix24 menu as an administrator');
    expect((await admin.api('GET', '/api/admin/health')).json.appTokens.state).toBe('needs_reauthorization');

    // A user who is not an administrator re-keys nothing.
    await cab.signIn(portal, 2);
    expect((await cab.stack.store.tokens.find(admin.portalId, { kind: 'app' }))?.dead).toBe(true);
    // The administrator's next launch (a fresh verification) re-keys the app's tokens.
    const again = await cab.signIn(portal, 1);
    expect((await again.api('GET', '/api/admin/health')).json.appTokens.state).toBe('live');
    expect((await again.ui('GET', '/ui/admin')).text).toContain('data-tokens="live"');
  });
});

describe('an app update', () => {
  it('drops the handlers on the portal, and ONAPPUPDATE has the app bind them again', async () => {
    const cab = await ageingCabinet();
    const portal = await cab.newPortal();
    await cab.signIn(portal, 1);
    await cab.stack.server.app.idle();
    expect(await boundEvents(cab, portal)).toEqual(NEEDED);
    const update = await cab.stack.emu.update(portal.member_id);
    expect(update.dropped_bindings).toBe(NEEDED.length);
    expect(update.deliveries.map((d) => d.status)).toEqual([200]);
    await cab.stack.server.app.idle();
    expect(await boundEvents(cab, portal)).toEqual(NEEDED);
  });
});

describe('a lapsed marketplace subscription', () => {
  const expiredPage = async (cab: Cabinet, portal: EmulatedPortal, userId: number) => {
    const res = await cab.stack.launch(await cab.stack.emu.launch(portal.member_id, userId));
    const html = await res.text();
    return { status: res.status, html, session: sessionTokenOf(html) };
  };

  for (const lang of ['en', 'ru'] as const) {
    it(`shows users "ask your administrator" and administrators how to renew; the cabinet opens again once paid (${lang})`, async () => {
      const t = translator(lang);
      const cab = await ageingCabinet();
      const portal = await cab.newPortal({ lang });
      await cab.stack.emu.billing(portal.member_id, { status: 'P', payment_expired: 'N', days: 30 });
      const admin = await cab.signIn(portal, 1);
      const panel = await admin.ui('GET', '/ui/admin');
      expect(panel.text).toContain(html(t('adminBillingStatus', { status: t('billingStatusP') })));
      expect(panel.text).toContain(html(t.plural('adminBillingDays', 30)));
      await cab.signIn(portal, 2);

      await cab.stack.emu.billing(portal.member_id, { payment_expired: 'Y', days: -1 });
      await cab.advance(301); // past the 5 minutes the app trusts an app.info answer
      const user = await expiredPage(cab, portal, 2);
      expect(user.status).toBe(402);
      expect(user.session).toBeNull();
      expect(user.html).toContain(html(t('pageSubscriptionExpired')));
      expect(user.html).toContain(html(t('subscriptionExpired')));
      expect(user.html).not.toContain(html(t('subscriptionRenew')));
      // Someone who never opened the app is not told how to renew either.
      expect((await expiredPage(cab, portal, 3)).html).toContain(html(t('subscriptionExpired')));
      const adminPage = await expiredPage(cab, portal, 1);
      expect(adminPage.status).toBe(402);
      expect(adminPage.html).toContain(html(t('subscriptionExpiredAdmin')));
      expect(adminPage.html).toContain(`href="${portal.portal_url}market/"`);
      // The page's session renewal is refused the same way (the island shows the toast for the code).
      const renewal = await admin.api('POST', '/api/session', {
        AUTH_ID: (await cab.stack.emu.launch(portal.member_id, 2)).form.AUTH_ID,
        DOMAIN: portal.domain,
        member_id: portal.member_id,
      });
      expect(renewal.status).toBe(402);
      expect(renewal.json.error.code).toBe('payment_required');
      // PAYMENT_REQUIRED kills nothing: the app's tokens are not marked dead by a refused refresh.
      await cab.advance(91 * DAY);
      expect(await cab.stack.server.app.runInstallHealth()).toMatchObject({ renewed: 0, dead: 0, deferred: 1 });

      await cab.stack.emu.billing(portal.member_id, { payment_expired: 'N', days: 365 });
      await cab.advance(301);
      const paid = await expiredPage(cab, portal, 2);
      expect(paid.status).toBe(200);
      expect(paid.session).not.toBeNull();
      expect(await cab.stack.server.app.runInstallHealth()).toMatchObject({ renewed: 1, dead: 0, deferred: 0 });
    });
  }

  it("keeps a user's calendar write through the lapse and writes it once the portal pays and the user is back", async () => {
    const cab = await ageingCabinet();
    const portal = await cab.newPortal();
    await cab.stack.emu.billing(portal.member_id, { status: 'S', payment_expired: 'N', days: 30 });
    const owner = await cab.signIn(portal, 2);
    const item = await owner.create({ name: 'Before the lapse', starts_at: '2027-03-01T09:00:00Z' });
    const linked = (await owner.api('POST', `/api/items/${item.id}/calendar`)).json;
    expect(linked.calendar_sync).toBe('synced');
    await cab.stack.emu.billing(portal.member_id, { payment_expired: 'Y', days: -1 });
    // The open cabinet still saves (the app's own data); the write to Bitrix24 waits.
    const renamed = (await owner.api('PUT', `/api/items/${item.id}`, { version: linked.version, name: 'During the lapse' })).json;
    await cab.stack.server.app.idle();
    await cab.stack.server.app.runCalendarSync();
    const job = await cab.stack.sqlOne<{ state: string; last_error: string }>('SELECT state, last_error FROM calendar_jobs WHERE item_id = ?', [renamed.id]);
    expect(job).toEqual({ state: 'failed', last_error: 'reconnect' });

    await cab.stack.emu.billing(portal.member_id, { payment_expired: 'N', days: 365 });
    await cab.advance(301);
    await cab.signIn(portal, 2); // the user opens the app again: what waited for them is written
    await cab.stack.server.app.idle();
    await cab.stack.server.app.runCalendarSync();
    expect((await cab.row(item.id))?.name).toBe('During the lapse');
    const auth = (await cab.stack.emu.launch(portal.member_id, 2)).form.AUTH_ID!;
    const event = (await rest(portal.client_endpoint, 'calendar.event.getbyid', { id: linked.calendar_event_id }, auth)).body.result;
    expect(event.NAME).toBe('During the lapse');
  });

  it('never gates a local app, whatever its billing says', async () => {
    const cab = await ageingCabinet();
    const portal = await cab.newPortal();
    await cab.stack.emu.billing(portal.member_id, { status: 'L', payment_expired: 'Y', days: -10 });
    const user: CabinetUser = await cab.signIn(portal, 2);
    expect((await user.api('GET', '/api/items')).status).toBe(200);
  });
});
