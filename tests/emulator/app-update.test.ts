/**
 * An app update reaching a portal (`/_emulator/portals/:member_id/update`): VERSION goes up, ONAPPUPDATE
 * goes to the handlers bound before the update with the documented payload, and the portal has dropped
 * every event binding of the app by the time it arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { rest } from '../support/emulator-client.ts';
import { startTestBed, type TestBed } from '../support/test-bed.ts';

let bed: TestBed;

beforeAll(async () => {
  bed = await startTestBed();
});
afterAll(() => bed.stop());

async function installed(lang = 'en') {
  const portal = await bed.emu.createPortal({ api_only: true, lang });
  const { launch, application_token } = await bed.emu.install(portal.member_id);
  return { portal, access: launch.form.AUTH_ID ?? '', applicationToken: application_token };
}

describe('POST /_emulator/portals/:member_id/update', () => {
  it('sends ONAPPUPDATE with VERSION, PREVIOUS_VERSION, LANGUAGE_ID and a token pair, form-encoded', async () => {
    const { portal, access, applicationToken } = await installed('de');
    const handler = `${bed.app.url}/updated`;
    await rest(portal.client_endpoint, 'event.bind', { event: 'ONAPPUPDATE', handler }, access);
    const result = await bed.emu.update(portal.member_id);
    expect(result).toMatchObject({ version: 2, dropped_bindings: 1, deliveries: [{ url: handler, status: 200 }] });
    const [event] = bed.app.requests.filter((r) => r.path === '/updated' && r.form.get('auth[member_id]') === portal.member_id);
    expect(event?.contentType).toBe('application/x-www-form-urlencoded');
    const form = Object.fromEntries(event?.form ?? []);
    expect(Object.keys(form).sort()).toEqual(
      [
        'event', 'event_handler_id', 'ts', 'data[VERSION]', 'data[PREVIOUS_VERSION]', 'data[LANGUAGE_ID]',
        'auth[access_token]', 'auth[refresh_token]', 'auth[expires]', 'auth[expires_in]', 'auth[scope]', 'auth[domain]',
        'auth[client_endpoint]', 'auth[server_endpoint]', 'auth[member_id]', 'auth[application_token]', 'auth[status]', 'auth[user_id]',
      ].sort(),
    );
    expect(form).toMatchObject({
      event: 'ONAPPUPDATE',
      'data[VERSION]': '2',
      'data[PREVIOUS_VERSION]': '1',
      'data[LANGUAGE_ID]': 'de',
      'auth[domain]': portal.domain,
      'auth[client_endpoint]': portal.client_endpoint,
      'auth[application_token]': applicationToken,
      'auth[status]': 'F',
      'auth[user_id]': '1',
    });
    const tokens = await rest(portal.client_endpoint, 'app.info', {}, form['auth[access_token]']);
    expect(tokens.body.result).toMatchObject({ VERSION: 2 });
  });

  it('leaves the portal without the app\'s event bindings, online and offline; event.get shows none', async () => {
    const { portal, access } = await installed();
    for (const event of ['ONAPPUPDATE', 'ONCALENDARENTRYADD', 'ONAPPUNINSTALL']) {
      await rest(portal.client_endpoint, 'event.bind', { event, handler: `${bed.app.url}/bound` }, access);
    }
    await rest(portal.client_endpoint, 'event.bind', { event: 'ONCALENDARENTRYUPDATE', event_type: 'offline' }, access);
    expect((await rest(portal.client_endpoint, 'event.get', {}, access)).body.result).toHaveLength(4);
    const result = await bed.emu.update(portal.member_id, { version: 7 });
    expect(result).toMatchObject({ version: 7, dropped_bindings: 4 });
    expect(result.deliveries).toHaveLength(1);
    expect((await rest(portal.client_endpoint, 'event.get', {}, access)).body.result).toEqual([]);
    // Nothing is bound any more, so the next update reaches nobody.
    expect(await bed.emu.update(portal.member_id)).toEqual({ version: 8, deliveries: [], dropped_bindings: 0 });
    expect((await rest(portal.client_endpoint, 'app.info', {}, access)).body.result.VERSION).toBe(8);
  });

  it('lets the app re-bind while it handles ONAPPUPDATE: the drop comes before the delivery', async () => {
    const { portal, access } = await installed();
    const rebinder = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(req) {
        const form = new URLSearchParams(await req.text());
        const token = form.get('auth[access_token]') ?? '';
        await rest(form.get('auth[client_endpoint]') ?? '', 'event.bind', { event: 'ONAPPUPDATE', handler: `http://127.0.0.1:${rebinder.port}/again` }, token);
        return new Response('ok');
      },
    });
    try {
      await rest(portal.client_endpoint, 'event.bind', { event: 'ONAPPUPDATE', handler: `http://127.0.0.1:${rebinder.port}/first` }, access);
      const result = await bed.emu.update(portal.member_id);
      expect(result.deliveries).toEqual([{ url: `http://127.0.0.1:${rebinder.port}/first`, status: 200 }]);
      const bound = (await rest(portal.client_endpoint, 'event.get', {}, access)).body.result;
      expect(bound).toEqual([{ event: 'ONAPPUPDATE', handler: `http://127.0.0.1:${rebinder.port}/again`, auth_type: '0', offline: 0 }]);
    } finally {
      rebinder.stop(true);
    }
  });

  it('refuses a version that is not above the installed one, and an app that is not on the portal', async () => {
    const { portal } = await installed();
    await expect(bed.emu.update(portal.member_id, { version: 1 })).rejects.toMatchObject({ status: 400 });
    await bed.emu.registerApp({ client_id: 'app.absent', client_secret: 's', app_url: `${bed.app.url}/absent/` });
    await expect(bed.emu.update(portal.member_id, { client_id: 'app.absent' })).rejects.toMatchObject({ status: 409 });
  });
});
