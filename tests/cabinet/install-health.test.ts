/**
 * Installs that stay healthy (docs/install-health.md), against the emulator over real HTTP: the admin
 * panel is for verified administrators only; missing event handlers are seen and repaired (from the
 * panel, on an administrator's launch, daily); unused tokens are renewed at a share of their lifetime
 * and live ones never on a timer. The app's clock is a variable the tests move.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { rest } from '../support/emulator-client.ts';
import { openCabinet, type Cabinet, type CabinetUser } from './cabinet-harness.ts';

const DAY = 86_400;
const clock = { offset: 0 };
const now = () => Math.floor(Date.now() / 1000) + clock.offset;

let cab: Cabinet;
beforeAll(async () => {
  cab = await openCabinet({ now });
});
afterAll(() => cab.stop());

/** The app's own access token on the portal (as stored, decrypted by the store). */
async function appToken(user: CabinetUser): Promise<string> {
  const tokens = await cab.stack.store.tokens.find(user.portalId, { kind: 'app' });
  if (!tokens) throw new Error('no app tokens stored');
  return tokens.accessToken;
}

/** The app refreshes its own tokens in the course of its work (as the token keeper would), by the app's clock. */
async function appUsesItsToken(user: CabinetUser): Promise<void> {
  const row = (await cab.stack.store.tokens.find(user.portalId, { kind: 'app' }))!;
  const res = await fetch(`${cab.stack.emulator.url}/oauth/token/`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: cab.stack.clientId, client_secret: cab.stack.clientSecret, refresh_token: row.refreshToken }),
  });
  const grant = (await res.json()) as { access_token: string; refresh_token: string };
  const saved = await cab.stack.store.tokens.replaceIfVersion(user.portalId, { kind: 'app' }, row.version, {
    accessToken: grant.access_token,
    refreshToken: grant.refresh_token,
    expiresAt: now() + 3600,
    scope: row.scope,
  });
  expect(saved).not.toBeNull();
}

/** The bindings on the portal, as `event.get` lists them to the app. */
async function boundEvents(user: CabinetUser): Promise<string[]> {
  const r = await rest(user.portal.client_endpoint, 'event.get', {}, await appToken(user));
  return (r.body.result as { event: string; offline: number }[]).map((b) => `${b.event.toUpperCase()}${Number(b.offline) === 1 ? ':offline' : ''}`).sort();
}

/** Someone (an app update, a portal admin's script) drops two of the app's handlers. */
async function dropHandlers(user: CabinetUser): Promise<void> {
  const auth = await appToken(user);
  const handler = `${cab.stack.appUrl}/events`;
  expect((await rest(user.portal.client_endpoint, 'event.unbind', { event: 'ONAPPUNINSTALL', handler }, auth)).body.result).toEqual({ count: 1 });
  expect((await rest(user.portal.client_endpoint, 'event.unbind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' }, auth)).body.result).toEqual({ count: 1 });
}

const NEEDED = [
  'ONAPPUNINSTALL',
  'ONAPPUPDATE',
  'ONCALENDARENTRYDELETE',
  'ONCALENDARENTRYDELETE:offline',
  'ONCALENDARENTRYUPDATE',
  'ONCALENDARENTRYUPDATE:offline',
  'ONOFFLINEEVENT',
].sort();

describe('the admin panel', () => {
  it('is 404 for a user who is not an administrator, in every form, and shows no way to it', async () => {
    const portal = await cab.newPortal();
    const user = await cab.signIn(portal, 2);
    expect(user.page).not.toContain('data-admin-open');
    for (const [method, path] of [['GET', '/ui/admin'], ['POST', '/ui/admin/bindings'], ['GET', '/api/admin/health']] as const) {
      const r = path.startsWith('/api/') ? await user.api(method, path) : await user.ui(method, path);
      expect([method, path, r.status]).toEqual([method, path, 404]);
    }
    // And nothing was repaired on their say-so: the repair route did not run.
    expect(await boundEvents(user)).toEqual(NEEDED);
  });

  it('shows an administrator the install, the app authorization, the handlers, the queue, the budget and the subscription', async () => {
    const portal = await cab.newPortal();
    const admin = await cab.signIn(portal, 1);
    expect(admin.page).toContain('data-admin-open');
    const panel = await admin.ui('GET', '/ui/admin');
    expect(panel.status).toBe(200);
    expect(panel.text).toContain('The app on this portal');
    expect(panel.text).toContain('data-tokens="live"');
    expect(panel.text).toContain('All in place');
    expect(panel.text).toContain('Changes to write to Bitrix24: 0 waiting, 0 failed.');
    expect(panel.text).toContain('Changes from Bitrix24 to apply: 0 waiting, 0 failed.');
    expect(panel.text).toContain('A local app: no subscription needed.');
    const report = (await admin.api('GET', '/api/admin/health')).json;
    expect(report.appTokens.state).toBe('live');
    expect(report.appTokens.refreshExpiresAt - report.appTokens.issuedAt).toBe(180 * DAY);
    expect(report.appTokens.renewAt - report.appTokens.issuedAt).toBe(90 * DAY);
    expect(report.bindings.bindings.every((b: { present: boolean }) => b.present)).toBe(true);
    expect(report.restBudget.burst).toBe(50);
    expect(report.calendarQueue).toEqual({ outbox: { pending: 0, failed: 0 }, inbox: { pending: 0, failed: 0 }, oldestPendingAt: null });
    expect(report.appStatus).toBe('L');
  });

  it('speaks Russian on a Russian portal', async () => {
    const portal = await cab.newPortal({ lang: 'ru' });
    const admin = await cab.signIn(portal, 1);
    expect(admin.page).toContain('Администрирование');
    const panel = await admin.ui('GET', '/ui/admin');
    expect(panel.text).toContain('Приложение на этом портале');
    expect(panel.text).toContain('Все на месте');
    expect(panel.text).toContain('Локальное приложение');
    expect(panel.text).not.toContain('All in place');
  });
});

describe('event handlers that heal', () => {
  it('shows the missing handlers and binds them again on Repair, each once', async () => {
    const portal = await cab.newPortal();
    const admin = await cab.signIn(portal, 1);
    await cab.stack.server.app.idle();
    await dropHandlers(admin);
    const report = (await admin.api('GET', '/api/admin/health')).json;
    const missing = report.bindings.bindings.filter((b: { present: boolean }) => !b.present).map((b: { event: string; offline: boolean }) => `${b.event}${b.offline ? ':offline' : ''}`);
    expect(missing).toEqual(['ONAPPUNINSTALL', 'ONCALENDARENTRYUPDATE:offline']);
    const panel = await admin.ui('GET', '/ui/admin');
    expect(panel.text).toContain('data-binding="ONAPPUNINSTALL:online" data-present="no"');

    const repaired = await admin.ui('POST', '/ui/admin/bindings');
    expect(repaired.status).toBe(200);
    expect(repaired.text).toContain('id="admin-bindings"');
    expect(repaired.text).not.toContain('data-present="no"');
    expect(repaired.headers.get('hx-trigger') ?? '').toContain('Event handlers checked and restored');
    expect(await boundEvents(admin)).toEqual(NEEDED);
    // A second repair binds nothing twice.
    await admin.ui('POST', '/ui/admin/bindings');
    expect(await boundEvents(admin)).toEqual(NEEDED);
  });

  it("repairs them on an administrator's launch (at most once a minute), not on another user's", async () => {
    const portal = await cab.newPortal();
    const admin = await cab.signIn(portal, 1);
    await cab.stack.server.app.idle();
    await dropHandlers(admin);
    // Within the minute after the install's own check: the launch does not ask again.
    await cab.signIn(portal, 1);
    await cab.stack.server.app.idle();
    expect(await boundEvents(admin)).not.toEqual(NEEDED);
    clock.offset += 120;
    try {
      await cab.signIn(portal, 2);
      await cab.stack.server.app.idle();
      expect(await boundEvents(admin)).not.toEqual(NEEDED);
      await cab.signIn(portal, 1);
      await cab.stack.server.app.idle();
      expect(await boundEvents(admin)).toEqual(NEEDED);
    } finally {
      clock.offset -= 120;
    }
  });

  it('checks every installed portal daily in the health job', async () => {
    const portal = await cab.newPortal();
    const admin = await cab.signIn(portal, 1);
    await cab.stack.server.app.idle();
    await dropHandlers(admin);
    // Checked at install: not due yet.
    await cab.stack.server.app.runInstallHealth();
    expect(await boundEvents(admin)).not.toEqual(NEEDED);
    clock.offset += DAY + 60;
    try {
      // A day later its app token is idle (its access token expired): the check does not refresh it.
      expect((await cab.stack.server.app.runInstallHealth()).bindingsChecked).toBe(0);
      expect(await boundEvents(admin)).not.toEqual(NEEDED);
      // The app uses its token for something (and so refreshes it): now the portal is checked.
      await appUsesItsToken(admin);
      const summary = await cab.stack.server.app.runInstallHealth();
      expect(summary.bindingsRepaired).toBeGreaterThanOrEqual(1);
      expect(await boundEvents(admin)).toEqual(NEEDED);
      // Checked now: the next run leaves it alone.
      expect((await cab.stack.server.app.runInstallHealth()).bindingsChecked).toBe(0);
    } finally {
      clock.offset -= DAY + 60;
    }
  });
});

describe('no timer refreshes an idle token', () => {
  it('the periodic offline-event read skips portals whose app token is idle; the read at start and ONOFFLINEEVENT do not', async () => {
    const portal = await cab.newPortal();
    const admin = await cab.signIn(portal, 1);
    await cab.stack.server.app.idle();
    const appRow = async () => (await cab.stack.store.tokens.find(admin.portalId, { kind: 'app' }))!;
    const before = await appRow();
    clock.offset += 2 * 3600; // two hours of nobody using the app: its access token expired
    try {
      const periodic = await cab.stack.server.app.runOfflineEvents({ liveTokensOnly: true });
      expect(periodic.idle).toBeGreaterThanOrEqual(1);
      expect((await appRow()).refreshToken).toBe(before.refreshToken);
      // The read at start takes every portal (what Bitrix24 kept while the app was down).
      const atStart = await cab.stack.server.app.runOfflineEvents();
      expect(atStart.idle).toBe(0);
      expect((await appRow()).refreshToken).not.toBe(before.refreshToken);
    } finally {
      clock.offset -= 2 * 3600;
    }
  });
});

describe('dormant tokens', () => {
  it("renews the app's unused tokens and calendar users' after the configured share of the lifetime, once, and no one else's", async () => {
    const portal = await cab.newPortal();
    const admin = await cab.signIn(portal, 1);
    const withCalendar = await cab.signIn(portal, 2);
    const withoutCalendar = await cab.signIn(portal, 3);
    const item = await withCalendar.create({ name: 'In the calendar', starts_at: '2027-01-10T09:00:00Z' });
    expect((await withCalendar.api('POST', `/api/items/${item.id}/calendar`)).status).toBe(200);
    await cab.stack.server.app.idle();
    const rowOf = async (owner: { kind: 'app' } | { kind: 'user'; userId: number }) => (await cab.stack.store.tokens.find(admin.portalId, owner))!;
    const before = {
      app: await rowOf({ kind: 'app' }),
      calendarUser: await rowOf({ kind: 'user', userId: 2 }),
      other: await rowOf({ kind: 'user', userId: 3 }),
    };
    // Before the share (50 % of 180 days): nothing is refreshed, however often the job runs.
    clock.offset += 89 * DAY;
    try {
      await cab.stack.server.app.runInstallHealth();
      expect((await rowOf({ kind: 'app' })).refreshToken).toBe(before.app.refreshToken);
      clock.offset += 2 * DAY;
      const summary = await cab.stack.server.app.runInstallHealth();
      expect(summary.dead).toBe(0);
      const after = {
        app: await rowOf({ kind: 'app' }),
        calendarUser: await rowOf({ kind: 'user', userId: 2 }),
        other: await rowOf({ kind: 'user', userId: 3 }),
      };
      expect(after.app.refreshToken).not.toBe(before.app.refreshToken);
      expect(after.app.issuedAt).toBe(now());
      expect(after.calendarUser.refreshToken).not.toBe(before.calendarUser.refreshToken);
      expect(after.other.refreshToken).toBe(before.other.refreshToken);
      expect(withoutCalendar.userId).toBe(3);
      // Renewed means fresh: the next run right after renews nothing of this portal.
      const again = await cab.stack.server.app.runInstallHealth();
      expect((await rowOf({ kind: 'app' })).refreshToken).toBe(after.app.refreshToken);
      expect(again.dead).toBe(0);
      // The renewed pair works.
      expect(await boundEvents(admin)).toEqual(NEEDED);
    } finally {
      clock.offset = 0;
    }
  });
});
