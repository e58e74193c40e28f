/**
 * The app where users meet it: in real Chromium, inside the emulated portal page (127.0.0.1) that frames
 * the app (localhost, another site). Every journey runs on an English and on a Russian portal, each
 * with Chromium's default cookie settings and with third-party cookies blocked (partitioned ones too),
 * where the app has only the session it keeps in the page. Buttons are found and toasts checked by
 * their text in the portal's language. Screenshots go to test-output/; a failing journey leaves its
 * screenshot, console and requests there as FAILED-*; click-to-result times go to
 * test-output/timings.txt.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { BrowserContext } from 'playwright-core';
import { translator, type Lang } from '../../views/i18n.ts';
import type { EmulatedPortal } from '../support/emulator-client.ts';
import { startStack, type Stack } from '../support/stack.ts';
import * as act from './cabinet-actions.ts';
import { cabinetFrame, contextFor, layoutHeight, OUTPUT_DIR, openPortalTab, screenshotBoth, seriousA11yViolations, withArtefacts, type PortalTab } from './portal-session.ts';

// Chromium on a busy 2-core CI machine; bunfig's timeout is not a bun setting, so set it here.
setDefaultTimeout(30_000);

/**
 * What each language's user types: five items (newest last), one renamed, one searched for, and a
 * search written differently from the first item's name (case; ё typed as е).
 */
const DATA: Record<Lang, { items: string[]; renamed: string; query: string; folded: string }> = {
  en: { items: ['Alpha report', 'Beta plan', 'Gamma notes', 'Delta list', 'Epsilon idea'], renamed: 'Omega plan', query: 'omega', folded: 'ALPHA' },
  ru: { items: ['Отчёт за ноябрь', 'План на неделю', 'Заметки к встрече', 'Список покупок', 'Идея для проекта'], renamed: 'Итоговый план', query: 'итоговый', folded: 'отчет за' },
};

/**
 * Errors in the tab's console. Chromium logs "Blocked autofocusing … in a cross-origin subframe" as an
 * error for every form with `autofocus`; it is expected in a frame (htmx moves the focus itself after
 * the swap, which openCreateDialog checks), so it is not counted.
 */
const consoleErrors = (tab: PortalTab) =>
  tab.console.filter((l) => (l.startsWith('[pageerror]') || l.startsWith('[error]')) && !l.includes('Blocked autofocusing'));

let stack: Stack;
beforeAll(async () => {
  // A cleaning uninstall deletes at once here (no deletion delay), so the journey meets what users
  // see once the data is gone.
  stack = await startStack({ env: { CLEAN_UNINSTALL_DELAY_MINUTES: '0' } });
});
afterAll(async () => {
  await stack?.stop();
  const lines = act.timings.map((x) => `${String(x.ms).padStart(6)} ms  ${x.step}`);
  const slowest = act.timings.reduce((a, b) => (b.ms > a.ms ? b : a), { step: '-', ms: 0 });
  mkdirSync(OUTPUT_DIR, { recursive: true });
  writeFileSync(`${OUTPUT_DIR}/timings.txt`, [`slowest click-to-visible-result: ${slowest.ms} ms (${slowest.step})`, ...lines, ''].join('\n'));
});

const RUNS = (['en', 'ru'] as const).flatMap((lang) => (['default', 'blocked'] as const).map((mode) => ({ lang, mode })));

for (const { lang, mode } of RUNS) {
  describe(`the app in the portal frame (${lang}, ${mode === 'blocked' ? 'third-party cookies blocked' : 'default cookies'})`, () => {
    const t = translator(lang);
    const STEP = { timeout: 8_000, t };
    const { items: ITEMS, renamed, query, folded } = DATA[lang];
    const [first, second, third, fourth, fifth] = ITEMS as [string, string, string, string, string];
    const shot = (name: string) => `${lang}-${mode}-${name}`;
    let context: BrowserContext;
    let portal: EmulatedPortal;
    const tabs: PortalTab[] = [];
    const open = async (userId: number, extra = '') => {
      const tab = await openPortalTab(context, stack.appUrl, `${portal.portal_url}?user_id=${userId}${extra}`);
      tabs.push(tab);
      return tab;
    };
    const journey = (name: string, fn: () => Promise<void>) => it(name, () => withArtefacts(`${lang}-${mode}-${name.slice(0, 40).replace(/\W+/g, '-')}`, () => tabs, fn));
    let user: PortalTab;

    beforeAll(async () => {
      context = await contextFor(mode);
      // A step that hangs must fail as itself, well before bun's per-test timeout kills Chromium.
      context.setDefaultTimeout(STEP.timeout);
      portal = await stack.emu.createPortal({ lang });
    });
    afterAll(async () => {
      await context?.close();
    });

    journey('an admin installs: installer in the frame, installFinish, the portal reloads into the app', async () => {
      const admin = await open(1);
      await admin.page.waitForURL(/install_finished=Y/, { timeout: STEP.timeout });
      // The installer was framed first (it finishes too fast to catch reliably, hence the request log).
      expect(admin.requests.filter((r) => r.path === '/install').map((r) => `${r.method} ${r.status}`)).toEqual(['POST 200']);
      const frame = await cabinetFrame(admin);
      expect(await act.greeting(frame)).toBe(t('greeting', { name: 'Ada Lovelace' }));
      expect(await act.itemNames(frame)).toEqual([]);
      // The installer page installed the app (no ONAPPINSTALL comes to installer apps): the portal is
      // known and has its application token.
      expect(await stack.store.portals.applicationTokenHash(portal.member_id)).toBeTruthy();
      await screenshotBoth(admin, shot('installed-admin'));
      await admin.close();
    });

    journey('the admin opens the admin panel from the cabinet and repairs the event handlers; other users have no way there', async () => {
      const admin = await open(1);
      const frame = await cabinetFrame(admin);
      await act.watchToasts(frame);
      await frame.getByRole('button', { name: t('adminOpen') }).click();
      await frame.locator('[data-admin-panel]').waitFor({ state: 'visible' });
      expect((await frame.locator('#dialog-title').textContent())?.trim()).toBe(t('adminTitle'));
      expect(await frame.locator('[data-tokens="live"]').count()).toBe(1);
      expect(await frame.locator('[data-present="no"]').count()).toBe(0);
      expect(await seriousA11yViolations(frame)).toEqual([]);
      await screenshotBoth(admin, shot('admin-panel'));
      await frame.getByRole('button', { name: t('adminRepair') }).click();
      await frame.waitForFunction((text) => ((window as any).__toasts ?? []).some((x: string) => x.endsWith(`: ${text}`)), t('adminRepaired'), STEP);
      expect((await act.seenToasts(frame)).filter((x) => x.includes('toast--error'))).toEqual([]);
      expect(consoleErrors(admin)).toEqual([]);
      await admin.close();
      const other = await open(2);
      expect(await (await cabinetFrame(other)).getByRole('button', { name: t('adminOpen') }).count()).toBe(0);
      await other.close();
    });

    journey('a user sees their name, creates, edits, archives, restores, searches and deletes; the frame grows', async () => {
      user = await open(2);
      const frame = await cabinetFrame(user);
      await act.watchToasts(frame);
      expect(await act.greeting(frame)).toBe(t('greeting', { name: 'Иван Петров' }));
      // BX24.setTitle: the portal's title above the frame names the app in the portal's language.
      await user.page.waitForFunction((title) => document.getElementById('pagetitle')?.textContent === title, t('appName'), STEP);
      await frame.locator('.empty-state__title', { hasText: t('emptyTitle') }).waitFor({ state: 'visible' });
      // Screenshots come after the height check: the 375 px one refits (grows) the box.
      const emptyHeight = await layoutHeight(user.page);

      await act.openCreateDialog(frame, STEP);
      expect(await seriousA11yViolations(frame)).toEqual([]);
      await act.closeDialog(frame, STEP);

      // One with a start time, so the row shows its "Add to calendar" button too.
      for (const name of ITEMS) await act.createItem(frame, name, { ...STEP, startsAt: name === first ? '2030-01-15T10:00' : undefined });
      expect(await act.itemNames(frame)).toEqual([...ITEMS].reverse());
      // fitWindow after each swap: the portal's box grows to the content (BX24 measures the document's
      // scrollHeight, which is never less than the frame's, so the box grows but does not shrink).
      const contentHeight = await frame.evaluate(() => document.documentElement.scrollHeight);
      expect(contentHeight).toBeGreaterThan(emptyHeight + 100);
      await user.page.waitForFunction((h) => document.getElementById('b24-app-layout')!.getBoundingClientRect().height === h, contentHeight, STEP);
      const fullHeight = await layoutHeight(user.page);
      expect(await user.page.evaluate(() => document.getElementById('b24-app-frame')!.getBoundingClientRect().height)).toBe(fullHeight);

      expect(await seriousA11yViolations(frame)).toEqual([]);
      // The portal page speaks the portal's language, and at 375 px folds its menu away: the app gets
      // the width, and axe finds nothing serious there either.
      expect(await user.page.locator('.b24-menu a').first().textContent()).toBe(lang === 'ru' ? 'Новости' : 'Feed');
      await user.page.setViewportSize({ width: 375, height: 812 });
      await user.page.waitForFunction(() => document.getElementById('b24-app-frame')!.getBoundingClientRect().width >= 340, undefined, STEP);
      expect(await seriousA11yViolations(frame)).toEqual([]);
      await user.page.setViewportSize({ width: 1280, height: 800 });
      await screenshotBoth(user, shot('cabinet-items'));
      await act.openCreateDialog(frame, STEP);
      await screenshotBoth(user, shot('create-dialog'));
      await act.closeDialog(frame, STEP);

      await act.renameItem(frame, second, renamed, STEP);
      await act.archiveItem(frame, third, STEP);
      await act.restoreItem(frame, third, STEP);
      await act.search(frame, query, [renamed], STEP);
      await act.search(frame, folded, [first], STEP);
      await act.search(frame, 'zzz-nothing', [], STEP);
      await frame.locator('.empty-state__title', { hasText: t('emptySearch') }).waitFor({ state: 'visible', timeout: STEP.timeout });
      await act.search(frame, '', [first, renamed, third, fourth, fifth], STEP);
      expect(await act.deleteItem(frame, fourth, STEP)).toBe(t('confirmDelete', { name: fourth }));
      expect(await act.itemNames(frame)).toEqual([fifth, third, renamed, first]);

      const toasts = await act.seenToasts(frame);
      expect(toasts.filter((x) => x.includes('toast--error'))).toEqual([]);
      for (const key of ['created', 'saved', 'archivedToast', 'restoredToast', 'deleted'] as const) {
        expect(toasts.some((x) => x.endsWith(`: ${t(key)}`))).toBe(true);
      }
      expect(consoleErrors(user)).toEqual([]);
    });

    journey('an expired session is renewed invisibly: the next action succeeds without an error', async () => {
      const frame = await user.frame('/');
      await act.openCreateDialog(frame, STEP);
      const before = user.requests.length;
      // The user left the dialog open for an hour: the portal's access token and the app's session
      // have both run out. Submitting must still create the item, with what was typed.
      await stack.emu.expireTokens({ member_id: portal.member_id });
      await stack.sql('DELETE FROM sessions');
      // The app trusts a session it verified for a second (src/auth/sessions.ts): let that pass.
      await Bun.sleep(1100);
      await act.submitCreateForm(frame, 'Zeta after expiry', STEP);
      await act.renameItem(frame, 'Zeta after expiry', 'Zeta renewed', STEP);
      const after = user.requests.slice(before);
      expect(after.find((r) => r.method === 'POST' && r.path === '/ui/items')?.status).toBe(401);
      expect(after.find((r) => r.path === '/api/session')?.status).toBe(200);
      expect(after.filter((r) => r.method === 'POST' && r.path === '/ui/items').map((r) => r.status)).toEqual([401, 200]);
      expect(after.filter((r) => r.path === '/api/session')).toHaveLength(1);
      expect((await act.seenToasts(frame)).filter((t) => t.includes('toast--error'))).toEqual([]);
      expect(await act.itemNames(frame)).toEqual(['Zeta renewed', fifth, third, renamed, first]);
    });

    journey(`the app's cookie ${mode === 'blocked' ? 'never reaches' : 'reaches'} the frame, and the bearer always does`, async () => {
      const htmx = user.requests.filter((r) => r.path.startsWith('/ui/') && r.status !== 401);
      expect(htmx.length).toBeGreaterThan(10);
      expect(htmx.every((r) => r.authorization)).toBe(true);
      const cookies = (await context.cookies(stack.appUrl)).filter((c) => c.name === 'b24app_session');
      if (mode === 'blocked') {
        expect(user.requests.filter((r) => r.cookie)).toEqual([]);
        expect(cookies).toEqual([]);
      } else {
        // The default run does carry the (partitioned) cookie, so the blocked run's absence is the setting's doing.
        expect(user.requests.some((r) => r.cookie)).toBe(true);
        expect(cookies.map((c) => c.partitionKey)).toEqual(['http://127.0.0.1']);
      }
    });

    journey("a second user on the same portal sees none of the first user's items", async () => {
      const other = await open(3);
      const frame = await cabinetFrame(other);
      expect(await act.greeting(frame)).toBe(t('greeting', { name: 'John Smith' }));
      expect(await act.itemNames(frame)).toEqual([]);
      await screenshotBoth(other, shot('cabinet-empty'));
      await act.search(frame, query, [], STEP);
      await act.search(frame, '', [], STEP);
      await act.createItem(frame, 'Johns own', STEP);
      // And the first user's list is unchanged by it.
      await user.page.reload();
      const firstTab = await cabinetFrame(user);
      expect(await act.itemNames(firstTab)).toEqual(['Zeta renewed', fifth, third, renamed, first]);
    });

    journey('a cleaning uninstall leaves the portal showing the app as not installed, its data gone', async () => {
      await stack.emu.uninstall(portal.member_id, true);
      expect(await stack.sqlOne('SELECT id FROM portals WHERE member_id = ?', [portal.member_id])).toBeNull();
      for (const userId of [1, 2]) {
        const tab = await open(userId);
        expect(await tab.page.locator('.b24-notice h2').textContent()).toBe(lang === 'ru' ? 'Приложение не установлено' : 'Application not installed');
        expect(tab.page.frames()).toHaveLength(1);
        if (userId === 1) await screenshotBoth(tab, shot('not-installed'));
      }
      // Re-adding the app shows the installer again, and what comes after starts empty.
      const admin = await open(1, '&reinstall=Y');
      await admin.page.waitForURL(/install_finished=Y/, { timeout: STEP.timeout });
      expect(admin.requests.some((r) => r.path === '/install')).toBe(true);
      expect(await stack.store.portals.findByMemberId(portal.member_id)).toMatchObject({ status: 'installed', hasApplicationToken: true });
      const again = await open(2);
      expect(await act.itemNames(await cabinetFrame(again))).toEqual([]);
    });
  });
}
