/**
 * The app in a tall portal frame, as real portals show it: the frame is as tall as the app and the
 * portal page scrolls. At the bottom of a 40-item list the user opens the dialog and sees it where they
 * are, creates, and sees the new row and the toast without scrolling themselves; archive and delete
 * give their toast there too; focus lands on the changed row or the next sensible element; Escape
 * cancels an edit; a refused form focuses its first invalid field; and after a search narrows the list
 * the frame is as tall as its content again (it shrinks). Runs in both languages.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import type { BrowserContext, Frame, Locator } from 'playwright-core';
import { createItemIds } from '../../src/domain/items.ts';
import { translator } from '../../views/i18n.ts';
import { launchBrowserContext } from '../support/browser.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { waitFor } from '../support/wait-for.ts';
import * as act from './cabinet-actions.ts';
import { cabinetFrame, contextFor, framesPainted, layoutHeight, OUTPUT_DIR, openPortalTab, screenshotBoth, seriousA11yViolations, withArtefacts, type PortalTab } from './portal-session.ts';

setDefaultTimeout(60_000);

const newItemId = createItemIds(() => Date.now());
const TIMEOUT = 8_000;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** Where an element of the app frame is in the portal tab's viewport, and whether it is wholly inside it. */
async function placeInPortal(tab: PortalTab, frame: Frame, selector: string): Promise<{ top: number; bottom: number; visible: boolean }> {
  const r = await frame.locator(selector).first().evaluate((el) => {
    const b = el.getBoundingClientRect();
    return { top: b.top, bottom: b.bottom, height: b.height };
  });
  return tab.page.evaluate((r) => {
    const f = document.getElementById('b24-app-frame')!.getBoundingClientRect();
    const top = f.top + r.top;
    const bottom = f.top + r.bottom;
    return { top, bottom, visible: r.height > 0 && top >= 0 && bottom <= window.innerHeight };
  }, r);
}

/** Waits (as a person would, looking) until the element is wholly in the portal's viewport. */
async function waitVisibleInPortal(tab: PortalTab, frame: Frame, selector: string): Promise<void> {
  let last = { top: 0, bottom: 0, visible: false };
  await waitFor(
    async () => {
      if ((await frame.locator(selector).count()) === 0) return false;
      last = await placeInPortal(tab, frame, selector);
      return last.visible;
    },
    { what: `${selector} to be visible in the portal viewport`, intervalMs: 50, timeoutMs: TIMEOUT },
  ).catch((e: Error) => {
    throw new Error(`${e.message} (last at ${last.top}..${last.bottom})`);
  });
}

/** What the user sees: the portal tab's viewport only (the full-page shots show the whole tall frame). */
const viewportShot = (tab: PortalTab, name: string) => tab.page.screenshot({ path: `${OUTPUT_DIR}/${name}-viewport.png` });

/**
 * Scrolls the portal page to its bottom, then waits until the app has seen it: the visible band its
 * IntersectionObserver probes publish (--view-top, which places the dialog and the toasts) starts
 * where the portal's viewport now cuts the frame.
 */
async function scrollPortalToBottom(tab: PortalTab, frame: Frame): Promise<void> {
  await tab.page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await waitFor(
    async () => {
      const cut = await tab.page.evaluate(() => Math.max(0, -document.getElementById('b24-app-frame')!.getBoundingClientRect().top));
      const viewTop = await frame.evaluate(() => Number.parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--view-top')) || 0);
      return Math.abs(viewTop - cut) <= 10;
    },
    { what: 'the app frame to see the portal scrolled to the bottom', intervalMs: 20, timeoutMs: TIMEOUT },
  );
}
/**
 * Clicks an element of the app frame that may be far out of view, as a user would after scrolling to
 * it: scrolled into view, then clicked once the portal page and the frame have painted the new
 * position (see framesPainted).
 */
async function clickAfterScroll(tab: PortalTab, frame: Frame, target: Locator): Promise<void> {
  await target.scrollIntoViewIfNeeded();
  await framesPainted(tab.page, frame);
  await target.click();
}

const portalScrollY = (tab: PortalTab) => tab.page.evaluate(() => window.scrollY);
const activeId = (frame: Frame) => frame.evaluate(() => document.activeElement?.id ?? '');
const rowIds = (frame: Frame) => frame.locator('#item-list .item-row').evaluateAll((els) => els.map((e) => e.id));

for (const lang of ['ru', 'en'] as const) {
  describe(`a tall frame (${lang})`, () => {
    const t = translator(lang);
    const STEP = { timeout: TIMEOUT, t };
    let context: BrowserContext;
    let tab: PortalTab;
    let frame: Frame;

    beforeAll(async () => {
      context = await contextFor('default');
      context.setDefaultTimeout(TIMEOUT);
      const portal = await stack.emu.createPortal({ lang });
      await stack.emu.install(portal.member_id);
      // The user signs in once (their row appears), then has 40 items.
      tab = await openPortalTab(context, stack.appUrl, `${portal.portal_url}?user_id=2`);
      await cabinetFrame(tab);
      const { id: portalId } = (await stack.sqlOne<{ id: number }>('SELECT id FROM portals WHERE member_id = ?', [portal.member_id]))!;
      const now = Math.floor(Date.now() / 1000);
      for (let i = 1; i <= 40; i++) {
        const name = `${lang === 'ru' ? 'Запись' : 'Item'} ${String(i).padStart(2, '0')}`;
        await stack.store.items.create({ portalId, userId: 2 }, newItemId(), { name, data: null, status: 'active', startsAt: null, endsAt: null }, now);
      }
      await tab.page.reload();
      frame = await cabinetFrame(tab);
      await act.watchToasts(frame);
    });
    afterAll(async () => {
      await context?.close();
    });

    const step = (name: string, fn: () => Promise<void>) => it(name, () => withArtefacts(`tall-${lang}-${name.slice(0, 40).replace(/\W+/g, '-')}`, () => [tab], fn));

    step('"load more" at the bottom: 40 rows, focus on the first new row, where the button was', async () => {
      expect(await rowIds(frame)).toHaveLength(20);
      await scrollPortalToBottom(tab, frame);
      expect((await placeInPortal(tab, frame, '#load-more button')).visible).toBe(true);
      await frame.locator('#load-more button').click();
      await frame.waitForFunction(() => document.querySelectorAll('#item-list .item-row').length === 40, undefined, { timeout: TIMEOUT });
      const ids = await rowIds(frame);
      await frame.waitForFunction((id) => document.activeElement?.id === id, ids[20], { timeout: TIMEOUT });
      expect((await placeInPortal(tab, frame, `#${ids[20]}`)).visible).toBe(true);
    });

    step('at the bottom: the dialog opens in view, without moving the portal; the new row and the toast are in view', async () => {
      await scrollPortalToBottom(tab, frame);
      const before = await portalScrollY(tab);
      expect(before).toBeGreaterThan(1500);
      const newButton = '.list-footer button';
      expect(await frame.locator(newButton).textContent()).toBe(t('addAnother'));
      expect((await placeInPortal(tab, frame, newButton)).visible).toBe(true);
      await frame.locator(newButton).click();
      await frame.locator('#dialog[open] #new-name').waitFor({ timeout: TIMEOUT });
      await waitVisibleInPortal(tab, frame, '#dialog');
      expect(Math.abs((await portalScrollY(tab)) - before)).toBeLessThan(5);
      expect(await activeId(frame)).toBe('new-name');
      await viewportShot(tab, `${lang}-tall-dialog-at-bottom`);
      await screenshotBoth(tab, `${lang}-tall-dialog-at-bottom`);

      const name = lang === 'ru' ? 'Новая внизу' : 'New at the bottom';
      await frame.locator('#new-name').fill(name);
      await frame.locator('#dialog').getByRole('button', { name: t('create'), exact: true }).click();
      const row = frame.locator('#item-list .item-row', { hasText: name });
      await row.waitFor({ timeout: TIMEOUT });
      const id = await row.getAttribute('id');
      // The new row is the top of the list: the app brings it into view and focuses it.
      await frame.waitForFunction((id) => document.activeElement?.id === id, id, { timeout: TIMEOUT });
      await waitVisibleInPortal(tab, frame, `#${id}`);
      await waitVisibleInPortal(tab, frame, '#toasts .toast');
      expect(await frame.locator('#toasts .toast').last().textContent()).toBe(t('created'));
      await viewportShot(tab, `${lang}-tall-created`);
      await screenshotBoth(tab, `${lang}-tall-created`);
    });

    step('archive and delete at the bottom: toast in view, focus on the row, then on the next sensible row', async () => {
      await scrollPortalToBottom(tab, frame);
      const ids = await rowIds(frame);
      const last = ids[ids.length - 1]!;
      const beforeLast = ids[ids.length - 2]!;
      await (await act.rowMenuItem(frame.locator(`#${last}`), t('archive'))).click();
      await frame.locator(`#${last}.item-row--archived`).waitFor({ timeout: TIMEOUT });
      await frame.waitForFunction((id) => document.activeElement?.id === id, last, { timeout: TIMEOUT });
      await waitVisibleInPortal(tab, frame, '#toasts .toast:last-child');
      expect(await frame.locator('#toasts .toast').last().textContent()).toBe(t('archivedToast'));
      // With a row menu open, axe finds nothing serious either.
      await act.rowMenuItem(frame.locator(`#${last}`), t('delete'));
      expect(await seriousA11yViolations(frame)).toEqual([]);
      await viewportShot(tab, `${lang}-tall-archived`);
      await screenshotBoth(tab, `${lang}-tall-archived`);

      tab.page.once('dialog', (d) => void d.accept());
      await (await act.rowMenuItem(frame.locator(`#${last}`), t('delete'))).click();
      await frame.locator(`#${last}`).waitFor({ state: 'detached', timeout: TIMEOUT });
      // The last row is gone: the one before it is next.
      await frame.waitForFunction((id) => document.activeElement?.id === id, beforeLast, { timeout: TIMEOUT });
      await waitVisibleInPortal(tab, frame, '#toasts .toast:last-child');
      expect(await frame.locator('#toasts .toast').last().textContent()).toBe(t('deleted'));
    });

    step('Escape cancels an inline edit and gives the focus back to the row; the edit form starts on its name', async () => {
      const id = (await rowIds(frame))[5]!;
      // Row 6 is far above the bottom, where the last step left the portal.
      await clickAfterScroll(tab, frame, frame.locator(`#${id}`).getByRole('button', { name: t('edit'), exact: true }));
      await frame.locator(`#${id}.item-row--editing`).waitFor({ timeout: TIMEOUT });
      await frame.waitForFunction((id) => document.activeElement?.closest('li')?.id === id && document.activeElement?.getAttribute('name') === 'name', id, { timeout: TIMEOUT });
      await frame.locator(`#${id} input[name="name"]`).fill('typed, then abandoned');
      await frame.locator(`#${id} input[name="name"]`).press('Escape');
      await frame.locator(`#${id}:not(.item-row--editing)`).waitFor({ timeout: TIMEOUT });
      await frame.waitForFunction((id) => document.activeElement?.id === id, id, { timeout: TIMEOUT });
      expect(await frame.locator(`#${id} .item-row__name`).textContent()).not.toContain('abandoned');

      // Saved: the focus is on the saved row.
      await frame.locator(`#${id}`).getByRole('button', { name: t('edit'), exact: true }).click();
      await frame.locator(`#${id} input[name="name"]`).fill('renamed and saved');
      await frame.locator(`#${id}`).getByRole('button', { name: t('save'), exact: true }).click();
      await frame.locator(`#${id}:not(.item-row--editing)`, { hasText: 'renamed and saved' }).waitFor({ timeout: TIMEOUT });
      await frame.waitForFunction((id) => document.activeElement?.id === id, id, { timeout: TIMEOUT });
    });

    step('a refused form focuses its first invalid field; the dialog has a close button', async () => {
      await frame.locator('.topbar').getByRole('button', { name: t('newItem'), exact: true }).click();
      await frame.locator('#dialog[open] #new-name').waitFor({ timeout: TIMEOUT });
      await frame.locator('#new-name').fill('x');
      await frame.locator('#new-starts_at').fill('2030-01-15T10:00');
      await frame.locator('#new-ends_at').fill('2030-01-15T09:00');
      await frame.locator('#dialog').getByRole('button', { name: t('create'), exact: true }).click();
      await frame.locator('#new-ends_at[aria-invalid="true"]').waitFor({ timeout: TIMEOUT });
      await frame.waitForFunction(() => document.activeElement?.id === 'new-ends_at', undefined, { timeout: TIMEOUT });
      expect(await frame.locator('#new-ends_at-error').textContent()).toBe(t('fieldEndBeforeStart'));
      await frame.locator('#dialog').getByRole('button', { name: t('close'), exact: true }).click();
      await frame.waitForFunction(() => !(document.getElementById('dialog') as HTMLDialogElement).open, undefined, { timeout: TIMEOUT });
    });

    step('two tabs: a conflict keeps the typed text beside the stored one; a row deleted in the other tab goes away', async () => {
      const other = await openPortalTab(context, stack.appUrl, tab.page.url());
      const otherFrame = await cabinetFrame(other);
      const [first, second] = (await rowIds(frame)).slice(0, 2) as [string, string];
      // This tab starts editing; the other tab saves a new name first.
      await frame.locator(`#${first}`).getByRole('button', { name: t('edit'), exact: true }).click();
      await frame.locator(`#${first} input[name="name"]`).fill('typed in tab one');
      await otherFrame.locator(`#${first}`).getByRole('button', { name: t('edit'), exact: true }).click();
      await otherFrame.locator(`#${first} input[name="name"]`).fill('saved in tab two');
      await otherFrame.locator(`#${first}`).getByRole('button', { name: t('save'), exact: true }).click();
      await otherFrame.locator(`#${first}:not(.item-row--editing)`).waitFor({ timeout: TIMEOUT });
      await frame.locator(`#${first}`).getByRole('button', { name: t('save'), exact: true }).click();
      const notice = frame.locator(`#${first} .notice--warning`);
      await notice.waitFor({ timeout: TIMEOUT });
      expect(await notice.textContent()).toContain('saved in tab two');
      expect(await seriousA11yViolations(frame)).toEqual([]);
      expect(await frame.locator(`#${first} input[name="name"]`).inputValue()).toBe('typed in tab one');
      // Saving again is a deliberate overwrite with what this user typed.
      await frame.locator(`#${first}`).getByRole('button', { name: t('save'), exact: true }).click();
      await frame.locator(`#${first}:not(.item-row--editing) .item-row__name`, { hasText: 'typed in tab one' }).waitFor({ timeout: TIMEOUT });

      // The other tab deletes a row; this tab's copy of it goes away on its next click, with a toast.
      other.page.once('dialog', (d) => void d.accept());
      await (await act.rowMenuItem(otherFrame.locator(`#${second}`), t('delete'))).click();
      await otherFrame.locator(`#${second}`).waitFor({ state: 'detached', timeout: TIMEOUT });
      await (await act.rowMenuItem(frame.locator(`#${second}`), t('archive'))).click();
      await frame.locator(`#${second}`).waitFor({ state: 'detached', timeout: TIMEOUT });
      await frame.locator('#toasts .toast--error', { hasText: t('errorNotFound') }).waitFor({ timeout: TIMEOUT });
      await other.close();
    });

    step('after a search narrows the list, the frame is as tall as its content again (±20 px)', async () => {
      const tall = await layoutHeight(tab.page);
      const only = lang === 'ru' ? 'Запись 07' : 'Item 07';
      await act.search(frame, only, [only], STEP);
      const content = await frame.evaluate(() => document.body.getBoundingClientRect().height);
      await tab.page.waitForFunction(
        (h) => Math.abs(document.getElementById('b24-app-layout')!.getBoundingClientRect().height - h) <= 20,
        content,
        { timeout: TIMEOUT },
      );
      expect(await layoutHeight(tab.page)).toBeLessThan(tall - 1500);
      await screenshotBoth(tab, `${lang}-tall-narrowed`);
      // The refused form (422), the conflict (409) and the ghost row (404) above were on purpose, and
      // Chromium logs each as a failed resource.
      const errors = tab.console.filter((l) => (l.startsWith('[pageerror]') || l.startsWith('[error]')) && !l.includes('Blocked autofocusing') && !/status of (422|409|404)/.test(l));
      expect(errors).toEqual([]);
    });
  });
}

describe('a browser in Tokyo, a user without a Bitrix24 time zone', () => {
  it("types and reads times in the browser's zone, also after a reload", async () => {
    const context = await launchBrowserContext({ timezoneId: 'Asia/Tokyo' });
    context.setDefaultTimeout(TIMEOUT);
    try {
      const portal = await stack.emu.createPortal({ lang: 'ru' });
      await stack.emu.install(portal.member_id);
      const tab = await openPortalTab(context, stack.appUrl, `${portal.portal_url}?user_id=2`);
      await withArtefacts('tall-tokyo', () => [tab], async () => {
        const frame = await cabinetFrame(tab);
        await act.createItem(frame, 'Созвон с Токио', { timeout: TIMEOUT, t: translator('ru'), startsAt: '2030-01-15T10:00' });
        const time = frame.locator('#item-list .item-row time');
        expect(await time.textContent()).toBe('15 янв. 2030 г., 10:00 (GMT+9)');
        // The launch renders in UTC (01:00); the island shows the list again in the browser's zone.
        await tab.page.reload();
        const again = await cabinetFrame(tab);
        await again.waitForFunction(() => document.querySelector('#item-list .item-row time')?.textContent === '15 янв. 2030 г., 10:00 (GMT+9)', undefined, { timeout: TIMEOUT });
      });
    } finally {
      await context.close();
    }
  });
});
