import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { secretsSeen } from './secrets-seen.ts';
import { sessionTokenOf, startStack, type Stack } from '../support/stack.ts';
import type { EmulatedPortal } from '../support/emulator-client.ts';

let s: Stack;
let portal: EmulatedPortal;
const secrets = secretsSeen();

beforeAll(async () => {
  s = await startStack();
  portal = await s.emu.createPortal();
  const inst = await s.emu.install(portal.member_id);
  secrets.addForm(inst.launch.form);
});
afterAll(async () => {
  expect(secrets.leakedInto(s.logLines)).toEqual([]);
  await s.stop();
});

describe('/install page', () => {
  const hostile = '"><script>alert(document.domain)</script><img src=x onerror=alert(1)>';

  it('escapes a hostile DOMAIN and never echoes it', async () => {
    for (const method of ['GET', 'POST']) {
      const url = `${s.appUrl}/install?DOMAIN=${encodeURIComponent(hostile)}&LANG=${encodeURIComponent(hostile)}&APP_SID=${encodeURIComponent(hostile)}`;
      const body = method === 'POST' ? new URLSearchParams({ AUTH_ID: 'x'.repeat(40), member_id: hostile, PLACEMENT_OPTIONS: hostile }) : undefined;
      const res = await fetch(url, { method, body });
      const html = await res.text();
      expect(res.status).toBeLessThan(500);
      expect(html).not.toContain('<script>alert');
      expect(html).not.toContain('onerror=alert');
    }
  });

  it('renders the installer for a verified admin, ready to call installFinish', async () => {
    const l = await s.emu.launch(portal.member_id, 1);
    secrets.addForm(l.form);
    const url = new URL(`${s.appUrl}/install`);
    for (const [k, v] of Object.entries(l.query)) url.searchParams.set(k, v);
    const res = await fetch(url, { method: 'POST', body: new URLSearchParams(l.form) });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('data-install="finish"');
    expect(html).toContain(`${s.emulator.url}/api/v1/`); // BX24 library from BX24_SDK_URL
    expect(res.headers.get('content-security-policy')).toContain(`frame-ancestors http://${portal.domain}`);
  });

  it('tells a non-admin that only an administrator can finish the install', async () => {
    const l = await s.emu.launch(portal.member_id, 2);
    secrets.addForm(l.form);
    const url = new URL(`${s.appUrl}/install`);
    for (const [k, v] of Object.entries(l.query)) url.searchParams.set(k, v);
    const html = await (await fetch(url, { method: 'POST', body: new URLSearchParams(l.form) })).text();
    expect(html).toContain('data-install="denied"');
    expect(html).toContain('Only a portal administrator');
  });
});

describe('GET /auth/bitrix24 (OAuth code flow)', () => {
  /** The browser's side of the flow: the authorize URL, and the first-party cookie binding the state to it. */
  async function startFlow(domain = portal.domain) {
    const res = await fetch(`${s.appUrl}/auth/bitrix24?domain=${encodeURIComponent(domain)}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const cookie = /b24app_oauth=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!;
    expect(res.headers.get('set-cookie')).toContain('HttpOnly');
    return { authorize: new URL(res.headers.get('location')!), cookie: `b24app_oauth=${cookie}` };
  }
  async function consent(flow: { authorize: URL; cookie: string }) {
    const res = await fetch(flow.authorize, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const callback = new URL(res.headers.get('location')!);
    secrets.add(callback.searchParams.get('code'));
    return { callback, cookie: flow.cookie };
  }
  const finish = (c: { callback: URL; cookie: string }) => fetch(c.callback, { redirect: 'manual', headers: { cookie: c.cookie } });

  it('signs the user in with a first-party cookie and opens the cabinet', async () => {
    const flow = await startFlow();
    expect(flow.authorize.origin).toBe(`http://${portal.domain}`);
    expect(flow.authorize.searchParams.get('client_id')).toBe(s.clientId);
    const done = await finish(await consent(flow));
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/');
    const cookie = done.headers.get('set-cookie')!;
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('b24app_oauth=;'); // the binding cookie is spent
    const token = /b24app_session=([^;]+)/.exec(cookie)![1]!;
    secrets.add(token);
    const page = await fetch(`${s.appUrl}/`, { headers: { cookie: `b24app_session=${token}` } });
    const html = await page.text();
    expect(sessionTokenOf(html)).toBe(token);
    expect(html).toContain('Ada');
  });

  it('rejects a reused state', async () => {
    const c = await consent(await startFlow());
    expect((await finish(c)).status).toBe(302);
    const again = await finish(c);
    expect(again.status).toBe(400);
    expect(again.headers.get('set-cookie')).toBeNull();
  });

  it('rejects a missing state', async () => {
    const c = await consent(await startFlow());
    c.callback.searchParams.delete('state');
    const res = await finish(c);
    expect(res.status).toBe(400);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a callback in a browser that did not start the flow (login CSRF), and keeps it usable by the one that did', async () => {
    const attackers = await consent(await startFlow());
    const victim = await fetch(attackers.callback, { redirect: 'manual' });
    expect(victim.status).toBe(400);
    expect(victim.headers.get('set-cookie')).toBeNull();
    const otherBrowser = await startFlow();
    expect((await finish({ callback: attackers.callback, cookie: otherBrowser.cookie })).status).toBe(400);
  });

  it('rejects a foreign state (issued for another portal) and a state nobody issued', async () => {
    const other = await s.emu.createPortal();
    secrets.addForm((await s.emu.install(other.member_id)).launch.form);
    const mine = await consent(await startFlow());
    const foreign = await startFlow(other.domain);
    mine.callback.searchParams.set('state', foreign.authorize.searchParams.get('state')!);
    expect((await finish({ callback: mine.callback, cookie: foreign.cookie })).status).toBe(400);
    mine.callback.searchParams.set('state', 'made-up-state-value-000000000000000000000');
    const res = await finish(mine);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('Sign-in failed');
  });

  it('refuses a token server outside the allow-list', async () => {
    const c = await consent(await startFlow());
    c.callback.searchParams.set('server_domain', 'oauth.attacker.example');
    expect((await finish(c)).status).toBe(400);
  });

  it('starts only at Bitrix24 portals: no redirect to any other domain, a clear 400 for a bad one', async () => {
    for (const domain of ['evil.example', 'bitrix24.ru.evil.example', 'a.bitrix24.com:99999', '127.0.0.1:1']) {
      const res = await fetch(`${s.appUrl}/auth/bitrix24?domain=${encodeURIComponent(domain)}`, { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    }
    const cloud = await fetch(`${s.appUrl}/auth/bitrix24?domain=acme.bitrix24.ru`, { redirect: 'manual' });
    expect(cloud.status).toBe(302);
    expect(new URL(cloud.headers.get('location')!).host).toBe('acme.bitrix24.ru');
  });

  it('passes an OAuth callback that lands on the handler URL to /auth/bitrix24', async () => {
    const res = await fetch(`${s.appUrl}/?code=abc&state=def`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/auth/bitrix24?code=abc&state=def');
  });
});

describe('failed verification attempts', () => {
  it('answer 429 after a burst of forged launches, without asking the OAuth server again', async () => {
    const own = await startStack();
    try {
      const p = await own.emu.createPortal();
      await own.emu.install(p.member_id);
      const forged = { AUTH_ID: 'f'.repeat(64), member_id: p.member_id };
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await own.launch({ url: '', query: { DOMAIN: p.domain }, form: forged })).status);
      expect(new Set(statuses)).toEqual(new Set([401]));
      const asked = (await own.emu.stats()).app_info_calls!;
      const limited = await own.launch({ url: '', query: { DOMAIN: p.domain }, form: forged });
      expect(limited.status).toBe(429);
      const session = await fetch(`${own.appUrl}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ AUTH_ID: forged.AUTH_ID, DOMAIN: p.domain, member_id: p.member_id }),
      });
      expect(session.status).toBe(429);
      expect((await own.emu.stats()).app_info_calls).toBe(asked);
    } finally {
      await own.stop();
    }
  });
});
