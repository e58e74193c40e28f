/**
 * When Bitrix24's OAuth server does not answer, genuine users must not pay for it: an outage is not a
 * failed verification (no 401, never the limiter's 429), the caller is told to retry (503 with
 * Retry-After), and the server that did answer is asked first from then on.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { startStack, type Stack } from '../support/stack.ts';

const stacks: Stack[] = [];
const faulty: { stop(force?: boolean): unknown }[] = [];
afterAll(async () => {
  for (const s of stacks) await s.stop();
  for (const f of faulty) f.stop(true);
});

/** An allow-listed "OAuth server" that counts requests and answers each with a 502. */
function brokenOAuthServer() {
  let hits = 0;
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => (hits++, new Response('Bad gateway', { status: 502 })) });
  faulty.push(server);
  return { origin: `http://127.0.0.1:${server.port}`, hits: () => hits };
}

const renew = (s: Stack, form: Record<string, string>, domain: string) =>
  fetch(`${s.appUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ AUTH_ID: form.AUTH_ID, DOMAIN: domain, member_id: form.member_id }),
  });

describe('an OAuth server that does not answer', () => {
  it('is skipped for the one that does, which is then asked first', async () => {
    const broken = brokenOAuthServer();
    // The broken server first in the allow-list; /api/session carries no SERVER_ENDPOINT hint.
    const stack = await startStackWith(broken.origin);
    // Installed at the portal without the app hearing of it (API-only, its install URL down), so the
    // renewals below are the app's first questions to any OAuth server.
    await stack.emu.registerApp({ client_id: stack.clientId, client_secret: stack.clientSecret, app_url: stack.appUrl, install_url: 'http://127.0.0.1:9/install' });
    const p = await stack.emu.createPortal({ api_only: true });
    await stack.emu.install(p.member_id);
    const first = await stack.emu.launch(p.member_id, 2);
    expect((await renew(stack, first.form, p.domain)).status).toBe(200);
    const hitsAfterFirst = broken.hits();
    expect(hitsAfterFirst).toBe(1);
    const second = await stack.emu.launch(p.member_id, 3);
    expect((await renew(stack, second.form, p.domain)).status).toBe(200);
    expect(broken.hits()).toBe(hitsAfterFirst);
  });

  it('during an outage answers 503 with Retry-After, never 401, and never counts it against the user', async () => {
    const broken = brokenOAuthServer();
    const stack = await startStackWith(broken.origin);
    const p = await stack.emu.createPortal();
    await stack.emu.install(p.member_id);
    const l = await stack.emu.launch(p.member_id, 2);
    await stack.emulator.stop(); // the whole platform is gone: the emulator's OAuth server too
    const statuses = new Set<number>();
    for (let i = 0; i < 25; i++) {
      const res = await renew(stack, l.form, p.domain);
      statuses.add(res.status);
      if (i === 0) {
        expect(res.headers.get('retry-after')).toBe('5');
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
      }
    }
    expect([...statuses]).toEqual([503]);
    const page = await stack.launch(l);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('Bitrix24 is not answering');
  });
});

async function startStackWith(brokenOrigin: string): Promise<Stack> {
  const s = await startStack({ oauthServersBefore: [brokenOrigin] });
  stacks.push(s);
  return s;
}
