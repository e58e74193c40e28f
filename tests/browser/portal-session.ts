/**
 * One user's browser tab on the emulated portal page, with the app in its cross-site frame: opening
 * the page, finding the app frame, what the tab logged and sent, screenshots, axe-core, and the
 * artefacts a failing journey leaves in test-output/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { BrowserContext, Frame, Page, Request } from 'playwright-core';
import { gotoPage, launchBrowserContext } from '../support/browser.ts';
import { waitFor } from '../support/wait-for.ts';

export const OUTPUT_DIR = 'test-output';
const AXE_SOURCE = readFileSync('node_modules/axe-core/axe.min.js', 'utf8');

export type CookieMode = 'default' | 'blocked';

/**
 * A browser for a cookie mode. `blocked`: no cookie of the app's site (localhost) while it is framed by
 * a portal (127.0.0.1), partitioned ones included; tests assert that the cookie really stays away.
 */
export const contextFor = (mode: CookieMode): Promise<BrowserContext> =>
  launchBrowserContext(mode === 'blocked' ? { blockThirdPartyCookies: { embedded: 'http://localhost:*', under: 'http://127.0.0.1:*' } } : {});

export interface SeenRequest {
  method: string;
  /** Path without the query. */
  path: string;
  cookie: boolean;
  authorization: boolean;
  status?: number;
}

export interface PortalTab {
  page: Page;
  /** Every console line and page error of the tab and its frames. */
  console: string[];
  /**
   * Requests from the tab to the app (not the portal), with whether a cookie and a bearer went along
   * (as the page sent them; a test's own page.route rewrites are not reflected).
   */
  requests: SeenRequest[];
  /** The app's frame (the current one: it changes when the portal page reloads). */
  frame(pathPrefix?: string): Promise<Frame>;
  close(): Promise<void>;
}

export async function openPortalTab(context: BrowserContext, appUrl: string, pageUrl: string): Promise<PortalTab> {
  const page = await context.newPage();
  const consoleLines: string[] = [];
  const requests: SeenRequest[] = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
  const byRequest = new Map<Request, SeenRequest>();
  page.on('request', (r) => {
    if (!r.url().startsWith(appUrl)) return;
    const seen: SeenRequest = { method: r.method(), path: new URL(r.url()).pathname, cookie: false, authorization: false };
    requests.push(seen);
    byRequest.set(r, seen);
    // allHeaders() holds what really went on the wire, cookies included.
    void r.allHeaders().then((h) => {
      seen.cookie = /(^|;\s*)b24app_session=/.test(h.cookie ?? '');
      seen.authorization = /^Bearer /.test(h.authorization ?? '');
    }, () => {});
  });
  page.on('response', (res) => {
    const seen = byRequest.get(res.request());
    if (seen) seen.status = res.status();
  });
  await page.bringToFront();
  await gotoPage(page, pageUrl);

  return {
    page,
    console: consoleLines,
    requests,
    async frame(pathPrefix = '/') {
      const f = await waitFor(() => page.frames().find((fr) => !fr.isDetached() && fr.url().startsWith(appUrl + pathPrefix) && fr !== page.mainFrame()), {
        what: `an app frame at ${pathPrefix}`,
        intervalMs: 25,
      }).catch((e: Error) => {
        throw new Error(`${e.message}; frames: ${page.frames().map((fr) => fr.url()).join(', ')}`);
      });
      await f.waitForLoadState('load');
      return f;
    },
    close: () => page.close(),
  };
}

/** The cabinet is ready when htmx and the island run and BX24 has fitted the frame at least once. */
export async function cabinetFrame(tab: PortalTab): Promise<Frame> {
  const frame = await tab.frame('/');
  await frame.waitForSelector('#item-list');
  await frame.waitForFunction(() => Boolean((window as any).htmx && (window as any).Alpine));
  await tab.page.waitForFunction(() => (window as any).__b24emulator?.messages.includes('resizeWindow'));
  return frame;
}

/** Height of the box the portal gives the app (the parent applies the frame's resizeWindow to it). */
export const layoutHeight = (page: Page) => page.evaluate(() => document.getElementById('b24-app-layout')!.getBoundingClientRect().height);

/** axe-core in the app frame; returns serious and critical violations as readable lines. */
export async function seriousA11yViolations(frame: Frame): Promise<string[]> {
  // evaluate() runs outside the page's CSP (script-src 'self'), so axe needs no CSP bypass.
  if (!(await frame.evaluate(() => Boolean((window as any).axe)))) await frame.evaluate(AXE_SOURCE);
  const violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[] = await frame.evaluate(async () => {
    const result = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: any) => ({ target: n.target })) }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** The portal page at 1280 px and at 375 px (where the portal folds its left menu away, as on a phone). */
export async function screenshotBoth(tab: PortalTab, name: string): Promise<void> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const { page } = tab;
  const before = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.screenshot({ path: `${OUTPUT_DIR}/${name}-1280.png`, fullPage: true });
  // A phone-sized viewport as tall as the page, shot as a viewport: Chromium's full-page capture of a
  // page whose cross-process frame has just been resized sometimes shows a stale, half-drawn frame.
  await page.setViewportSize({ width: 375, height: 812 });
  await framesSettled(page);
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: 375, height: Math.min(height, 6000) });
  await framesSettled(page);
  await page.screenshot({ path: `${OUTPUT_DIR}/${name}-375.png` });
  await page.setViewportSize(before);
  await framesSettled(page);
}

/**
 * After a viewport change the app frame (another process) lays out and paints a little later than the
 * portal page: wait until its own viewport is as wide as its box, its height was refitted, and two
 * frames have been painted, so a screenshot shows the app at the new size rather than half-drawn.
 */
async function framesSettled(page: Page): Promise<void> {
  const box = page.locator('#b24-app-frame');
  if ((await box.count()) === 0) return;
  const frame = await (await box.elementHandle())?.contentFrame();
  if (!frame) return;
  // Best effort: a frame that never settles is still shot (the screenshot shows why).
  await waitFor(
    async () => {
      const outer = await box.evaluate((el) => el.getBoundingClientRect());
      const inner = await frame.evaluate(() => ({ width: window.innerWidth, content: document.body.getBoundingClientRect().height })).catch(() => null);
      return inner !== null && Math.abs(inner.width - outer.width) <= 2 && Math.abs(inner.content - outer.height) <= 2;
    },
    { what: 'the app frame to fit its box', intervalMs: 50, timeoutMs: 3000 },
  ).catch(() => undefined);
  await framesPainted(page, frame);
}

/**
 * Before a click in the app: waits until the portal has fitted the app's box to the frame's content
 * (public/frame.js sends the body's height, or down to an open dialog, with BX24.fitWindow after every
 * change) and both have painted that layout (framesPainted). While the portal is still resizing the
 * frame, a click can land on the portal's <iframe> element instead of in the app, and nothing happens.
 */
export async function appSteady(frame: Frame): Promise<void> {
  const page = frame.page();
  await waitFor(
    async () => {
      const box = await page.evaluate(() => document.getElementById('b24-app-layout')?.getBoundingClientRect().height ?? null);
      if (box === null) return true; // no portal box around this frame
      const content = await frame.evaluate(() => {
        let h = document.body.getBoundingClientRect().height;
        const d = document.getElementById('dialog') as HTMLDialogElement | null;
        if (d?.open) h = Math.max(h, d.getBoundingClientRect().bottom - document.documentElement.getBoundingClientRect().top + 16);
        return Math.ceil(h);
      });
      return Math.abs(box - content) <= 1;
    },
    { what: 'the portal to fit the app frame to its content', intervalMs: 20 },
  );
  await framesPainted(page, frame);
}

/**
 * Two animation frames in the portal page and then in the app frame: both have painted their current
 * layout. Chromium routes a click into the cross-process app frame by the last painted layout, so a
 * click right after the page moved (scroll, viewport change) can land on the portal's <iframe> element
 * instead of in the app.
 */
export async function framesPainted(page: Page, frame: Frame): Promise<void> {
  const twoFrames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  await page.evaluate(twoFrames).catch(() => {});
  await frame.evaluate(twoFrames).catch(() => {});
}

/** Runs a journey step; on failure leaves a screenshot and the tab's console and requests in test-output/. */
export async function withArtefacts<T>(name: string, tabs: () => PortalTab[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    for (const [i, tab] of tabs().filter((t) => !t.page.isClosed()).entries()) {
      const base = `${OUTPUT_DIR}/FAILED-${name}${i ? `-tab${i}` : ''}`;
      await tab.page.screenshot({ path: `${base}.png`, fullPage: true }).catch(() => {});
      const requests = tab.requests.map((r) => `${r.method} ${r.path} -> ${r.status ?? '?'} cookie=${r.cookie} bearer=${r.authorization}`);
      writeFileSync(`${base}.console.txt`, [...tab.console, '', '--- requests to the app ---', ...requests].join('\n'));
    }
    throw e;
  }
}
