/**
 * Fidelity in the browser: the official b24jssdk UMD build (`B24Frame`) inside an app page on
 * localhost, framed by the emulator's portal page on 127.0.0.1 — init, a REST call, a token refresh
 * through the parent, fitWindow, and installFinish with the reload into the app page.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { mkdirSync } from 'node:fs';
import type { Browser, Frame, Page } from 'playwright-core';
import { gotoPage, launchBrowser } from '../support/browser.ts';
import { startFrameApp, waitForAppFrame, type FrameApp } from './frame-app.ts';
import { emulatorClient, rest, type EmulatorClient } from '../support/emulator-client.ts';
import { waitFor } from '../support/wait-for.ts';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';

const SDK_PAGE = (isInstaller: boolean) => `<!doctype html><html><head><meta charset="utf-8"><script src="/umd.js"></script></head>
<body><h1>${isInstaller ? 'Installer' : 'App'}</h1><div style="height:900px">tall</div>
<script>
window.__results = {};
const log = (k, v) => { window.__results[k] = v; };
window.__run = async (fn) => { try { return await fn(window.$b24); } catch (e) { return 'ERR ' + (e && (e.code || e.message) || e); } };
(async () => {
  try {
    const $b24 = await B24Js.initializeB24Frame();
    window.$b24 = $b24;
    log('install', $b24.isInstallMode);
    log('lang', $b24.getLang());
    log('admin', $b24.auth.isAdmin);
    const r = await $b24.actions.v2.call.make({ method: 'user.current', params: {} });
    log('user', r.getData().result.NAME);
    await $b24.parent.fitWindow();
    log('fit', true);
    log('ready', true);
  } catch (e) { log('error', String(e && (e.code || e.message) || e)); }
})();
</script></body></html>`;

// Chromium on a busy 2-core CI machine; bunfig's timeout is not a bun setting, so set it here.
setDefaultTimeout(20_000);

let emulator: Emulator;
let emu: EmulatorClient;
let app: FrameApp;
let browser: Browser;

beforeAll(async () => {
  app = startFrameApp((_variant, isInstaller) => SDK_PAGE(isInstaller));
  emulator = await startEmulator({ port: 0, apps: [{ client_id: 'app.sdk', client_secret: 'sdk-secret', app_url: `${app.url}/sdk/`, title: 'SDK app' }] });
  emu = emulatorClient(emulator);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await emulator?.stop();
  app?.stop();
});

const appFrame = (page: Page, pathPrefix: string): Promise<Frame> => waitForAppFrame(page, `${app.url}${pathPrefix}`);

describe('b24jssdk B24Frame inside the portal page', () => {
  it('installs through the installer page: init, REST, fitWindow, installFinish, reload into the app', async () => {
    const portal = await emu.createPortal();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await gotoPage(page, `${portal.portal_url}?user_id=1`);

    const installer = await appFrame(page, '/sdk/install');
    const results = await installer.evaluate(() => (window as any).__results);
    expect(results).toEqual({ install: true, lang: 'en', admin: true, user: 'Ada', fit: true, ready: true });
    expect(await installer.evaluate(() => window.name)).toMatch(new RegExp(`^127\\.0\\.0\\.1:\\d+\\|0\\|[0-9a-f]{32}$`));
    const launchPost = app.requests.find((r) => r.path === '/sdk/install' && r.method === 'POST' && r.form.has('AUTH_ID'));
    expect(launchPost?.form.get('member_id')).toBe(portal.member_id);
    expect(launchPost?.form.get('PLACEMENT')).toBe('DEFAULT');
    const height = await page.evaluate(() => document.getElementById('b24-app-layout')?.getBoundingClientRect().height);
    expect(height).toBeGreaterThan(900);

    const finished = installer.evaluate(() => (window as any).__run(($b24: any) => $b24.installFinish().then(() => 'done')));
    // installFinish reloads the portal page, which may tear down the frame before the call returns:
    // what counts is what follows, asserted below: the app page loads with INSTALL=false, install_finished=Y.
    await finished.catch(() => undefined);
    const main = await appFrame(page, '/sdk/?');
    expect(await main.evaluate(() => (window as any).__results)).toMatchObject({ install: false, user: 'Ada', ready: true });
    expect(page.url()).toContain('install_finished=Y');
    // An app with an installer page gets no ONAPPINSTALL (installation-master.md vs installation-callback.md).
    expect(app.requests.some((r) => r.form.get('event') === 'ONAPPINSTALL' && r.form.get('auth[member_id]') === portal.member_id)).toBe(false);

    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/emulator-portal-sdk.png' });
    const messages = await page.evaluate(() => (window as any).__b24emulator.messages);
    expect(messages).toEqual(expect.arrayContaining(['getInitData', 'resizeWindow']));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refreshes an expired token through the parent and retries the call', async () => {
    const portal = await emu.createPortal();
    await emu.install(portal.member_id, { client_id: 'app.sdk' });
    const page = await browser.newPage();
    await gotoPage(page, `${portal.portal_url}?user_id=2`);
    const frame = await appFrame(page, '/sdk/?');
    expect(await frame.evaluate(() => (window as any).__results)).toMatchObject({ install: false, admin: false, user: 'Иван' });
    await emu.expireTokens({ member_id: portal.member_id });
    const name = await frame.evaluate(() =>
      (window as any).__run(async ($b24: any) => (await $b24.actions.v2.call.make({ method: 'profile', params: {} })).getData().result.NAME),
    );
    expect(name).toBe('Иван');
    expect(await page.evaluate(() => (window as any).__b24emulator.messages)).toContain('refreshAuth');
    await page.close();
  });

  it('shows non-admins a "not fully installed" notice while the app is being installed', async () => {
    const portal = await emu.createPortal();
    const page = await browser.newPage();
    await gotoPage(page, `${portal.portal_url}?user_id=3`);
    expect(await page.textContent('body')).toContain('not fully installed');
    expect(page.frames()).toHaveLength(1);
    await page.close();
  });

  it('passes PLACEMENT_OPTIONS from the page address and handles setTitle and options', async () => {
    const portal = await emu.createPortal();
    const { launch } = await emu.install(portal.member_id);
    const page = await browser.newPage();
    await gotoPage(page, `${portal.portal_url}?user_id=1&item=42`);
    const frame = await appFrame(page, '/sdk/?');
    expect(await frame.evaluate(() => (window as any).$b24.placement.options)).toEqual({ item: '42' });
    await frame.evaluate(() => (window as any).__run(($b24: any) => $b24.parent.setTitle('Привет <b>')));
    await page.waitForFunction(() => document.getElementById('pagetitle')?.textContent === 'Привет <b>');
    await frame.evaluate(() => (window as any).__run(($b24: any) => $b24.options.appSet('color', 'green')));
    const info = await rest(portal.client_endpoint, 'app.option.get', {}, launch.form.AUTH_ID);
    expect(info.body.result).toEqual({ color: 'green' });
    await page.close();
  });

  it('opens the app in a slider with PLACEMENT_OPTIONS and answers the opener when it closes', async () => {
    const portal = await emu.createPortal();
    await emu.install(portal.member_id);
    const page = await browser.newPage();
    await gotoPage(page, portal.portal_url);
    const main = await appFrame(page, '/sdk/?');
    const closed = main.evaluate(() => (window as any).__run(($b24: any) => $b24.slider.openSliderAppPage({ item: 7, bx24_title: 'Item 7' }).then(() => 'closed')));
    const slider = await waitFor(() => page.frames().filter((f) => f.url().startsWith(`${app.url}/sdk/?`))[1], { what: 'the slider frame', intervalMs: 20 });
    await slider.waitForFunction(() => (window as any).__results?.ready, undefined, { timeout: 5000 });
    expect(await slider.evaluate(() => (window as any).$b24.placement.options)).toEqual({ item: '7' });
    expect(await page.textContent('.b24-slider-title')).toBe('Item 7');
    // Closing removes the slider's frame, so this evaluate may end with "frame detached".
    await slider.evaluate(() => (window as any).__run(($b24: any) => $b24.slider.closeSliderAppPage())).catch(() => undefined);
    expect(await closed).toBe('closed');
    expect(await page.$('.b24-slider')).toBeNull();
    await page.close();
  });
});
