/**
 * "In calendar" opens the event in Bitrix24, in real Chromium inside the emulated portal: the user adds
 * an item to the calendar, clicks its badge, and the portal shows the event's page in its slider
 * (BX24.openPath) — not a new tab; closing the slider leaves the app as it was. Where the portal
 * refuses the path, or the frame has no openPath, the same page opens in a new tab instead. Runs in
 * both languages.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { translator } from '../../views/i18n.ts';
import type { EmulatedPortal } from '../support/emulator-client.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { waitFor } from '../support/wait-for.ts';
import * as act from './cabinet-actions.ts';
import { appSteady, cabinetFrame, contextFor, openPortalTab, seriousA11yViolations, withArtefacts, type PortalTab } from './portal-session.ts';

// Chromium on a busy 2-core CI machine; bunfig's timeout is not a bun setting, so set it here.
setDefaultTimeout(60_000);
const TIMEOUT = 8_000;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

for (const lang of ['en', 'ru'] as const) {
  describe(`the calendar badge opens the event in Bitrix24 (${lang})`, () => {
    const t = translator(lang);
    const STEP = { timeout: TIMEOUT, t };
    const name = lang === 'ru' ? 'Встреча с «Альфой»' : 'Meeting with <Alpha> & co';
    let context: BrowserContext;
    let portal: EmulatedPortal;
    let tab: PortalTab;
    let frame: Frame;
    let path = '';
    const step = (title: string, fn: () => Promise<void>) => it(title, () => withArtefacts(`calendar-open-${lang}-${title.slice(0, 40).replace(/\W+/g, '-')}`, () => [tab], fn));
    const badge = () => frame.getByRole('link', { name: t('calendarOpenLabel', { state: t('inCalendar') }), exact: true });
    /** Where the context's other pages are (the browser's own blank page, and any new tab). */
    const otherPages = () => context.pages().filter((p) => p !== tab.page).map((p) => p.url());

    beforeAll(async () => {
      context = await contextFor('default');
      context.setDefaultTimeout(TIMEOUT);
      portal = await stack.emu.createPortal({ lang });
      await stack.emu.install(portal.member_id);
      tab = await openPortalTab(context, stack.appUrl, `${portal.portal_url}?user_id=2`);
      frame = await cabinetFrame(tab);
    });
    afterAll(async () => {
      await context?.close();
    });

    step('added to the calendar, the badge is a link to the event', async () => {
      await act.createItem(frame, name, { ...STEP, startsAt: '2030-03-05T14:00' });
      const link = await act.addToCalendar(frame, name, STEP);
      path = (await link.getAttribute('data-open-path')) ?? '';
      expect(path).toMatch(/^\/company\/personal\/user\/2\/calendar\/\?EVENT_ID=\d+$/);
      expect(await link.getAttribute('href')).toBe(`${portal.portal_url.replace(/\/$/, '')}${path}`);
      expect((await link.textContent())?.trim()).toBe(t('inCalendar'));
      expect(await seriousA11yViolations(frame)).toEqual([]);
    });

    step('a click opens the event in the portal\'s slider, not in a new tab; closing it returns to the app', async () => {
      const pagesBefore = otherPages();
      await appSteady(frame);
      await badge().click();
      const slider = tab.page.locator('.b24-path-slider');
      await slider.waitFor({ timeout: TIMEOUT });
      const page = await waitFor(() => tab.page.frames().find((f) => f.url().includes('/calendar/?EVENT_ID=')), { what: 'the event page in the slider', intervalMs: 20 });
      await page.waitForSelector('.b24-event-name');
      expect(await page.textContent('.b24-event-name')).toBe(name);
      expect(await page.locator('.b24-event-from time').getAttribute('datetime')).toBe('2030-03-05T14:00:00+00:00');
      expect(await tab.page.evaluate(() => (window as any).__b24emulator.openedPaths)).toEqual([`${path}&from=rest_placement&from_app=${stack.clientId}`]);
      expect(otherPages()).toEqual(pagesBefore);
      await tab.page.locator('.b24-slider-close').click();
      await slider.waitFor({ state: 'detached', timeout: TIMEOUT });
      // The app is as it was: the row, its link, no error toast.
      expect(await badge().count()).toBe(1);
      expect(await act.errorToasts(frame)).toEqual([]);
    });

    step('where the portal refuses the path, the event opens in a new tab', async () => {
      await frame.evaluate(() => {
        const asked: string[] = ((window as any).__openPathAsked = []);
        (window as any).BX24.openPath = (path: string, cb: (r: unknown) => void) => {
          asked.push(path);
          cb({ result: 'error', errorCode: 'PATH_NOT_AVAILABLE' });
        };
      });
      const opened = await newTabOf(context, () => badge().click());
      // The island asked the portal first, and opened the tab only after it refused.
      expect(await frame.evaluate(() => (window as any).__openPathAsked)).toEqual([path]);
      expect(opened.url()).toBe(`${portal.portal_url.replace(/\/$/, '')}${path}`);
      expect(await opened.textContent('.b24-event-name')).toBe(name);
      await opened.close();
      expect(await tab.page.locator('.b24-path-slider').count()).toBe(0);
    });

    step('without BX24.openPath the link itself opens the event in a new tab', async () => {
      await frame.evaluate(() => {
        delete (window as any).BX24.openPath;
      });
      const opened = await newTabOf(context, () => badge().click());
      expect(opened.url()).toBe(`${portal.portal_url.replace(/\/$/, '')}${path}`);
      expect(await opened.textContent('.b24-event-name')).toBe(name);
      await opened.close();
      // Chromium logs the create form's autofocus in a cross-origin frame as an error (expected there).
      const errors = tab.console.filter((l) => (l.startsWith('[pageerror]') || l.startsWith('[error]')) && !l.includes('Blocked autofocusing'));
      expect(errors).toEqual([]);
    });
  });
}

/** The tab a click opens, loaded. */
async function newTabOf(context: BrowserContext, click: () => Promise<void>): Promise<Page> {
  const [page] = await Promise.all([context.waitForEvent('page', { timeout: TIMEOUT }), click()]);
  await page.waitForLoadState('load');
  return page;
}
