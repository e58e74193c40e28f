/**
 * The blocked-cookie run can fail. With the page not sending its session header (every htmx request
 * loses `Authorization` on the way out), a journey step fails when third-party cookies are
 * blocked — while the default run still passes on the cookie, which is why the blocked run exists.
 * Stripping only the page's `hx-headers` is survivable: the island renews the session on the first
 * 401 and puts the header back, which this also shows.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import type { BrowserContext } from 'playwright-core';
import type { EmulatedPortal } from '../support/emulator-client.ts';
import { startStack, type Stack } from '../support/stack.ts';
import * as act from './cabinet-actions.ts';
import { cabinetFrame, contextFor, openPortalTab, withArtefacts, type CookieMode } from './portal-session.ts';

setDefaultTimeout(30_000);
/** Short: the failing step is expected to time out. */
const STEP = { timeout: 3_000 };

let stack: Stack;
let portal: EmulatedPortal;
beforeAll(async () => {
  stack = await startStack();
  portal = await stack.emu.createPortal();
  await stack.emu.install(portal.member_id);
});
afterAll(async () => {
  await stack?.stop();
});

for (const mode of ['blocked', 'default'] as CookieMode[]) {
  describe(`a page that does not send its session header (${mode} cookies)`, () => {
    let context: BrowserContext;
    beforeAll(async () => {
      context = await contextFor(mode);
      context.setDefaultTimeout(STEP.timeout);
    });
    afterAll(async () => {
      await context?.close();
    });
    afterEach(async () => {
      for (const page of context.pages()) if (page.url().startsWith(portal.portal_url)) await page.close();
    });

    it(mode === 'blocked' ? 'fails the journey: creating an item never succeeds' : 'passes on the cookie, which is why the blocked run exists', async () => {
      const tab = await openPortalTab(context, stack.appUrl, `${portal.portal_url}?user_id=2`);
      await withArtefacts(`broken-no-header-${mode}`, () => [tab], async () => {
        const frame = await cabinetFrame(tab);
        // The page never sends its session header: htmx's XHRs lose `Authorization` on the way out.
        await frame.evaluate(() => {
          const set = XMLHttpRequest.prototype.setRequestHeader;
          XMLHttpRequest.prototype.setRequestHeader = function (name: string, value: string) {
            if (name.toLowerCase() !== 'authorization') set.call(this, name, value);
          };
        });
        await act.watchToasts(frame);
        const failure = await act.createItem(frame, `Broken ${mode}`, STEP).then(() => null, (e: Error) => e);
        if (mode === 'blocked') {
          // (Not expect(promise).rejects: in bun it stalls Playwright's messages until the step times out.)
          expect(String(failure)).toContain('Timeout');
          expect(tab.requests.filter((r) => r.path.startsWith('/ui/')).map((r) => r.status)).toEqual([401, 401]);
          await frame.locator('#toasts .toast--error', { hasText: 'session has expired' }).waitFor();
        } else {
          // No Authorization left the page, so the (partitioned) cookie carried the session.
          expect(failure).toBeNull();
        }
      });
    });

    it('survives a page without hx-headers: the first request renews the session invisibly', async () => {
      const tab = await openPortalTab(context, stack.appUrl, `${portal.portal_url}?user_id=2`);
      await withArtefacts(`broken-hx-headers-${mode}`, () => [tab], async () => {
        const frame = await cabinetFrame(tab);
        // htmx reads hx-headers at each request, so removing it now is the page never having had it.
        // (Rewriting the response with page.route instead makes Chromium treat the document as public
        // and refuse it the loopback BX24 script: Local Network Access.)
        await frame.evaluate(() => document.body.removeAttribute('hx-headers'));
        await act.watchToasts(frame);
        await act.createItem(frame, `Renewed ${mode}`, STEP);
        const first = tab.requests.find((r) => r.path.startsWith('/ui/'));
        // Without cookies the first request has no session at all; with them the cookie carries it.
        expect(first?.status).toBe(mode === 'blocked' ? 401 : 200);
        expect((await act.seenToasts(frame)).filter((t) => t.includes('toast--error'))).toEqual([]);
      });
    });
  });
}
