import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { rest } from '../support/emulator-client.ts';
import { startAppSink, startTestBed, type AppSink, type TestBed } from '../support/test-bed.ts';

let bed: TestBed;

beforeAll(async () => {
  bed = await startTestBed();
});
afterAll(() => bed.stop());

/** Every key PHP would see, with bracket paths kept as written on the wire. */
function keys(form: URLSearchParams): string[] {
  return [...form.keys()].sort();
}

describe('installing an app with an installer page (the default)', () => {
  it('POSTs the admin\'s installer launch to the install URL, sends no ONAPPINSTALL, and is installed once the page answers', async () => {
    const portal = await bed.emu.createPortal();
    const installed = await bed.emu.install(portal.member_id);
    expect(installed).toMatchObject({ app_status: 'installed', installer_status: 200, event_status: null, deliveries: [] });
    const mine = bed.app.requests.filter((r) => r.path === '/install' && r.form.get('member_id') === portal.member_id);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.form.get('AUTH_ID')).toBe(installed.launch.form.AUTH_ID ?? '');
    expect(mine[0]?.query.get('DOMAIN')).toBe(portal.domain);
    expect(mine[0]?.form.get('APPLICATION_TOKEN')).toBe(installed.application_token);
    expect(bed.app.requests.some((r) => r.form.get('event') === 'ONAPPINSTALL' && r.form.get('auth[member_id]') === portal.member_id)).toBe(false);
    const info = await rest(portal.client_endpoint, 'app.info', {}, installed.launch.form.AUTH_ID);
    expect(info.body.result.INSTALLED).toBe(true);
  });

  it('stays not installed when the installer page fails, and only an admin installs', async () => {
    const portal = await bed.emu.createPortal();
    bed.app.setStatus(500);
    try {
      expect(await bed.emu.install(portal.member_id)).toMatchObject({ app_status: 'added', installer_status: 500 });
    } finally {
      bed.app.setStatus(200);
    }
    await expect(bed.emu.install(portal.member_id, { user_id: 2 })).rejects.toMatchObject({ status: 403 });
    const launch = await bed.emu.launch(portal.member_id);
    expect((await rest(portal.client_endpoint, 'app.info', {}, launch.form.AUTH_ID)).body.result.INSTALLED).toBe(false);
  });
});

describe('ONAPPINSTALL (an app added with "Uses API only")', () => {
  it('is posted form-encoded with bracket keys and string values to the install URL before install answers', async () => {
    const portal = await bed.emu.createPortal({ api_only: true });
    const installed = await bed.emu.install(portal.member_id);
    expect(installed.app_status).toBe('installed');
    expect(installed.event_status).toBe(200);
    const [event] = bed.app.requests.filter((r) => r.form.get('event') === 'ONAPPINSTALL' && r.form.get('auth[member_id]') === portal.member_id);
    expect(event).toBeDefined();
    if (!event) return;
    expect(event.method).toBe('POST');
    expect(event.path).toBe('/install');
    expect(event.contentType).toBe('application/x-www-form-urlencoded');
    expect(event.body).toContain('auth%5Baccess_token%5D=');
    expect(keys(event.form)).toEqual(
      [
        'event', 'event_handler_id', 'ts',
        'data[VERSION]', 'data[ACTIVE]', 'data[INSTALLED]', 'data[LANGUAGE_ID]',
        'auth[access_token]', 'auth[refresh_token]', 'auth[expires]', 'auth[expires_in]', 'auth[scope]', 'auth[domain]',
        'auth[client_endpoint]', 'auth[server_endpoint]', 'auth[member_id]', 'auth[application_token]', 'auth[status]', 'auth[user_id]',
      ].sort(),
    );
    expect(Object.fromEntries(event.form)).toMatchObject({
      'data[VERSION]': '1',
      'data[ACTIVE]': 'Y',
      'data[INSTALLED]': 'Y',
      'data[LANGUAGE_ID]': 'en',
      'auth[expires_in]': '3600',
      'auth[scope]': 'user,placement,calendar',
      'auth[domain]': portal.domain,
      'auth[client_endpoint]': portal.client_endpoint,
      'auth[server_endpoint]': `${bed.emulator.url}/rest/`,
      'auth[application_token]': installed.application_token,
      'auth[status]': 'F',
      'auth[user_id]': '1',
    });
    expect(Number(event.form.get('ts'))).toBeGreaterThan(1_700_000_000);
    const probe = await rest(portal.client_endpoint, 'user.current', {}, event.form.get('auth[access_token]') ?? '');
    expect(probe.status).toBe(200);
    expect(installed.launch.form.APPLICATION_TOKEN).toBe(installed.application_token);
  });

  it('reports the status the app answered', async () => {
    const portal = await bed.emu.createPortal({ api_only: true });
    bed.app.setStatus(500);
    try {
      expect((await bed.emu.install(portal.member_id)).event_status).toBe(500);
      expect((await bed.emu.stats(portal.member_id)).events_failed).toBe(1);
    } finally {
      bed.app.setStatus(200);
    }
  });
});

describe('ONAPPUNINSTALL', () => {
  it('goes to bound handlers with data[CLEAN] and no tokens, after the app was removed', async () => {
    const portal = await bed.emu.createPortal();
    const { launch, application_token } = await bed.emu.install(portal.member_id);
    const token = launch.form.AUTH_ID;
    const handler = `${bed.app.url}/events`;
    await rest(portal.client_endpoint, 'event.bind', { event: 'ONAPPUNINSTALL', handler }, token);
    const res = await bed.emu.uninstall(portal.member_id, true);
    expect(res.app_status).toBe('uninstalled');
    const [event] = bed.app.requests.filter((r) => r.path === '/events' && r.form.get('auth[member_id]') === portal.member_id);
    expect(event).toBeDefined();
    if (!event) return;
    expect(Object.fromEntries(event.form)).toMatchObject({
      event: 'ONAPPUNINSTALL',
      'data[CLEAN]': '1',
      'data[LANGUAGE_ID]': 'en',
      'auth[domain]': portal.domain,
      'auth[member_id]': portal.member_id,
      'auth[application_token]': application_token,
    });
    expect(keys(event.form).filter((k) => k.startsWith('auth['))).toEqual(
      ['auth[application_token]', 'auth[client_endpoint]', 'auth[domain]', 'auth[member_id]', 'auth[server_endpoint]'],
    );
    expect((await rest(portal.client_endpoint, 'profile', {}, token)).status).toBe(401);
  });

  it('goes to events_url when the app bound no handler, with CLEAN=0 for a plain removal', async () => {
    const sink: AppSink = startAppSink();
    try {
      await bed.emu.registerApp({ client_id: 'app.events', client_secret: 's', app_url: `${sink.url}/`, events_url: `${sink.url}/events` });
      const portal = await bed.emu.createPortal({ client_id: 'app.events' });
      await bed.emu.install(portal.member_id, { client_id: 'app.events' });
      await bed.emu.uninstall(portal.member_id, false, { client_id: 'app.events' });
      const [event] = await sink.waitFor((r) => r.path === '/events');
      expect(event?.form.get('event')).toBe('ONAPPUNINSTALL');
      expect(event?.form.get('data[CLEAN]')).toBe('0');
    } finally {
      sink.stop();
    }
  });
});

describe('bound events', () => {
  it('delivers ONAPPTEST and ONCALENDARENTRYADD to their handlers with an access token but no refresh token', async () => {
    const portal = await bed.emu.createPortal();
    const token = (await bed.emu.install(portal.member_id)).launch.form.AUTH_ID;
    const handler = `${bed.app.url}/bound`;
    await rest(portal.client_endpoint, 'event.bind', { event: 'ONAPPTEST', handler }, token);
    await rest(portal.client_endpoint, 'event.bind', { event: 'ONCALENDARENTRYADD', handler }, token);
    await rest(portal.client_endpoint, 'event.test', {}, token);
    const added = await rest(portal.client_endpoint, 'calendar.event.add', { type: 'user', ownerId: 1, name: 'x', from: '2026-01-01T10:00:00Z', to: '2026-01-01T11:00:00Z' }, token);
    const mine = (r: { path: string; form: URLSearchParams }) => r.path === '/bound' && r.form.get('auth[member_id]') === portal.member_id;
    const events = await bed.app.waitFor(mine, 2);
    const calendar = events.find((e) => e.form.get('event') === 'ONCALENDARENTRYADD');
    expect(calendar?.form.get('data[id]')).toBe(String(added.body.result));
    expect(calendar?.form.get('auth[access_token]')).toMatch(/^[0-9a-f]{70}$/);
    expect(calendar?.form.has('auth[refresh_token]')).toBe(false);
    expect(events.some((e) => e.form.get('event') === 'ONAPPTEST')).toBe(true);
  });

  it('delivers nothing while the app is not installed (installFinish never called)', async () => {
    const portal = await bed.emu.createPortal();
    const token = (await bed.emu.launch(portal.member_id)).form.AUTH_ID;
    const handler = `${bed.app.url}/pending`;
    expect((await rest(portal.client_endpoint, 'event.bind', { event: 'ONAPPTEST', handler }, token)).body.result).toBe(true);
    expect((await rest(portal.client_endpoint, 'event.get', {}, token)).body.result).toHaveLength(1);
    // event.test answers after its deliveries were made: the portal's counters show none was attempted.
    await rest(portal.client_endpoint, 'event.test', {}, token);
    expect(await bed.emu.stats(portal.member_id)).toMatchObject({ events_sent: 0, events_failed: 0 });
    expect(bed.app.requests.filter((r) => r.path === '/pending')).toHaveLength(0);
  });
});
