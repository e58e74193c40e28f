/**
 * Headless Chromium for browser tests (emulator frame tests, app browser tests). It fails loudly when
 * Chromium is missing: a browser test that silently skips proves nothing. Install it with
 * `apt-get install -y chromium` (CI's .ci/run does), or point CHROMIUM_PATH at another build.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const DEFAULT_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function findChromium(): string {
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : DEFAULT_PATHS;
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`Chromium not found (looked in ${candidates.join(', ')}). Install it: apt-get install -y chromium, or set CHROMIUM_PATH.`);
  }
  return found;
}

/** Flags for a headless run as root on a small CI machine, with no background networking. */
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
}

export interface CookieBlocking {
  /** Sites whose cookies are refused while they are embedded (origin patterns, e.g. `http://localhost:*`). */
  embedded: string;
  /** The top-level sites they are embedded in (e.g. `http://127.0.0.1:*`). */
  under: string;
}

/**
 * A browser with its own profile, optionally refusing third-party cookies. Chromium's
 * `--test-third-party-cookie-phaseout` and the "block third-party cookies" preference still allow
 * partitioned (CHIPS) cookies, so they alone do not keep a `Partitioned` cookie out of a frame; the
 * cookie content-setting exception below does: cookies of `embedded` are blocked under `under`, which
 * is what a browser without any third-party cookie access does to our framed app. Closing the context
 * removes the profile.
 */
export async function launchBrowserContext(opts: { blockThirdPartyCookies?: CookieBlocking; timezoneId?: string } = {}): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'b24app-chromium-'));
  const block = opts.blockThirdPartyCookies;
  if (block) {
    mkdirSync(join(profile, 'Default'));
    const prefs = {
      profile: {
        block_third_party_cookies: true,
        cookie_controls_mode: 1,
        content_settings: { exceptions: { cookies: { [`${block.embedded},${block.under}`]: { setting: 2 } } } },
      },
    };
    writeFileSync(join(profile, 'Default', 'Preferences'), JSON.stringify(prefs));
  }
  const args = block ? [...CHROMIUM_ARGS, '--test-third-party-cookie-phaseout'] : CHROMIUM_ARGS;
  const context = await chromium.launchPersistentContext(profile, { executablePath: findChromium(), args, viewport: { width: 1280, height: 800 }, timezoneId: opts.timezoneId });
  context.on('close', () => rmSync(profile, { recursive: true, force: true }));
  return context;
}

/**
 * page.goto, repeated once when playwright-core loses track of one of its own protocol objects
 * ("Object with guid … was not bound in the connection"): a rare race in the client under Bun on a
 * busy machine, seen once in CI, that says nothing about the page. Any other failure is thrown as is.
 */
export async function gotoPage(page: Page, url: string): Promise<void> {
  try {
    await page.goto(url);
  } catch (e) {
    if (!/was not bound in the connection/.test(String((e as Error).message))) throw e;
    await page.goto(url);
  }
}
