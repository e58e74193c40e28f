import { afterAll, beforeEach, describe, expect, it } from 'bun:test';
import { secretsSeen } from './secrets-seen.ts';
import { sessionTokenOf, startStack, type Stack } from '../support/stack.ts';
import type { EmulatedPortal } from '../support/emulator-client.ts';
import { portalRows, postForm, uninstallEvent } from '../support/portal-rows.ts';

const secrets = secretsSeen();
const stacks: Stack[] = [];
afterAll(async () => {
  for (const s of stacks) {
    expect(secrets.leakedInto(s.logLines)).toEqual([]);
    await s.stop();
  }
});

interface World {
  s: Stack;
  a: EmulatedPortal;
  b: EmulatedPortal;
  applicationToken: string;
  tokenA: string;
}

/** Two installed portals, each with a user session and an item. */
/** The app's clock, moved by tests that wait out the deletion delay of a cleaning uninstall. */
const clock = { now: Math.floor(Date.now() / 1000) };

async function world(): Promise<World> {
  const s = await startStack({ now: () => clock.now });
  stacks.push(s);
  const [a, b] = [await s.emu.createPortal(), await s.emu.createPortal()];
  let applicationToken = '';
  let tokenA = '';
  for (const p of [a, b]) {
    const inst = await s.emu.install(p.member_id);
    secrets.addForm(inst.launch.form);
    const page = await s.launch(await s.emu.launch(p.member_id, 2));
    const token = sessionTokenOf(await page.text())!;
    secrets.add(token);
    const created = await fetch(`${s.appUrl}/api/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `item of ${p.member_id}` }),
    });
    expect(created.status).toBe(201);
    if (p === a) {
      applicationToken = inst.launch.form.APPLICATION_TOKEN!;
      tokenA = token;
    }
  }
  return { s, a, b, applicationToken, tokenA };
}

const rowsOf = (s: Stack, memberId: string) => portalRows(s, memberId);
const postEvent = (s: Stack, path: string, fields: Record<string, string>) => postForm(s.appUrl, path, fields);

describe('ONAPPUNINSTALL', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });

  const forged: [string, (w: World) => Record<string, string>][] = [
    ['a wrong application_token', (w) => uninstallEvent(w.a, 'f'.repeat(32))],
    ['no application_token', (w) => uninstallEvent(w.a, null)],
    ['an unknown member_id', (w) => ({ ...uninstallEvent(w.a, w.applicationToken), 'auth[member_id]': 'feedfeedfeedfeedfeedfeedfeedfeed' })],
    ["portal B's token for portal A", (w) => uninstallEvent(w.a, '0'.repeat(32))],
  ];
  for (const [name, fields] of forged) {
    it(`refuses ${name} with 401 and deletes nothing`, async () => {
      const before = await rowsOf(w.s, w.a.member_id);
      const res = await postEvent(w.s, '/events', fields(w));
      expect(res.status).toBe(401);
      expect(await rowsOf(w.s, w.a.member_id)).toEqual(before);
    });
  }

  it('refuses the right application_token (seen in every launch form) while the app is still installed', async () => {
    const before = await rowsOf(w.s, w.a.member_id);
    const res = await postEvent(w.s, '/events', uninstallEvent(w.a, w.applicationToken));
    expect(res.status).toBe(403);
    expect(await rowsOf(w.s, w.a.member_id)).toEqual(before);
    expect(w.s.logLines.some((l) => l.includes('forged uninstall refused'))).toBe(true);
  });

  it('with CLEAN=1 closes the portal at once and removes every row of it, and none of another, after the deletion delay', async () => {
    const otherBefore = await rowsOf(w.s, w.b.member_id);
    const r = await w.s.emu.uninstall(w.a.member_id, true);
    expect(r.app_status).toBe('uninstalled');
    expect(await rowsOf(w.s, w.a.member_id)).toMatchObject({ status: 'uninstalled', items: 1, sessions: 0, tokens: 0 });
    expect(await w.s.server.app.runLifecycleJobs()).toMatchObject({ purged: 0 });
    clock.now += 3601;
    expect(await w.s.server.app.runLifecycleJobs()).toMatchObject({ purged: 1 });
    expect(await rowsOf(w.s, w.a.member_id)).toBeNull();
    for (const table of ['users', 'sessions', 'items', 'portal_tokens']) {
      const orphans = (await w.s.sqlOne<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE portal_id NOT IN (SELECT id FROM portals)`))!;
      expect(orphans.n).toBe(0);
    }
    expect(await rowsOf(w.s, w.b.member_id)).toEqual(otherBefore);
  });

  it('without CLEAN keeps items, closes sessions and deletes tokens, marks the portal uninstalled', async () => {
    await w.s.emu.uninstall(w.a.member_id, false);
    const after = (await rowsOf(w.s, w.a.member_id))!;
    expect(after).toMatchObject({ status: 'uninstalled', items: 1, sessions: 0, tokens: 0 });
    // A closed session says why at once: the app was removed (an htmx click gets the toast, no renewal).
    const me = await fetch(`${w.s.appUrl}/api/users/current`, { headers: { authorization: `Bearer ${w.tokenA}` } });
    expect(me.status).toBe(401);
    expect(((await me.json()) as { error: { code: string } }).error.code).toBe('not_installed');
    const click = await fetch(`${w.s.appUrl}/ui/items`, { headers: { authorization: `Bearer ${w.tokenA}`, 'hx-request': 'true' } });
    expect([click.status, click.headers.get('x-error-code')]).toEqual([401, 'not_installed']);
    expect(JSON.parse(click.headers.get('hx-trigger')!)).toMatchObject({ toast: { code: 'not_installed' } });
  });
});

describe('ONAPPINSTALL', () => {
  it('stores tokens encrypted and only a hash of the application token', async () => {
    const w = await world();
    const inst = await w.s.emu.install(w.a.member_id);
    secrets.addForm(inst.launch.form);
    const raw = JSON.stringify(await w.s.sql('SELECT * FROM portal_tokens')) + JSON.stringify(await w.s.sql('SELECT * FROM portals'));
    expect(raw).not.toContain(w.applicationToken);
    // The install delivered a real access/refresh pair: none of it is readable in the database.
    const access = (await w.s.store.tokens.find(1, { kind: 'app' }))!;
    expect(access.accessToken.length).toBeGreaterThan(16);
    expect(raw).not.toContain(access.accessToken);
    expect(raw).not.toContain(access.refreshToken);
  });

  it('refuses a forged re-install of a known portal and changes nothing', async () => {
    const w = await world();
    const before = await rowsOf(w.s, w.a.member_id);
    const tokensBefore = await w.s.sql('SELECT * FROM portal_tokens ORDER BY id');
    for (const path of ['/install', '/events']) {
      const res = await postEvent(w.s, path, {
        event: 'ONAPPINSTALL',
        'data[VERSION]': '1',
        'auth[access_token]': 'a'.repeat(64),
        'auth[refresh_token]': 'r'.repeat(64),
        'auth[expires_in]': '3600',
        'auth[domain]': w.a.domain,
        'auth[member_id]': w.a.member_id,
        'auth[client_endpoint]': w.a.client_endpoint,
        'auth[server_endpoint]': `${w.s.emulator.url}/rest/`,
        'auth[application_token]': 'attacker-chosen-token-0000000000',
        'auth[user_id]': '1',
      });
      expect(res.status).toBe(401);
    }
    expect(await rowsOf(w.s, w.a.member_id)).toEqual(before);
    expect(await w.s.sql('SELECT * FROM portal_tokens ORDER BY id')).toEqual(tokensBefore);
  });
});

describe('other events', () => {
  it('are accepted with the right application token and refused without', async () => {
    const w = await world();
    const event = { event: 'ONAPPUPDATE', 'auth[member_id]': w.a.member_id, 'auth[domain]': w.a.domain };
    expect((await postEvent(w.s, '/events', { ...event, 'auth[application_token]': w.applicationToken })).status).toBe(200);
    expect((await postEvent(w.s, '/events', { ...event, 'auth[application_token]': 'nope' })).status).toBe(401);
  });
});
