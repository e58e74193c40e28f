import { afterAll, beforeAll, describe, expect, it, setSystemTime } from 'bun:test';
import { rest, type EmulatedPortal } from '../support/emulator-client.ts';
import { startTestBed, type TestBed } from '../support/test-bed.ts';

let bed: TestBed;
let portal: EmulatedPortal;

beforeAll(async () => {
  bed = await startTestBed();
  portal = await bed.emu.createPortal();
  await bed.emu.install(portal.member_id);
});
afterAll(() => bed.stop());

async function authorize(query: Record<string, string> = {}): Promise<URL> {
  const url = new URL('/oauth/authorize/', portal.portal_url);
  url.searchParams.set('client_id', bed.clientId);
  url.searchParams.set('state', 'st-123');
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location') ?? '');
}

async function token(params: Record<string, string>, how: 'get' | 'post' = 'get') {
  const url = new URL('/oauth/token/', bed.emulator.url);
  const body = new URLSearchParams(params);
  const res =
    how === 'get'
      ? await fetch(`${url}?${body}`)
      : await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

function refreshParams(refresh: string) {
  return { grant_type: 'refresh_token', client_id: bed.clientId, client_secret: bed.clientSecret, refresh_token: refresh };
}

describe('GET /oauth/authorize/ on the portal', () => {
  it('redirects to the app with code, state, domain, member_id, scope and server_domain', async () => {
    const target = await authorize();
    expect(target.origin).toBe(bed.app.url);
    expect(target.searchParams.get('state')).toBe('st-123');
    expect(target.searchParams.get('domain')).toBe(portal.domain);
    expect(target.searchParams.get('member_id')).toBe(portal.member_id);
    expect(target.searchParams.get('scope')).toBe('user,placement,calendar');
    expect(target.searchParams.get('server_domain')).toBe(new URL(bed.emulator.url).host);
    expect(target.searchParams.get('code')).toMatch(/^[0-9a-f]{70}$/);
  });
});

describe('POST /oauth/token/ authorization_code', () => {
  it('exchanges a code once, with the platform token fields', async () => {
    const code = (await authorize()).searchParams.get('code') ?? '';
    const params = { grant_type: 'authorization_code', client_id: bed.clientId, client_secret: bed.clientSecret, code };
    const first = await token(params, 'post');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      expires_in: 3600,
      scope: 'user,placement,calendar',
      domain: new URL(bed.emulator.url).host,
      server_endpoint: `${bed.emulator.url}/rest/`,
      client_endpoint: portal.client_endpoint,
      member_id: portal.member_id,
      user_id: 1,
      status: 'F',
    });
    expect(first.body.access_token).toMatch(/^[0-9a-f]{70}$/);
    expect(first.body.refresh_token).toMatch(/^[0-9a-f]{70}$/);
    expect(first.body.expires).toBeGreaterThan(Date.now() / 1000 + 3500);
    const again = await token(params);
    expect(again).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: expect.any(String) } });
  });

  it('answers invalid_client for a wrong secret and wrong_client (HTTP 200) for an unknown client', async () => {
    const code = (await authorize()).searchParams.get('code') ?? '';
    const bad = await token({ grant_type: 'authorization_code', client_id: bed.clientId, client_secret: 'nope', code });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_client');
    const unknown = await token({ grant_type: 'authorization_code', client_id: 'app.unknown', client_secret: 'x', code });
    expect(unknown.status).toBe(200);
    expect(unknown.body.error).toBe('wrong_client');
  });

  it('tracks grants in the stats', async () => {
    const stats = await bed.emu.stats(portal.member_id);
    expect(stats.token_grants).toBeGreaterThanOrEqual(1);
  });
});

describe('POST /oauth/token/ refresh_token', () => {
  it('rotates: a new pair works, the used refresh token fails with invalid_grant, the old access token dies', async () => {
    const launch = await bed.emu.launch(portal.member_id, 2);
    const first = await token(refreshParams(launch.form.REFRESH_ID ?? ''), 'post');
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(launch.form.REFRESH_ID);
    expect(first.body.user_id).toBe(2);

    const reuse = await token(refreshParams(launch.form.REFRESH_ID ?? ''));
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');

    const old = await rest(portal.client_endpoint, 'user.current', {}, launch.form.AUTH_ID);
    expect(old.status).toBe(401);
    expect(old.body.error).toBe('invalid_token');
    const fresh = await rest(portal.client_endpoint, 'user.current', {}, first.body.access_token);
    expect(fresh.status).toBe(200);
    expect(fresh.body.result.ID).toBe('2');

    const second = await token(refreshParams(first.body.refresh_token));
    expect(second.status).toBe(200);
    const stats = await bed.emu.stats(portal.member_id);
    expect(stats.refreshes).toBeGreaterThanOrEqual(2);
    expect(stats.refresh_failures).toBeGreaterThanOrEqual(1);
  });

  it('lets exactly one of two racing refreshes of the same token win', async () => {
    const launch = await bed.emu.launch(portal.member_id);
    const results = await Promise.all([1, 2].map(() => token(refreshParams(launch.form.REFRESH_ID ?? ''), 'post')));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
  });

  it('says invalid_request without a refresh_token', async () => {
    const res = await token({ grant_type: 'refresh_token', client_id: bed.clientId, client_secret: bed.clientSecret });
    expect(res).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'No "refresh_token" parameter found' } });
  });
});

describe('expiry', () => {
  it('answers 401 expired_token after the control API expires the portal tokens, and a refresh revives', async () => {
    const launch = await bed.emu.launch(portal.member_id);
    expect((await rest(portal.client_endpoint, 'user.current', {}, launch.form.AUTH_ID)).status).toBe(200);
    const { expired } = await bed.emu.expireTokens({ member_id: portal.member_id });
    expect(expired).toBeGreaterThan(0);
    const res = await rest(portal.client_endpoint, 'user.current', {}, launch.form.AUTH_ID);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'expired_token', error_description: 'The access token provided has expired.' });
    const info = await fetch(`${bed.emulator.url}/rest/app.info?auth=${launch.form.AUTH_ID}`);
    expect(info.status).toBe(401);
    const refreshed = await token(refreshParams(launch.form.REFRESH_ID ?? ''));
    expect((await rest(portal.client_endpoint, 'user.current', {}, refreshed.body.access_token)).status).toBe(200);
  });

  it('expires tokens by their lifetime too', async () => {
    const short = await startTestBed({ accessTokenTtl: 0.2 });
    // The emulator runs in this process: a frozen clock, moved past the lifetime, stands for the wait.
    const t0 = Date.now();
    setSystemTime(new Date(t0));
    try {
      const p = await short.emu.createPortal();
      const { launch } = await short.emu.install(p.member_id);
      expect((await rest(p.client_endpoint, 'profile', {}, launch.form.AUTH_ID)).status).toBe(200);
      setSystemTime(new Date(t0 + 250));
      expect((await rest(p.client_endpoint, 'profile', {}, launch.form.AUTH_ID)).body.error).toBe('expired_token');
    } finally {
      setSystemTime();
      await short.stop();
    }
  });
});

describe('GET <server_endpoint>app.info', () => {
  it('describes the token, the app and its installation', async () => {
    const launch = await bed.emu.launch(portal.member_id, 3);
    const res = await fetch(`${bed.emulator.url}/rest/app.info?auth=${launch.form.AUTH_ID}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.result).toEqual({
      client_id: bed.clientId,
      scope: 'user,placement,calendar',
      expires: expect.any(Number),
      user_id: 3,
      install: {
        installed: true,
        version: 1,
        status: 'F',
        scope: 'user,placement,calendar',
        domain: portal.domain,
        uri: portal.portal_url.replace(/\/$/, ''),
        client_endpoint: portal.client_endpoint,
        member_id: portal.member_id,
        member_type: 'PORTAL',
      },
    });
    expect(body.time).toBeDefined();
  });

  it('rejects a made-up token with invalid_client', async () => {
    const res = await fetch(`${bed.emulator.url}/rest/app.info?auth=${'ab'.repeat(35)}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toBe('invalid_client');
  });

  it('says installed=false while the installer has not finished, and NOT_INSTALLED (invalid_client to a refresh) after removal', async () => {
    const p = await bed.emu.createPortal();
    const pending = await bed.emu.launch(p.member_id);
    const before = (await (await fetch(`${bed.emulator.url}/rest/app.info?auth=${pending.form.AUTH_ID}`)).json()) as any;
    expect(before.result.install.installed).toBe(false);
    await bed.emu.install(p.member_id);
    const after = await bed.emu.launch(p.member_id);
    await bed.emu.uninstall(p.member_id, false);
    const res = await fetch(`${bed.emulator.url}/rest/app.info?auth=${after.form.AUTH_ID}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error).toBe('NOT_INSTALLED');
    expect((await rest(p.client_endpoint, 'user.current', {}, after.form.AUTH_ID)).status).toBe(401);
    // settings/oauth/error-codes.md: invalid_client, "the application may not be installed".
    const refresh = await token(refreshParams(after.form.REFRESH_ID ?? ''));
    expect(refresh.body.error).toBe('invalid_client');
  });

  it('keeps the tokens of an earlier installation dead after a reinstall (invalid_grant), and issues a new application_token', async () => {
    const p = await bed.emu.createPortal();
    const first = await bed.emu.install(p.member_id);
    const old = await bed.emu.launch(p.member_id);
    await bed.emu.uninstall(p.member_id, false);
    await bed.emu.install(p.member_id);
    const again = await bed.emu.launch(p.member_id);
    expect(again.form.APPLICATION_TOKEN).not.toBe(first.application_token);
    expect((await token(refreshParams(old.form.REFRESH_ID ?? ''))).body.error).toBe('invalid_grant');
    expect((await rest(p.client_endpoint, 'user.current', {}, old.form.AUTH_ID)).status).toBe(401);
    expect((await token(refreshParams(again.form.REFRESH_ID ?? ''))).body.access_token).toMatch(/^[0-9a-f]{70}$/);
  });
});
