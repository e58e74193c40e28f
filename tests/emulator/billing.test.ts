/**
 * Billing per portal (`/_emulator/portals/:member_id/billing`): what `app.info` reports, and what a paid
 * app whose period has lapsed gets from the portal (401 PAYMENT_REQUIRED on every method but app.info),
 * the OAuth server (PAYMENT_REQUIRED instead of tokens) and the event sender (nothing). Local and free
 * apps are never gated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { EmulatorControlError, rest, type EmulatedPortal } from '../support/emulator-client.ts';
import { startTestBed, type TestBed } from '../support/test-bed.ts';

let bed: TestBed;

beforeAll(async () => {
  bed = await startTestBed();
});
afterAll(() => bed.stop());

async function installedPortal(clientId?: string): Promise<{ portal: EmulatedPortal; access: string; refresh: string }> {
  const portal = await bed.emu.createPortal(clientId ? { client_id: clientId } : {});
  const { launch } = await bed.emu.install(portal.member_id, clientId ? { client_id: clientId } : {});
  return { portal, access: launch.form.AUTH_ID ?? '', refresh: launch.form.REFRESH_ID ?? '' };
}

async function grant(params: Record<string, string>, clientId = bed.clientId, secret = bed.clientSecret) {
  const res = await fetch(`${bed.emulator.url}/oauth/token/?${new URLSearchParams({ client_id: clientId, client_secret: secret, ...params })}`);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const appInfo = async (portal: EmulatedPortal, access: string) => (await rest(portal.client_endpoint, 'app.info', {}, access)).body.result;

describe('app.info reports the billing of each portal', () => {
  it('starts free (F, N, no days) and follows what the control sets, per portal', async () => {
    const a = await installedPortal();
    const b = await installedPortal();
    expect(await appInfo(a.portal, a.access)).toMatchObject({ STATUS: 'F', PAYMENT_EXPIRED: 'N', DAYS: null, VERSION: 1, INSTALLED: true, CODE: bed.clientId });
    expect(await bed.emu.billing(a.portal.member_id, { status: 'T', days: 14 })).toEqual({ status: 'T', payment_expired: 'N', days: 14 });
    expect(await appInfo(a.portal, a.access)).toMatchObject({ STATUS: 'T', PAYMENT_EXPIRED: 'N', DAYS: 14 });
    expect(await appInfo(b.portal, b.access)).toMatchObject({ STATUS: 'F', PAYMENT_EXPIRED: 'N', DAYS: null });
    // Fields left out keep their value; true/false stand for Y/N.
    expect(await bed.emu.billing(a.portal.member_id, { status: 'P', payment_expired: false })).toEqual({ status: 'P', payment_expired: 'N', days: 14 });
    const launch = await bed.emu.launch(a.portal.member_id);
    expect(launch.form.status).toBe('P');
    const serverInfo = await fetch(`${bed.emulator.url}/rest/app.info?auth=${launch.form.AUTH_ID}`);
    expect(((await serverInfo.json()) as any).result.install.status).toBe('P');
  });

  it('refuses an unknown status, a malformed flag or days with 400, and an unknown app with 404', async () => {
    const { portal } = await installedPortal();
    for (const bad of [{ status: 'X' }, { payment_expired: 'maybe' }, { days: 1.5 }] as const) {
      const refused = await bed.emu.billing(portal.member_id, bad as never).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(EmulatorControlError);
      expect(refused).toMatchObject({ status: 400, body: { error: expect.any(String) } });
    }
    await expect(bed.emu.billing(portal.member_id, { client_id: 'app.nobody', status: 'P' })).rejects.toMatchObject({ status: 404 });
    await expect(bed.emu.billing('0'.repeat(32), { status: 'P' })).rejects.toMatchObject({ status: 404 });
  });
});

describe('a paid app whose period has lapsed', () => {
  it('gets 401 PAYMENT_REQUIRED for every method but app.info, which says why; other portals go on', async () => {
    const lapsed = await installedPortal();
    const other = await installedPortal();
    await bed.emu.billing(lapsed.portal.member_id, { status: 'P', payment_expired: 'Y', days: -3 });
    const refused = await rest(lapsed.portal.client_endpoint, 'user.current', {}, lapsed.access);
    expect(refused).toMatchObject({ status: 401, body: { error: 'PAYMENT_REQUIRED', error_description: 'Payment required' } });
    const batch = await rest(lapsed.portal.client_endpoint, 'batch', { cmd: { info: 'app.info' } }, lapsed.access);
    expect(batch.body.error).toBe('PAYMENT_REQUIRED');
    expect(await appInfo(lapsed.portal, lapsed.access)).toMatchObject({ STATUS: 'P', PAYMENT_EXPIRED: 'Y', DAYS: -3 });
    expect((await rest(other.portal.client_endpoint, 'user.current', {}, other.access)).status).toBe(200);
    // Renewed: the same token works again.
    await bed.emu.billing(lapsed.portal.member_id, { payment_expired: 'N', days: 30 });
    expect((await rest(lapsed.portal.client_endpoint, 'user.current', {}, lapsed.access)).status).toBe(200);
  });

  it('gets PAYMENT_REQUIRED instead of tokens from the OAuth server, and its refresh token survives until renewal', async () => {
    const { portal, refresh } = await installedPortal();
    await bed.emu.billing(portal.member_id, { status: 'T', payment_expired: 'Y' });
    expect(await grant({ grant_type: 'refresh_token', refresh_token: refresh })).toEqual({
      status: 401,
      body: { error: 'PAYMENT_REQUIRED', error_description: 'Payment required' },
    });
    const authorized = await fetch(`${portal.portal_url}oauth/authorize/?client_id=${bed.clientId}`, { redirect: 'manual' });
    const code = new URL(authorized.headers.get('location') ?? '').searchParams.get('code') ?? '';
    expect((await grant({ grant_type: 'authorization_code', code })).body.error).toBe('PAYMENT_REQUIRED');
    await bed.emu.billing(portal.member_id, { status: 'P', payment_expired: 'N', days: 365 });
    const renewed = await grant({ grant_type: 'refresh_token', refresh_token: refresh });
    expect(renewed.status).toBe(200);
    expect(renewed.body.status).toBe('P');
  });

  it('hears no events while lapsed', async () => {
    const { portal, access } = await installedPortal();
    await rest(portal.client_endpoint, 'event.bind', { event: 'ONCALENDARENTRYUPDATE', handler: `${bed.app.url}/billing-events` }, access);
    const added = await rest(portal.client_endpoint, 'calendar.event.add', { type: 'user', ownerId: 1, name: 'Standup', from: '2026-03-02T09:00:00Z', to: '2026-03-02T09:15:00Z' }, access);
    await bed.emu.billing(portal.member_id, { status: 'S', payment_expired: 'Y' });
    expect((await bed.emu.editCalendarEntry(portal.member_id, added.body.result, { name: 'Standup, later' })).deliveries).toEqual([]);
    await bed.emu.billing(portal.member_id, { payment_expired: 'N' });
    const heard = await bed.emu.editCalendarEntry(portal.member_id, added.body.result, { name: 'Standup, again' });
    expect(heard.deliveries).toEqual([{ url: `${bed.app.url}/billing-events`, status: 200 }]);
  });
});

describe('apps that are never gated', () => {
  it('a local app (L) and a free one (F) keep working whatever PAYMENT_EXPIRED says', async () => {
    await bed.emu.registerApp({ client_id: 'local.billing.1', client_secret: 'ls', app_url: `${bed.app.url}/local/` });
    const local = await installedPortal('local.billing.1');
    expect(await appInfo(local.portal, local.access)).toMatchObject({ STATUS: 'L', PAYMENT_EXPIRED: 'N' });
    expect(await bed.emu.billing(local.portal.member_id, { client_id: 'local.billing.1', payment_expired: 'Y', days: -10 })).toMatchObject({ status: 'L', payment_expired: 'Y' });
    expect((await rest(local.portal.client_endpoint, 'user.current', {}, local.access)).status).toBe(200);
    expect((await grant({ grant_type: 'refresh_token', refresh_token: local.refresh }, 'local.billing.1', 'ls')).status).toBe(200);

    const free = await installedPortal();
    await bed.emu.billing(free.portal.member_id, { status: 'F', payment_expired: 'Y' });
    expect((await rest(free.portal.client_endpoint, 'user.current', {}, free.access)).status).toBe(200);
  });
});

describe('DAYS counts down with the clock', () => {
  // Last in this file: it moves the emulator's clock.
  it('a trial with 2 days left has -1 after 3 days, and has lapsed', async () => {
    const { portal } = await installedPortal();
    await bed.emu.billing(portal.member_id, { status: 'T', days: 2 });
    await bed.emu.clock(3 * 86_400);
    const { form } = await bed.emu.launch(portal.member_id);
    expect(await appInfo(portal, form.AUTH_ID ?? '')).toMatchObject({ STATUS: 'T', PAYMENT_EXPIRED: 'Y', DAYS: -1 });
    expect((await rest(portal.client_endpoint, 'user.current', {}, form.AUTH_ID)).body.error).toBe('PAYMENT_REQUIRED');
  });
});
