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
  async function startFlow(domain = portal.domain) {
    const res = await fetch(`${s.appUrl}/auth/bitrix24?domain=${encodeURIComponent(domain)}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!);
  }
  async function consent(authorize: URL) {
    const res = await fetch(authorize, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!);
  }

  it('signs the user in with a first-party cookie and opens the cabinet', async () => {
    const authorize = await startFlow();
    expect(authorize.origin).toBe(`http://${portal.domain}`);
    expect(authorize.searchParams.get('client_id')).toBe(s.clientId);
    const callback = await consent(authorize);
    secrets.add(callback.searchParams.get('code'));
    const done = await fetch(callback, { redirect: 'manual' });
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/');
    const cookie = done.headers.get('set-cookie')!;
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    const token = /b24app_session=([^;]+)/.exec(cookie)![1]!;
    secrets.add(token);
    const page = await fetch(`${s.appUrl}/`, { headers: { cookie: `b24app_session=${token}` } });
    const html = await page.text();
    expect(sessionTokenOf(html)).toBe(token);
    expect(html).toContain('Ada');
  });

  it('rejects a reused state', async () => {
    const callback = await consent(await startFlow());
    secrets.add(callback.searchParams.get('code'));
    expect((await fetch(callback, { redirect: 'manual' })).status).toBe(302);
    const again = await fetch(callback, { redirect: 'manual' });
    expect(again.status).toBe(400);
    expect(again.headers.get('set-cookie')).toBeNull();
  });

  it('rejects a missing state', async () => {
    const callback = await consent(await startFlow());
    callback.searchParams.delete('state');
    const res = await fetch(callback, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('rejects a foreign state (issued for another portal) and a state nobody issued', async () => {
    const other = await s.emu.createPortal();
    const mine = await consent(await startFlow());
    const foreign = await startFlow(other.domain);
    mine.searchParams.set('state', foreign.searchParams.get('state')!);
    expect((await fetch(mine, { redirect: 'manual' })).status).toBe(400);
    mine.searchParams.set('state', 'made-up-state-value-000000000000000000000');
    const res = await fetch(mine, { redirect: 'manual' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('Sign-in failed');
  });

  it('refuses a token server outside the allow-list', async () => {
    const callback = await consent(await startFlow());
    callback.searchParams.set('server_domain', 'oauth.attacker.example');
    expect((await fetch(callback, { redirect: 'manual' })).status).toBe(400);
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
