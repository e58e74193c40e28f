import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { sha256Hex } from '../../src/auth/secrets.ts';
import { secretsSeen } from './secrets-seen.ts';
import { sessionTokenOf, startStack, type Stack } from '../support/stack.ts';
import type { EmulatedPortal, LaunchParams } from '../support/emulator-client.ts';

let s: Stack;
let installed: EmulatedPortal; // our app installed, known to the app
let stranger: EmulatedPortal; // our app not installed: the app has never heard of it
const secrets = secretsSeen();

const count = async (table: string) => (await s.sqlOne<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n;
const portalRow = (memberId: string) => s.sqlOne('SELECT * FROM portals WHERE member_id = ?', [memberId]);

async function genuineLaunch(memberId: string, userId = 1): Promise<LaunchParams> {
  const l = await s.emu.launch(memberId, userId);
  secrets.addForm(l.form);
  return l;
}

beforeAll(async () => {
  s = await startStack();
  installed = await s.emu.createPortal();
  stranger = await s.emu.createPortal();
  const inst = await s.emu.install(installed.member_id);
  secrets.addForm(inst.launch.form);
});
afterAll(async () => {
  expect(secrets.size).toBeGreaterThan(0);
  expect(secrets.leakedInto(s.logLines)).toEqual([]);
  await s.stop();
});

describe('POST / (launch)', () => {
  it('opens a session for exactly the verified (portal, user)', async () => {
    const l = await genuineLaunch(installed.member_id, 2);
    const res = await s.launch(l);
    expect(res.status).toBe(200);
    const html = await res.text();
    const token = sessionTokenOf(html)!;
    expect(token).toBeTruthy();
    secrets.add(token);
    const me = await fetch(`${s.appUrl}/api/users/current`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    const body = (await me.json()) as { id: number; is_admin: boolean; portal: { member_id: string; domain: string } };
    expect(body.id).toBe(2);
    expect(body.is_admin).toBe(false);
    expect(body.portal).toEqual({ member_id: installed.member_id, domain: installed.domain });
    const portalId = (await portalRow(installed.member_id))!.id;
    const sessions = await s.sql('SELECT portal_id, user_id FROM sessions');
    expect(sessions).toContainEqual({ portal_id: portalId, user_id: 2 });
  });

  it('lets the portal frame it and nobody else', async () => {
    const res = await s.launch(await genuineLaunch(installed.member_id));
    const csp = res.headers.get('content-security-policy')!;
    // Exactly the verified portal's origin: no wildcard, no other portal, no allow-list.
    expect(csp.split('; ').find((d) => d.startsWith('frame-ancestors'))).toBe(`frame-ancestors http://${installed.domain}`);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  const forgeries: { name: string; forge: () => { form?: Record<string, string>; query?: Record<string, string> } }[] = [
    { name: 'a forged AUTH_ID', forge: () => ({ form: { AUTH_ID: 'f'.repeat(70), member_id: stranger.member_id }, query: { DOMAIN: stranger.domain } }) },
    { name: "a real token but another portal's member_id", forge: () => ({ form: { member_id: stranger.member_id } }) },
    { name: 'a real token but a DOMAIN pointing elsewhere', forge: () => ({ query: { DOMAIN: 'attacker.example.com' } }) },
    { name: "a real token but another portal's DOMAIN", forge: () => ({ query: { DOMAIN: stranger.domain } }) },
    { name: 'a SERVER_ENDPOINT of the attacker', forge: () => ({ form: { AUTH_ID: 'a'.repeat(64), SERVER_ENDPOINT: 'http://127.0.0.1:9/rest/' } }) },
    { name: 'malformed parameters', forge: () => ({ form: { AUTH_ID: '<script>', member_id: '../../etc' }, query: { DOMAIN: '"><img>' } }) },
  ];

  for (const f of forgeries) {
    it(`refuses ${f.name}: 401, no session, no portal row`, async () => {
      const before = await count('sessions');
      const res = await s.launch(await genuineLaunch(installed.member_id), f.forge());
      expect(res.status).toBe(401);
      const html = await res.text();
      expect(sessionTokenOf(html)).toBeNull();
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await count('sessions')).toBe(before);
      expect(await portalRow(stranger.member_id)).toBeNull();
      expect(html).not.toContain('<script>');
      expect(html).not.toContain('"><img>');
    });
  }

  it("refuses a genuine token of another application on another portal", async () => {
    const other = { client_id: 'local.0ther0ther0the.00000001', client_secret: 'other-app-secret-value', app_url: 'http://127.0.0.1:9/' };
    await s.emu.registerApp(other);
    const victim = await s.emu.createPortal();
    await s.emu.install(victim.member_id, { client_id: other.client_id });
    const l = await s.emu.launch(victim.member_id, 1, { client_id: other.client_id });
    secrets.addForm(l.form);
    const before = await count('sessions');
    const res = await s.launch(l);
    expect(res.status).toBe(401);
    expect(await count('sessions')).toBe(before);
    expect(await portalRow(victim.member_id)).toBeNull();
  });

  it('never calls a portal URL taken from the request', async () => {
    // DOMAIN names a server that would answer anything; the app must not even ask it.
    let asked = 0;
    const fake = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => (asked++, Response.json({ result: { ID: '1' }, time: {} })) });
    const res = await s.launch(await genuineLaunch(installed.member_id), { query: { DOMAIN: `127.0.0.1:${fake.port}` } });
    expect(res.status).toBe(401);
    expect(asked).toBe(0);
    await fake.stop(true);
  });

  it('shows how to open the app when there is no launch and no session', async () => {
    const res = await fetch(`${s.appUrl}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Open this app from your Bitrix24 portal');
    expect(html).toContain('/auth/bitrix24');
  });
});

describe('the access log', () => {
  const requestLines = () => s.logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
  const tagOf = (memberId: string) => sha256Hex(memberId).slice(0, 16);

  it('names the portal by a hash of its member_id once Bitrix24 vouched for it, and never before', async () => {
    const from = requestLines().length;
    const res = await s.launch(await genuineLaunch(installed.member_id, 2));
    const token = sessionTokenOf(await res.text())!;
    secrets.add(token);
    await fetch(`${s.appUrl}/api/users/current`, { headers: { authorization: `Bearer ${token}` } });
    // Claims the installed portal's member_id, with a token of nobody.
    await s.launch(await genuineLaunch(installed.member_id), { form: { AUTH_ID: 'f'.repeat(70) } });
    await fetch(`${s.appUrl}/api/users/current`, { headers: { authorization: `Bearer ${'x'.repeat(43)}` } });
    const [launch, me, forged, unknownSession] = requestLines().slice(from);
    expect(launch).toMatchObject({ route: '/', status: 200, portal: tagOf(installed.member_id) });
    expect(me).toMatchObject({ route: '/api/users/current', status: 200, portal: tagOf(installed.member_id) });
    expect(forged).toMatchObject({ route: '/', status: 401 });
    expect(forged.portal).toBeUndefined();
    expect(unknownSession).toMatchObject({ route: '/api/users/current', status: 401 });
    expect(unknownSession.portal).toBeUndefined();
    for (const line of [launch, me, forged, unknownSession]) expect(JSON.stringify(line)).not.toContain(installed.member_id);
  });
});

describe('POST /api/session', () => {
  it('exchanges fresh BX24 auth for a new session', async () => {
    const l = await genuineLaunch(installed.member_id, 3);
    const res = await fetch(`${s.appUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ AUTH_ID: l.form.AUTH_ID, DOMAIN: installed.domain, member_id: installed.member_id }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; expires_at: number; user: { id: number } };
    secrets.add(body.token);
    expect(body.user.id).toBe(3);
    expect(body.expires_at).toBeGreaterThan(Date.now() / 1000);
    const me = await fetch(`${s.appUrl}/api/users/current`, { headers: { authorization: `Bearer ${body.token}` } });
    expect(((await me.json()) as { id: number }).id).toBe(3);
  });

  it('refuses a forged token with 401 and a JSON error', async () => {
    const res = await fetch(`${s.appUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ AUTH_ID: 'b'.repeat(64), DOMAIN: installed.domain, member_id: installed.member_id }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('answers malformed bodies with 4xx, never 500', async () => {
    for (const body of ['{', '[]', JSON.stringify({ AUTH_ID: 1 }), '']) {
      const res = await fetch(`${s.appUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });
});

describe('sessions', () => {
  it('rejects unknown, malformed and missing tokens on the API', async () => {
    for (const auth of [undefined, 'Bearer nope', `Bearer ${'x'.repeat(43)}`, 'Basic abc']) {
      const res = await fetch(`${s.appUrl}/api/users/current`, { headers: auth ? { authorization: auth } : {} });
      expect(res.status).toBe(401);
    }
  });

  it('stores only a hash of the session token', async () => {
    const res = await s.launch(await genuineLaunch(installed.member_id));
    const token = sessionTokenOf(await res.text())!;
    secrets.add(token);
    const ids = (await s.sql<{ id_hash: string }>('SELECT id_hash FROM sessions')).map((r) => r.id_hash);
    expect(ids).not.toContain(token);
    expect(ids).toContain(new Bun.CryptoHasher('sha256').update(token).digest('hex'));
  });

  it('refuses a cookie-authenticated unsafe request from another site, but not a header-authenticated one', async () => {
    const res = await s.launch(await genuineLaunch(installed.member_id));
    const token = sessionTokenOf(await res.text())!;
    const body = JSON.stringify({ name: 'csrf' });
    const crossSite = await fetch(`${s.appUrl}/api/items`, {
      method: 'POST',
      headers: { cookie: `b24app_session=${token}`, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
      body,
    });
    expect(crossSite.status).toBe(403);
    const withHeader = await fetch(`${s.appUrl}/api/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, origin: 'https://evil.example', 'content-type': 'application/json' },
      body,
    });
    expect(withHeader.status).toBe(201);
  });
});

describe('a portal whose install never reached the app', () => {
  it("opens for users as pending (never on a cached verdict), and an administrator's launch installs it", async () => {
    const lost = await startStack({ emulator: {} });
    try {
      // An API-only portal whose ONAPPINSTALL went to a dead address: "late or lost", as the platform doc warns.
      const app = { client_id: lost.clientId, client_secret: lost.clientSecret, app_url: lost.appUrl, install_url: 'http://127.0.0.1:9/install' };
      await lost.emu.registerApp(app);
      const p = await lost.emu.createPortal({ api_only: true });
      await lost.emu.install(p.member_id);
      const user = await lost.emu.launch(p.member_id, 2);
      secrets.addForm(user.form);
      expect((await lost.launch(user)).status).toBe(200);
      const row = () => lost.sqlOne('SELECT status, application_token_hash FROM portals WHERE member_id = ?', [p.member_id]);
      expect(await row()).toEqual({ status: 'pending', application_token_hash: null });
      const asked = (await lost.emu.stats()).app_info_calls!;
      expect((await lost.launch(user)).status).toBe(200);
      expect((await lost.emu.stats()).app_info_calls).toBe(asked + 1); // asked again, not served from the cache
      const admin = await lost.emu.launch(p.member_id, 1);
      secrets.addForm(admin.form);
      expect((await lost.launch(admin)).status).toBe(200);
      expect(await row()).toEqual({ status: 'installed', application_token_hash: sha256Hex(admin.form.APPLICATION_TOKEN!) });
    } finally {
      await lost.stop();
    }
  });
});

describe('POST /api/session with REFRESH_ID', () => {
  it("keeps the fresh pair as the user's tokens, so server-side calls work again", async () => {
    const l = await genuineLaunch(installed.member_id, 4);
    const res = await fetch(`${s.appUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ AUTH_ID: l.form.AUTH_ID, REFRESH_ID: l.form.REFRESH_ID, DOMAIN: installed.domain, member_id: installed.member_id }),
    });
    expect(res.status).toBe(200);
    secrets.add(((await res.json()) as { token: string }).token);
    const portalId = (await portalRow(installed.member_id))!.id;
    const stored = (await s.store.tokens.find(portalId, { kind: 'user', userId: 4 }))!;
    expect(stored.refreshToken).toBe(l.form.REFRESH_ID!);
    expect(stored.accessToken).toBe(l.form.AUTH_ID!);
  });
});

describe('error pages', () => {
  it("speak the launch's language", async () => {
    const res = await s.launch(await genuineLaunch(installed.member_id), { form: { AUTH_ID: 'e'.repeat(64) }, query: { LANG: 'ru' } });
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toContain('<html lang="ru">');
    expect(html).toContain('Не удалось подтвердить запуск в Битрикс24');
  });

  it("fall back to the browser's language outside the frame", async () => {
    const res = await fetch(`${s.appUrl}/auth/bitrix24?domain=not..a..domain`, { headers: { 'accept-language': 'ru-RU,ru;q=0.9' } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Вход не удался');
    const en = await fetch(`${s.appUrl}/auth/bitrix24?domain=not..a..domain`, { headers: { 'accept-language': 'de-DE' } });
    expect(await en.text()).toContain('Sign-in failed');
  });
});
