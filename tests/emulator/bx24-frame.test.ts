/**
 * Our own classic BX24 library (served by the emulator at /api/v1/, where BX24_SDK_URL points in dev)
 * inside an app page on localhost, framed by the portal page: init, callMethod with paging, callBatch,
 * an expired token refreshed through the parent, fitWindow, installFinish, and openPath (a portal page
 * in the portal's slider).
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import type { Browser, Frame, Page } from 'playwright-core';
import { gotoPage, launchBrowser } from '../support/browser.ts';
import { startFrameApp, waitForAppFrame, type FrameApp } from './frame-app.ts';
import { emulatorClient, rest, type EmulatorClient } from '../support/emulator-client.ts';
import { waitFor } from '../support/wait-for.ts';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';

// Chromium on a busy 2-core CI machine; bunfig's timeout is not a bun setting, so set it here.
setDefaultTimeout(20_000);

let emulator: Emulator;
let emu: EmulatorClient;
let app: FrameApp;
let browser: Browser;

const CLASSIC_PAGE = (libraryUrl: string, isInstaller: boolean) => `<!doctype html><html><head><meta charset="utf-8">
<script src="${libraryUrl}"></script></head><body><h1>${isInstaller ? 'Installer' : 'App'}</h1><div style="height:800px"></div>
<script>
window.__results = {};
const log = (k, v) => { window.__results[k] = v; };
window.__call = (method, params) => new Promise((resolve) => BX24.callMethod(method, params, resolve));
BX24.init(() => {
  log('lang', BX24.getLang());
  log('admin', BX24.isAdmin());
  log('domain', BX24.getDomain());
  log('placement', BX24.placement.info().placement);
  log('install', !!BX24.getAuth());
  BX24.callMethod('user.get', {}, (page) => {
    log('total', page.total());
    log('more', page.more());
    const rest = () => BX24.callBatch({ me: ['user.current', {}], bad: ['no.such', {}] }, (res) => {
      log('batchMe', res.me.data().NAME);
      log('batchBad', res.bad.error().ex.error);
      BX24.fitWindow(() => log('ready', true));
    });
    if (!page.more()) return rest();
    page.next((second) => {
      log('second', second.data()[0].ID);
      rest();
    });
  });
});
</script></body></html>`;

beforeAll(async () => {
  let libraryUrl = '';
  app = startFrameApp((_variant, isInstaller) => CLASSIC_PAGE(libraryUrl, isInstaller));
  emulator = await startEmulator({ port: 0, burst: 1000, apps: [{ client_id: 'app.classic', client_secret: 'c', app_url: `${app.url}/classic/` }] });
  libraryUrl = `${emulator.url}/api/v1/`;
  emu = emulatorClient(emulator);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await emulator?.stop();
  app?.stop();
});

const appFrame = (page: Page, pathPrefix: string): Promise<Frame> => waitForAppFrame(page, `${app.url}${pathPrefix}`);

describe('the emulator BX24 library inside the portal page', () => {
  it('serves the library where BX24_SDK_URL points', async () => {
    const res = await fetch(`${emulator.url}/api/v1/`);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(await res.text()).toContain('Unable to initialize Bitrix24 JS library!');
  });

  it('runs init, callMethod paging, callBatch, fitWindow and installFinish', async () => {
    const portal = await emu.createPortal({ users: 75 });
    const page = await browser.newPage();
    await gotoPage(page, portal.portal_url);
    const installer = await appFrame(page, '/classic/install');
    expect(await installer.evaluate(() => (window as any).__results)).toEqual({
      lang: 'en', admin: true, domain: portal.domain, placement: 'DEFAULT', install: true,
      total: 75, more: true, second: '51', batchMe: 'Ada', batchBad: 'ERROR_METHOD_NOT_FOUND', ready: true,
    });
    const height = await page.evaluate(() => document.getElementById('b24-app-layout')?.getBoundingClientRect().height);
    expect(height).toBeGreaterThan(800);
    await installer.evaluate(() => (window as any).BX24.installFinish());
    const main = await appFrame(page, '/classic/?');
    expect(await main.evaluate(() => document.querySelector('h1')?.textContent)).toBe('App');
    expect(app.requests.some((r) => r.form.get('event') === 'ONAPPINSTALL' && r.form.get('auth[member_id]') === portal.member_id)).toBe(false);
    await page.close();
  });

  it('refreshes an expired token through the parent (refreshAuth) and repeats the call', async () => {
    const portal = await emu.createPortal();
    await emu.install(portal.member_id);
    const page = await browser.newPage();
    await gotoPage(page, `${portal.portal_url}?user_id=4`);
    const frame = await appFrame(page, '/classic/?');
    const before = await frame.evaluate(() => (window as any).BX24.getAuth().access_token);
    await emu.expireTokens({ member_id: portal.member_id });
    const result = await frame.evaluate(async () => {
      const r = await (window as any).__call('profile', {});
      return { name: r.data().NAME, error: r.error() };
    });
    expect(result).toEqual({ name: 'Мария', error: undefined });
    expect(await frame.evaluate(() => (window as any).BX24.getAuth().access_token)).not.toBe(before);
    expect(await page.evaluate(() => (window as any).__b24emulator.messages)).toContain('refreshAuth');
    await page.close();
  });

  it('openPath shows a path of the portal in its slider and answers close when it closes; other places are PATH_NOT_AVAILABLE', async () => {
    const portal = await emu.createPortal();
    await emu.install(portal.member_id);
    const auth = (await emu.launch(portal.member_id, 3)).form.AUTH_ID!;
    const added = await rest(portal.client_endpoint, 'calendar.event.add', { type: 'user', ownerId: 3, name: 'Review <b>', from: '2026-12-01T10:00:00Z', to: '2026-12-01T11:00:00Z' }, auth);
    const id = added.body.result;
    const page = await browser.newPage();
    await gotoPage(page, `${portal.portal_url}?user_id=3`);
    const frame = await appFrame(page, '/classic/?');
    const openPath = (path: string) => frame.evaluate((path) => new Promise((resolve) => (window as any).BX24.openPath(path, resolve)), path);

    // Refused: not a path, or a path that leaves the portal (also once URI-decoded). No slider opens.
    for (const path of ['https://example.com/company/', '//example.com/company/', '/%2F%2Fexample.com/x', 'company/personal/user/3/', '']) {
      expect({ path, answer: await openPath(path) }).toEqual({ path, answer: { result: 'error', errorCode: 'PATH_NOT_AVAILABLE' } });
    }
    expect(await page.$('.b24-slider')).toBeNull();

    const closed = openPath(`/company/personal/user/3/calendar/?EVENT_ID=${id}`);
    const slider = await waitFor(() => page.frames().find((f) => f.url().includes('/calendar/')), { what: 'the slider page', intervalMs: 20 });
    expect(slider.url()).toBe(`${portal.portal_url}company/personal/user/3/calendar/?EVENT_ID=${id}&from=rest_placement&from_app=app.classic`);
    await slider.waitForSelector('.b24-event-name');
    expect(await slider.textContent('.b24-event-name')).toBe('Review <b>');
    expect(await page.evaluate(() => (window as any).__b24emulator.openedPaths)).toEqual([`/company/personal/user/3/calendar/?EVENT_ID=${id}&from=rest_placement&from_app=app.classic`]);
    await page.waitForFunction(() => document.querySelector('.b24-path-slider .b24-slider-title span')?.textContent === 'Review <b>');
    await page.click('.b24-slider-close');
    expect(await closed).toEqual({ result: 'close' });
    expect(await page.$('.b24-slider')).toBeNull();
    await page.close();
  });
});
