/**
 * Found by a red-team review of keeping a refusal with a dead token row (read as the OAuth server's
 * answer for REFUSAL_FRESH_SEC). The window is measured with each reader's own clock against a stamp written
 * with the writer's clock, with no lower bound: a stamp from an instance whose clock runs ahead stays
 * "fresh" for as long as the skew. With anything that makes a refresh answer `invalid_client` while the
 * app is installed (the documented wrong BITRIX24_CLIENT_SECRET on one instance, a `b24app doctor` run
 * with a stale secret), every ordinary user's forged ONAPPUNINSTALL closes an installed portal for that
 * whole time instead of "2 minutes, never longer" (docs/install-lifecycle.md). And, the last case here,
 * even within the 2 minutes a refusal stored by an instance with a wrong secret is no proof to the
 * others: they ask again with their own (portal-uninstall.ts, `askAgain`).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'bun:test';
import { runDoctor } from '../../src/cli/doctor.ts';
import { clockFromSeconds } from '../../src/clock.ts';
import { createApp } from '../../src/app.ts';
import { createTokenCipher } from '../../src/auth/secrets.ts';
import { createLogger } from '../../src/log.ts';
import { rest } from '../support/emulator-client.ts';
import { portalRows, postForm, uninstallEvent } from '../support/portal-rows.ts';
import type { Stack } from '../support/stack.ts';
import { testConfig, TEST_APP_SECRET } from '../support/config.ts';
import { createItem, killAppTokens, openApp, portalIdOf, timedStack, type TimedStack } from './lifecycle-world.ts';

const stacks: Stack[] = [];
const others: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const o of others) await o.close();
  for (const s of stacks) await s.stop();
});

/** A second instance over the stack's database, with its own clock and (mis)configured client secret. */
async function instance(s: Stack, now: () => number, clientSecret: string) {
  const clock = clockFromSeconds(now);
  const store = await s.database.open({ cipher: createTokenCipher(TEST_APP_SECRET), clock });
  const config = testConfig({
    PUBLIC_URL: s.appUrl,
    BITRIX24_CLIENT_ID: s.clientId,
    BITRIX24_CLIENT_SECRET: clientSecret,
    BITRIX24_OAUTH_SERVERS: s.emulator.url,
    BX24_SDK_URL: `${s.emulator.url}/api/v1/`,
    DATABASE_URL: s.database.url,
    LOG_LEVEL: 'error',
  });
  const app = createApp({ config, store, logger: createLogger('error', { write: () => undefined }), clock });
  const handle = { app, close: () => store.close() };
  others.push(handle);
  return handle;
}

async function installedPortal(s: TimedStack) {
  const p = await s.emu.createPortal({});
  const inst = await s.emu.install(p.member_id);
  const user = await s.emu.launch(p.member_id, 2);
  const opened = await openApp(s, user);
  expect(opened.status).toBe(200);
  await createItem(s, opened.session!, 'an item');
  // What every user holds: the APPLICATION_TOKEN of their own launch form.
  expect(user.form.APPLICATION_TOKEN).toBe(inst.application_token);
  return { p, applicationToken: user.form.APPLICATION_TOKEN! };
}

describe('a refusal stamped by an instance whose clock runs ahead', () => {
  it('is no answer outside the 2 minutes after it, on the reader\'s clock: a forged uninstall an hour later is refused once asked again', async () => {
    const s = await timedStack();
    stacks.push(s);
    const w = await installedPortal(s);
    const portalId = await portalIdOf(s, w.p.member_id);
    // One instance of the deployment has a wrong client secret and a clock two hours ahead.
    const skewed = await instance(s, () => s.clock.now + 7200, 'secret-wrong-0000');
    await s.emu.expireTokens();
    await skewed.app.runOfflineEvents();
    const row = (await s.store.tokens.find(portalId, { kind: 'app' }))!;
    expect(row).toMatchObject({ dead: true, refusal: { code: 'invalid_client' } });
    expect(row.refusal!.at).toBeGreaterThan(s.clock.now + 7000);
    // The app is installed all along (emulator's view).
    const fresh = await s.emu.launch(w.p.member_id, 3);
    expect((await rest(w.p.client_endpoint, 'app.info', {}, fresh.form.AUTH_ID!)).status).toBe(200);
    // An hour later by every other clock, an ordinary user posts ONAPPUNINSTALL with CLEAN=1.
    s.clock.now += 3600;
    const res = await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken, '1', s.clock.now));
    expect(res.status).toBe(403); // the correct instance asked Bitrix24 itself: the app is installed
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', items: 1 });
  });
});

describe('`b24app doctor` run with a stale BITRIX24_CLIENT_SECRET (serve has the right one)', () => {
  it('kills no tokens and leaves no refusal: serve still refreshes them, and an ordinary user\'s forged uninstall right after is refused', async () => {
    const APP_SECRET = randomBytes(32).toString('hex');
    const s = await timedStack({ env: { APP_SECRET } });
    stacks.push(s);
    const w = await installedPortal(s);
    await s.emu.expireTokens(); // the app's access token aged out, as an idle portal's does every hour
    await runDoctor({
      env: {
        PUBLIC_URL: s.appUrl,
        HOST: '127.0.0.1',
        PORT: new URL(s.appUrl).port,
        BITRIX24_CLIENT_ID: s.clientId,
        BITRIX24_CLIENT_SECRET: 'secret-stale-from-an-old-env-file',
        BITRIX24_OAUTH_SERVERS: s.emulator.url,
        APP_SECRET,
        DATABASE_URL: s.database.url,
      },
      write: () => undefined,
      color: false,
      timeoutMs: 3000,
    });
    // Nothing written down: the app's tokens are not killed, serve (with the right secret) refreshes them.
    const portalId = await portalIdOf(s, w.p.member_id);
    expect(await s.store.tokens.find(portalId, { kind: 'app' })).toMatchObject({ dead: false, refusal: null, refreshLeaseUntil: null });
    const res = await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken, '1', s.clock.now));
    expect(res.status).toBe(403); // serve asked Bitrix24 itself: the app is installed
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', items: 1 });
    expect(await s.store.tokens.find(portalId, { kind: 'app' })).toMatchObject({ dead: false });
  });
});

/**
 * An installed portal whose app tokens an instance with a wrong client secret has just found refused:
 * `invalid_client`, kept with the dead row, while the refresh token still works for everyone else.
 */
async function refusedByAWrongSecret() {
  const s = await timedStack();
  stacks.push(s);
  const w = await installedPortal(s);
  const portalId = await portalIdOf(s, w.p.member_id);
  const misconfigured = await instance(s, () => s.clock.now, 'secret-wrong-0000');
  await s.emu.expireTokens();
  await misconfigured.app.runOfflineEvents(); // its refresh of the app's tokens: invalid_client
  expect(await s.store.tokens.find(portalId, { kind: 'app' })).toMatchObject({ dead: true, refusal: { code: 'invalid_client', at: s.clock.now } });
  return { s, w, portalId };
}

describe('one instance with a wrong BITRIX24_CLIENT_SECRET, the others right', () => {
  it('its refusal, fresh, is no proof to the others: an ordinary user\'s forged uninstall right after is refused, and the tokens live again', async () => {
    const { s, w, portalId } = await refusedByAWrongSecret();
    // Seconds later, well inside the 2 minutes, an ordinary user posts ONAPPUNINSTALL with CLEAN=1 and
    // the correctly configured instance takes it: it asks Bitrix24 itself, with its own secret.
    s.clock.now += 5;
    const res = await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken, '1', s.clock.now));
    expect(res.status).toBe(403);
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', items: 1 });
    expect(await s.store.tokens.find(portalId, { kind: 'app' })).toMatchObject({ dead: false, refusal: null });
  });
});

describe('the same refusal, older than 2 minutes (found by a red-team review)', () => {
  it('is still no proof: the claim a forged CLEAN=1 uninstall leaves is disproved, not carried out, when the grace period ends', async () => {
    const { s, w, portalId } = await refusedByAWrongSecret();
    // The user waits out the 2 minutes, then posts the forged event; the correct instance asks again.
    s.clock.now += 121;
    expect((await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken, '1', s.clock.now))).status).toBe(403);
    s.clock.now += 8 * 86_400;
    await s.server.app.runLifecycleJobs();
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', items: 1 });
    expect(await s.store.tokens.find(portalId, { kind: 'app' })).toMatchObject({ dead: false });
  });
});

describe('forged uninstalls against app tokens dead for good (found by a red-team review)', () => {
  it('send Bitrix24 two refreshes, not one each: the first event\'s, then the re-check\'s, whose refusal stands for a while', async () => {
    const s = await timedStack();
    stacks.push(s);
    const w = await installedPortal(s);
    await killAppTokens(s, w.p.member_id); // an idle refresh token: invalid_grant from now on
    const before = await s.emu.stats();
    for (let i = 0; i < 30; i++) {
      const res = await postForm(s.appUrl, '/events', uninstallEvent(w.p, w.applicationToken, '1', s.clock.now));
      expect(res.status).toBe(202); // dead for good: only a claim, as before
    }
    const after = await s.emu.stats();
    // The first event's refresh finds the tokens dead; the second event asks again (a stored refusal is
    // no proof) and is refused too; the other 28 reuse that answer.
    expect(after.refreshes + after.refresh_failures - (before.refreshes + before.refresh_failures)).toBe(2);
    expect(await portalRows(s, w.p.member_id)).toMatchObject({ status: 'installed', items: 1 });
  });
});
