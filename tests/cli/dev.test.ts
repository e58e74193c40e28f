import { afterAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { gotoPage, launchBrowser } from '../support/browser.ts';
import { freePort } from '../support/stack.ts';
import { tempDir } from '../support/temp.ts';

setDefaultTimeout(60_000);
const dir = tempDir('b24app-dev-');
afterAll(() => dir.cleanup());

/** A free port whose next one is free too: `dev` puts the emulated portal on the emulator's port + 1. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const next = (() => {
      try {
        return Bun.serve({ hostname: '127.0.0.1', port: port + 1, fetch: () => new Response() });
      } catch {
        return null;
      }
    })();
    if (next) {
      await next.stop(true);
      return port;
    }
  }
}

/** `b24app dev` as a developer runs it; resolves once it printed the portal page's URL. */
async function startDev(appPort: number, emulatorPort: number) {
  const proc = Bun.spawn(
    [process.execPath, 'src/main.ts', 'dev', '--port', String(appPort), '--emulator-port', String(emulatorPort), '--data', dir.path],
    { cwd: `${import.meta.dir}/../..`, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  let out = '';
  const reader = proc.stdout.getReader();
  while (!/Open the portal.*\n/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`dev exited early: ${out}${await new Response(proc.stderr).text()}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return {
    portalUrl: /Open the portal \(as its admin\):\s+(\S+)/.exec(out)![1]!,
    async stop() {
      proc.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    },
  };
}

async function openApp(browser: Browser, portalUrl: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await gotoPage(page, portalUrl);
  const frame = page.frameLocator('iframe');
  await expect(frame.locator('h1.topbar__title').textContent({ timeout: 15_000 })).resolves.toBe('My items');
  return { page, frame };
}

describe('b24app dev', () => {
  it('shows the app installed in a portal page, and keeps the portal and its data across restarts', async () => {
    const [appPort, emulatorPort] = [await freePort(), await freePortPair()];
    const browser = await launchBrowser();
    try {
      const first = await startDev(appPort, emulatorPort);
      expect(await Bun.file(`${dir.path}/app-secret`).exists()).toBe(true);
      const { page, frame } = await openApp(browser, first.portalUrl);
      await expect(frame.locator('.topbar__greeting').textContent()).resolves.toContain('Ada');
      await frame.getByRole('button', { name: 'New item' }).first().click();
      await frame.locator('#new-name').fill('Kept across restarts');
      await frame.getByRole('button', { name: 'Create' }).click();
      await frame.locator('.item-row__name', { hasText: 'Kept across restarts' }).waitFor({ timeout: 10_000 });
      mkdirSync('test-output', { recursive: true });
      await page.screenshot({ path: 'test-output/dev-portal.png' });
      await page.close();
      await first.stop();

      const second = await startDev(appPort, emulatorPort);
      expect(second.portalUrl).toBe(first.portalUrl);
      const again = await openApp(browser, second.portalUrl);
      await again.frame.locator('.item-row__name', { hasText: 'Kept across restarts' }).waitFor({ timeout: 10_000 });
      await second.stop();
    } finally {
      await browser.close();
    }
  });
});
