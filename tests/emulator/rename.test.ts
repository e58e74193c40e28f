/**
 * A renamed portal (`/_emulator/portals/:member_id/rename`): the former domain answers 302 to the same
 * path and query on the new one, for any method, and everything the portal says afterwards carries the
 * new domain. member_id, installations and tokens stay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { rest } from '../support/emulator-client.ts';
import { freePort } from '../support/stack.ts';
import { startTestBed, type TestBed } from '../support/test-bed.ts';

let bed: TestBed;

beforeAll(async () => {
  bed = await startTestBed();
});
afterAll(() => bed.stop());

async function installed() {
  const portal = await bed.emu.createPortal({ api_only: true });
  const { launch } = await bed.emu.install(portal.member_id);
  return { portal, access: launch.form.AUTH_ID ?? '' };
}

describe('POST /_emulator/portals/:member_id/rename', () => {
  it('moves the portal to a new domain of its own, keeping member_id', async () => {
    const { portal } = await installed();
    const renamed = await bed.emu.rename(portal.member_id);
    expect(renamed.old_domain).toBe(portal.domain);
    expect(renamed.domain).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(renamed.domain).not.toBe(portal.domain);
    expect(renamed.portal_url).toBe(`http://${renamed.domain}/`);
    expect(renamed.client_endpoint).toBe(`http://${renamed.domain}/rest/`);
    const listed = (await bed.emu.portals()).find((p) => p.member_id === portal.member_id);
    expect(listed).toMatchObject({ domain: renamed.domain, client_endpoint: renamed.client_endpoint });
  });

  it('takes the domain asked for (host:port), and refuses one that is not host:port', async () => {
    const { portal } = await installed();
    const port = await freePort();
    expect(await bed.emu.rename(portal.member_id, { domain: `localhost:${port}` })).toMatchObject({ domain: `localhost:${port}`, client_endpoint: `http://localhost:${port}/rest/` });
    await expect(bed.emu.rename(portal.member_id, { domain: 'renamed.example' })).rejects.toMatchObject({ status: 400 });
    await expect(bed.emu.rename('f'.repeat(32))).rejects.toMatchObject({ status: 404 });
  });
});

describe('the former domain', () => {
  it('answers any REST request, POST or GET, with 302 to the same path and query on the new endpoint', async () => {
    const { portal, access } = await installed();
    const { client_endpoint } = await bed.emu.rename(portal.member_id);
    const post = await fetch(`${portal.client_endpoint}user.current.json?start=0&x=%D0%B9`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: access }),
      redirect: 'manual',
    });
    expect(post.status).toBe(302);
    expect(post.headers.get('location')).toBe(`${client_endpoint}user.current.json?start=0&x=%D0%B9`);
    const get = await fetch(`${portal.client_endpoint}profile?auth=${access}`, { redirect: 'manual' });
    expect(get.status).toBe(302);
    expect(get.headers.get('location')).toBe(`${client_endpoint}profile?auth=${access}`);
    // Re-sent to the new address, as change-domen.md says a client must, the POST works with the same token.
    const resent = await rest(client_endpoint, 'user.current', {}, access);
    expect(resent).toMatchObject({ status: 200, body: { result: { ID: '1' } } });
    expect((await bed.emu.stats(portal.member_id)).portal_redirects).toBe(2);
  });

  it('redirects to the latest domain after a second rename, and serves again after a rename back', async () => {
    const { portal, access } = await installed();
    const first = await bed.emu.rename(portal.member_id);
    const second = await bed.emu.rename(portal.member_id);
    for (const former of [portal.client_endpoint, first.client_endpoint]) {
      const res = await fetch(`${former}app.info?auth=${access}`, { redirect: 'manual' });
      expect(res.headers.get('location')).toBe(`${second.client_endpoint}app.info?auth=${access}`);
    }
    const back = await bed.emu.rename(portal.member_id, { domain: portal.domain });
    expect(back).toMatchObject({ old_domain: second.domain, domain: portal.domain });
    expect((await rest(portal.client_endpoint, 'user.current', {}, access)).status).toBe(200);
    expect((await fetch(`${second.client_endpoint}user.current`, { method: 'POST', redirect: 'manual' })).status).toBe(302);
  });
});

describe('after a rename the portal speaks with its new domain', () => {
  it('in launches, token answers, event auth and the OAuth server\'s app.info', async () => {
    const { portal, access } = await installed();
    await rest(portal.client_endpoint, 'event.bind', { event: 'ONAPPTEST', handler: `${bed.app.url}/renamed-events` }, access);
    const renamed = await bed.emu.rename(portal.member_id);

    const launch = await bed.emu.launch(portal.member_id);
    expect(launch.query.DOMAIN).toBe(renamed.domain);
    expect(launch.iframe_name.startsWith(`${renamed.domain}|`)).toBe(true);
    expect(launch.form.member_id).toBe(portal.member_id);

    const info = (await (await fetch(`${bed.emulator.url}/rest/app.info?auth=${launch.form.AUTH_ID}`)).json()) as any;
    expect(info.result.install).toMatchObject({ domain: renamed.domain, uri: `http://${renamed.domain}`, client_endpoint: renamed.client_endpoint, member_id: portal.member_id });

    // The refresh comes last: it kills the launch's access token.
    const refreshed = await fetch(
      `${bed.emulator.url}/oauth/token/?${new URLSearchParams({ grant_type: 'refresh_token', client_id: bed.clientId, client_secret: bed.clientSecret, refresh_token: launch.form.REFRESH_ID ?? '' })}`,
    );
    expect(((await refreshed.json()) as { client_endpoint: string }).client_endpoint).toBe(renamed.client_endpoint);

    await rest(renamed.client_endpoint, 'event.test', {}, access);
    const [event] = await bed.app.waitFor((c) => c.path === '/renamed-events' && c.form.get('auth[member_id]') === portal.member_id);
    expect(event?.form.get('auth[domain]')).toBe(renamed.domain);
    expect(event?.form.get('auth[client_endpoint]')).toBe(renamed.client_endpoint);
  });

  it('serves the portal page at the new address and redirects the old one', async () => {
    const { portal } = await installed();
    const renamed = await bed.emu.rename(portal.member_id);
    const page = await fetch(`${renamed.portal_url}?user_id=1`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`${renamed.domain}|0|`);
    const old = await fetch(`${portal.portal_url}?user_id=1`, { redirect: 'manual' });
    expect(old.status).toBe(302);
    expect(old.headers.get('location')).toBe(`${renamed.portal_url}?user_id=1`);
  });
});
