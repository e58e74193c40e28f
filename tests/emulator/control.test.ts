import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { parseEmulatorArgs } from '../../src/emulator/cli.ts';
import { rest } from '../support/emulator-client.ts';
import { startTestBed, type TestBed } from '../support/test-bed.ts';

let bed: TestBed;

beforeAll(async () => {
  bed = await startTestBed();
});
afterAll(() => bed.stop());

describe('POST /_emulator/portals', () => {
  it('creates a portal on its own origin with the app added but not installed', async () => {
    const portal = await bed.emu.createPortal();
    expect(portal.member_id).toMatch(/^[0-9a-f]{32}$/);
    expect(portal.domain).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(portal.portal_url).toBe(`http://${portal.domain}/`);
    expect(portal.client_endpoint).toBe(`http://${portal.domain}/rest/`);
    const launch = await bed.emu.launch(portal.member_id);
    expect(launch.url.startsWith(`${bed.app.url}/install?`)).toBe(true);
    expect((await rest(portal.client_endpoint, 'app.info', {}, launch.form.AUTH_ID)).body.result.INSTALLED).toBe(false);
  });

  it('seeds an admin and ordinary users with Cyrillic and Latin names, or as many as asked', async () => {
    const portal = await bed.emu.createPortal();
    const token = (await bed.emu.install(portal.member_id)).launch.form.AUTH_ID;
    const users = (await rest(portal.client_endpoint, 'user.get', {}, token)).body.result;
    expect(users.map((u: any) => u.NAME)).toEqual(['Ada', 'Иван', 'John', 'Мария', 'Jürgen', 'Zoë']);
    const many = await bed.emu.createPortal({ users: 1000, lang: 'de' });
    const manyToken = (await bed.emu.install(many.member_id)).launch.form.AUTH_ID;
    expect((await rest(many.client_endpoint, 'user.get', {}, manyToken)).body.total).toBe(1000);
    expect((await bed.emu.launch(many.member_id)).query.LANG).toBe('de');
  });
});

describe('POST /_emulator/portals/:member_id/launch', () => {
  it('returns the form the portal would POST, with fresh tokens for that user', async () => {
    const portal = await bed.emu.createPortal();
    await bed.emu.install(portal.member_id);
    const launch = await bed.emu.launch(portal.member_id, 3, { placement: 'USER_PROFILE_MENU', placement_options: { ID: 5 } });
    expect(launch.query).toEqual({ DOMAIN: portal.domain, PROTOCOL: '0', LANG: 'en', APP_SID: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(new URL(launch.url).searchParams.get('APP_SID')).toBe(launch.query.APP_SID ?? '');
    expect(launch.iframe_name).toBe(`${portal.domain}|0|${launch.query.APP_SID}`);
    expect(Object.keys(launch.form).sort()).toEqual(
      ['AUTH_ID', 'AUTH_EXPIRES', 'REFRESH_ID', 'SERVER_ENDPOINT', 'APPLICATION_TOKEN', 'APPLICATION_SCOPE', 'member_id', 'status', 'PLACEMENT', 'PLACEMENT_OPTIONS'].sort(),
    );
    expect(launch.form).toMatchObject({ AUTH_EXPIRES: '3600', member_id: portal.member_id, status: 'F', PLACEMENT: 'USER_PROFILE_MENU', PLACEMENT_OPTIONS: '{"ID":5}' });
    expect((await rest(portal.client_endpoint, 'user.current', {}, launch.form.AUTH_ID)).body.result.ID).toBe('3');
    const plain = await bed.emu.launch(portal.member_id, 3);
    expect(plain.form.PLACEMENT_OPTIONS).toBeUndefined();
  });
});

describe('POST /_emulator/apps', () => {
  it('registers another app whose genuine tokens are not ours', async () => {
    await bed.emu.registerApp({ client_id: 'app.other', client_secret: 'o', app_url: `${bed.app.url}/other/` });
    const portal = await bed.emu.createPortal();
    await bed.emu.install(portal.member_id);
    const other = await bed.emu.install(portal.member_id, { client_id: 'app.other' });
    expect(other.launch.url.startsWith(`${bed.app.url}/other/`)).toBe(true);
    const info = (await (await fetch(`${bed.emulator.url}/rest/app.info?auth=${other.launch.form.AUTH_ID}`)).json()) as any;
    expect(info.result.client_id).toBe('app.other');
    expect(info.result.install.member_id).toBe(portal.member_id);
  });
});

describe('GET /_emulator/stats', () => {
  it('counts grants, refreshes, REST calls, limit rejections and events', async () => {
    const apiOnly = await bed.emu.createPortal({ api_only: true });
    expect(apiOnly).toMatchObject({ api_only: true });
    await bed.emu.install(apiOnly.member_id); // ONAPPINSTALL: one event sent
    const stats = await bed.emu.stats();
    for (const key of ['token_grants', 'refreshes', 'refresh_failures', 'rest_calls', 'rate_limited', 'events_sent'] as const) {
      expect(typeof stats[key]).toBe('number');
    }
    expect(stats.events_sent).toBeGreaterThan(0);
  });
});

describe('the portal page', () => {
  it('hosts the app in a named iframe with a hidden POST form, escaping every value', async () => {
    await bed.emu.registerApp({ client_id: 'app.xss', client_secret: 'x', app_url: `${bed.app.url}/x/`, title: '<script>alert(1)</script>' });
    const portal = await bed.emu.createPortal({ client_id: 'app.xss' });
    const html = await (await fetch(`${portal.portal_url}?client_id=app.xss&note=%22%3E%3Cimg%20src%3Dx%3E`)).text();
    expect(html).toContain(`name="${portal.domain}|0|`);
    expect(html).toContain('method="POST"');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('"><img src=x>');
    expect(html).toContain('value="{&quot;note&quot;:&quot;\\&quot;&gt;&lt;img src=x&gt;&quot;}"');
  });

  it('shows a non-admin the "not fully installed" notice and 404s an unknown user', async () => {
    const portal = await bed.emu.createPortal();
    expect(await (await fetch(`${portal.portal_url}?user_id=2`)).text()).toContain('not fully installed');
    expect((await fetch(`${portal.portal_url}?user_id=999`)).status).toBe(404);
  });
});

describe('b24app emulator flags', () => {
  it('maps the CLI flags onto startEmulator options', () => {
    const { options, portal } = parseEmulatorArgs([
      '--port', '4100', '--app-url', 'http://localhost:3000', '--client-id', 'local.x.1', '--client-secret', 's',
      '--rate', '5', '--burst=250', '--latency-ms', '20', '--refresh-token-lifetime-days', '28', '--portal',
    ]);
    expect(portal).toBe(true);
    expect(options).toMatchObject({ port: 4100, host: '127.0.0.1', rate: 5, burst: 250, latencyMs: 20, refreshTokenLifetimeDays: 28 });
    expect(options.apps).toEqual([{ client_id: 'local.x.1', client_secret: 's', app_url: 'http://localhost:3000' }]);
    expect(() => parseEmulatorArgs(['--port', 'x', '--app-url', 'u', '--client-id', 'i', '--client-secret', 's'])).toThrow('--port');
  });
});

describe('a fixed portal identity for b24app dev', () => {
  it('accepts member_id and port, and refuses a duplicate', async () => {
    const member_id = 'ab'.repeat(16);
    const probe = Bun.serve({ port: 0, fetch: () => new Response() });
    const port = probe.port;
    probe.stop(true);
    const portal = await bed.emu.createPortal({ member_id, port });
    expect(portal).toMatchObject({ member_id, domain: `127.0.0.1:${port}` });
    const again = await fetch(`${bed.emulator.url}/_emulator/portals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ member_id }) });
    expect(again.status).toBe(409);
  });
});
