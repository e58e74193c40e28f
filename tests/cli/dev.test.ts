import { afterAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { mkdirSync } from 'node:fs';
import { launchBrowser } from '../support/browser.ts';
import { freePort } from '../support/stack.ts';
import { tempDir } from '../support/temp.ts';

setDefaultTimeout(30_000);
const dir = tempDir('b24app-dev-');
afterAll(() => dir.cleanup());

describe('b24app dev', () => {
  it('starts the app and the emulator, installs the app in a portal and shows it in the portal page', async () => {
    const [appPort, emulatorPort] = [await freePort(), await freePort()];
    const proc = Bun.spawn(
      [process.execPath, 'src/main.ts', 'dev', '--port', String(appPort), '--emulator-port', String(emulatorPort), '--data', dir.path],
      { cwd: `${import.meta.dir}/../..`, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
    try {
      let out = '';
      const reader = proc.stdout.getReader();
      while (!/Open the portal.*\n/.test(out)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`dev exited early: ${out}${await new Response(proc.stderr).text()}`);
        out += new TextDecoder().decode(value);
      }
      const portalUrl = /Open the portal \(as its admin\):\s+(\S+)/.exec(out)![1]!;
      expect(await Bun.file(`${dir.path}/app-secret`).exists()).toBe(true);

      const browser = await launchBrowser();
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await page.goto(portalUrl);
        const frame = page.frameLocator('iframe');
        await expect(frame.locator('h1.topbar__title').textContent({ timeout: 15_000 })).resolves.toBe('My items');
        await expect(frame.locator('.topbar__greeting').textContent()).resolves.toContain('Ada');
        mkdirSync('test-output', { recursive: true });
        await page.screenshot({ path: 'test-output/dev-portal.png' });
      } finally {
        await browser.close();
      }
    } finally {
      proc.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }
  });
});
