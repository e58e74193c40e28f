/**
 * Our own classic BX24 library (served by the emulator at /api/v1/, where BX24_SDK_URL points in dev)
 * inside an app page on localhost, framed by the portal page: init, callMethod with paging, callBatch,
 * an expired token refreshed through the parent, fitWindow, and installFinish.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import type { Browser, Frame, Page } from 'playwright-core';
import { gotoPage, launchBrowser } from '../support/browser.ts';
import { startFrameApp, waitForAppFrame, type FrameApp } from './frame-app.ts';
import { emulatorClient, type EmulatorClient } from '../support/emulator-client.ts';
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
});
