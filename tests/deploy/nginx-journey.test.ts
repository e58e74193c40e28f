/**
 * The deploy kit proven: Debian's nginx runs deploy/nginx.conf (adapted for loopback, tests/deploy/
 * nginx.ts) in front of `b24app serve` (a child process, TRUST_PROXY=true, PUBLIC_URL with the
 * /my-app sub-path), and the portal emulator knows the app only by its nginx URL. In Chromium, on an
 * English and on a Russian portal: the administrator installs (installer in the frame, installFinish),
 * a user launches and creates an item, the portal uninstalls the app (its event goes through nginx).
 *
 * Checked on the way: every URL the app emits (links, htmx attributes, form actions, assets,
 * redirects, cookie paths) and every request Chromium sent to the app's origin carries /my-app/; the
 * app logs the client's address, which nginx forwarded, not nginx's own (nginx reaches the app from
 * 127.0.0.2, clients come from 127.0.0.1, 127.0.0.3 and 127.0.0.4); the failed-launch limiter counts
 * per real client, whatever X-Forwarded-For the client forges; /my-app/metrics never reaches the app.
 * The journey time through nginx goes to test-output/nginx-journey.txt.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { BrowserContext, Response as PwResponse } from 'playwright-core';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { translator, type Lang } from '../../views/i18n.ts';
import * as act from '../browser/cabinet-actions.ts';
import { cabinetFrame, contextFor, OUTPUT_DIR, openPortalTab, withArtefacts, type PortalTab } from '../browser/portal-session.ts';
import { spawnServe, serveEnv, type ChildServer } from '../support/child-server.ts';
import { emulatorClient, type EmulatorClient } from '../support/emulator-client.ts';
import { freePort } from '../support/stack.ts';
import { freshTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { tempDir } from '../support/temp.ts';
import { waitFor } from '../support/wait-for.ts';
import { NGINX_PEER, startNginx, type Nginx } from './nginx.ts';

setDefaultTimeout(60_000);

const SUB = '/my-app';
let nginx: Nginx;
let app: ChildServer;
let emulator: Emulator;
let emu: EmulatorClient;
let database: TestDatabase;
let publicUrl: string;
const dir = tempDir('b24app-nginx-journey-');
const times: string[] = [];

/** The app's JSON log lines (`request` lines: request_id, method, path, status, ip). */
const requestLog = () =>
  app
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; request_id?: string; method?: string; path?: string; status?: number; ip?: string })
    .filter((r) => r.msg === 'request');
/** The app's log line of one request, once its output has arrived. */
const appLine = (id: string) => waitFor(() => requestLog().find((r) => r.request_id === id), { what: `the app's log line of ${id}` });
/** nginx's own request ids are 32 hex digits: the lines of requests that came through it. */
const throughNginx = () => requestLog().filter((r) => /^[0-9a-f]{32}$/.test(r.request_id ?? ''));

/** A request from a loopback source address of our choosing (curl --interface), through nginx. */
async function curlFrom(source: string, path: string, opts: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}) {
  const args = ['curl', '-sS', '--max-time', '20', '--interface', source, '-o', '/dev/null', '-D', '-', '-X', opts.method ?? 'GET'];
  args.push('-H', `Host: localhost:${nginx.port}`);
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (opts.form) args.push('--data', new URLSearchParams(opts.form).toString());
  args.push(`http://127.0.0.1:${nginx.port}${path}`);
  const proc = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe' });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`curl ${path} from ${source} failed (${code}): ${err}`);
  const [statusLine, ...lines] = out.trim().split(/\r?\n/);
  const headers = new Headers();
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers.append(l.slice(0, i).trim(), l.slice(i + 1).trim());
  }
  return { status: Number(statusLine!.split(' ')[1]), headers };
}

/**
 * URLs in the app's HTML that point at the app (path-absolute, or absolute on the app's origin),
 * from links, sources, form actions, htmx attributes and data-* attributes holding URLs.
 */
function appUrlsIn(html: string, origin: string): string[] {
  const urls: string[] = [];
  for (const m of html.matchAll(/\s(href|src|action|formaction|hx-get|hx-post|hx-put|hx-patch|hx-delete|data-[\w-]+)\s*=\s*"([^"]*)"/g)) {
    const value = m[2]!.replaceAll('&amp;', '&').replaceAll('&#x2F;', '/');
    if (value.startsWith('/') && !value.startsWith('//')) urls.push(value);
    else if (value.startsWith(origin)) urls.push(value.slice(origin.length) || '/');
  }
  return urls;
}

beforeAll(async () => {
  const [nginxPort, appPort] = [await freePort(), await freePort()];
  publicUrl = `http://localhost:${nginxPort}${SUB}`;
  const clientId = `local.${crypto.randomUUID().replace(/-/g, '').slice(0, 14)}.12345678`;
  const clientSecret = `secret-${crypto.randomUUID()}`;
  // The emulator (Bitrix24) knows the app only by its address behind nginx: the handler URL is
  // PUBLIC_URL/ (README), the install URL PUBLIC_URL/install.
  emulator = await startEmulator({ port: 0, apps: [{ client_id: clientId, client_secret: clientSecret, app_url: `${publicUrl}/`, events_url: `${publicUrl}/events` }] });
  emu = emulatorClient(emulator.url);
  database = await freshTestDatabase({ sqlitePath: dir.file('app.db') });
  app = await spawnServe(
    appPort,
    {
      ...serveEnv(publicUrl, clientId, clientSecret, emulator.url, database.url),
      TRUST_PROXY: 'true',
      LOG_LEVEL: 'info',
      // A cleaning uninstall deletes at once, so the journey ends on what users see after it.
      CLEAN_UNINSTALL_DELAY_MINUTES: '0',
    },
    { keepOutput: 16 * 1024 * 1024 },
  );
  nginx = await startNginx({
    port: nginxPort,
    upstream: `127.0.0.1:${appPort}`,
    // A control: the same proxy without X-Forwarded-For, so the app can only see its peer.
    extraServer: `    location /control/ {\n        proxy_pass http://b24app/;\n        proxy_set_header X-Request-Id $request_id;\n        proxy_set_header X-Forwarded-For "";\n    }\n`,
  });
});

afterAll(async () => {
  await nginx?.stop();
  await app?.stop();
  await emulator?.stop();
  await database?.drop();
  dir.cleanup();
  mkdirSync(OUTPUT_DIR, { recursive: true });
  writeFileSync(`${OUTPUT_DIR}/nginx-journey.txt`, [...times, ''].join('\n'));
});

describe('behind nginx at /my-app/', () => {
  it('answers /health and /openapi.json through nginx, the API described at the public URL', async () => {
    const health = await fetch(`${publicUrl}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/); // nginx's id, echoed by the app
    expect(health.headers.get('x-frame-options')).toBeNull(); // Bitrix24 frames the app
    const doc = (await (await fetch(`${publicUrl}/openapi.json`)).json()) as { servers: { url: string }[] };
    expect(doc.servers).toEqual([{ url: publicUrl }]);
  });

  it('never passes /my-app/metrics to the app, however it is spelled', async () => {
    for (const path of ['/metrics', '/metrics/', '//metrics', '/%6Detrics', '/./metrics', '/metrics?format=prometheus']) {
      const res = await fetch(`http://127.0.0.1:${nginx.port}${SUB}${path}`, { headers: { host: `localhost:${nginx.port}` } });
      expect(res.status, path).toBe(404);
      // The app stamps every answer with X-Request-Id; nginx's own 404 has none.
      expect(res.headers.get('x-request-id'), path).toBeNull();
    }
    expect(throughNginx().filter((r) => r.path?.includes('metrics'))).toEqual([]);
  });

  it('sends a launch posted to /my-app (no slash) on to /my-app/ as a POST (308), not as a GET', async () => {
    const res = await curlFrom('127.0.0.1', SUB, { method: 'POST', form: { AUTH_ID: 'x' } });
    expect(res.status).toBe(308);
    expect(new URL(res.headers.get('location')!, nginx.origin).pathname).toBe(`${SUB}/`);
  });
});

for (const lang of ['en', 'ru'] as const satisfies readonly Lang[]) {
  describe(`the journey through nginx (${lang} portal)`, () => {
    const t = translator(lang);
    const STEP = { timeout: 15_000, t };
    const itemName = lang === 'ru' ? 'Отчёт через nginx' : 'Report through nginx';
    let context: BrowserContext;
    const tabs: PortalTab[] = [];
    const html: { url: string; body: string }[] = [];
    const redirects: { url: string; location: string }[] = [];
    const cookies: string[] = [];
    const open = async (pageUrl: string) => {
      // The origin, not PUBLIC_URL: the tab records every request to the app's host, in /my-app/ or not.
      const tab = await openPortalTab(context, nginx.origin, pageUrl);
      tabs.push(tab);
      return tab;
    };
    /** Every answer from the app's origin, in every tab and frame, read as it arrives. */
    const pending: Promise<void>[] = [];
    const record = async (res: PwResponse) => {
      if (!res.url().startsWith(nginx.origin)) return;
      const headers = await res.allHeaders().catch(() => ({}) as Record<string, string>);
      if (headers.location) redirects.push({ url: res.url(), location: headers.location });
      if (headers['set-cookie']) cookies.push(...headers['set-cookie'].split('\n'));
      if ((headers['content-type'] ?? '').startsWith('text/html')) html.push({ url: res.url(), body: await res.text().catch(() => '') });
    };

    beforeAll(async () => {
      context = await contextFor('default');
      context.setDefaultTimeout(STEP.timeout);
      context.on('response', (res) => pending.push(record(res)));
    });
    afterAll(async () => {
      await context?.close();
    });

    it('installs, launches, creates an item and uninstalls, all through nginx', () =>
      withArtefacts(`nginx-${lang}`, () => tabs, async () => {
        const started = performance.now();
        const portal = await emu.createPortal({ lang });
        const admin = await open(`${portal.portal_url}?user_id=1`);
        await admin.page.waitForURL(/install_finished=Y/, { timeout: STEP.timeout });
        expect(admin.requests.filter((r) => r.path === `${SUB}/install`).map((r) => `${r.method} ${r.status}`)).toEqual(['POST 200']);
        const adminFrame = await cabinetFrame(admin);
        expect(await act.greeting(adminFrame)).toBe(t('greeting', { name: 'Ada Lovelace' }));
        const installed = performance.now();

        const user = await open(`${portal.portal_url}?user_id=2`);
        const frame = await cabinetFrame(user);
        expect(await act.greeting(frame)).toBe(t('greeting', { name: 'Иван Петров' }));
        await act.createItem(frame, itemName, STEP);
        expect(await act.itemNames(frame)).toEqual([itemName]);
        const created = performance.now();

        // Bitrix24 posts ONAPPUNINSTALL to the handler URL, i.e. through nginx.
        await emu.uninstall(portal.member_id, true);
        const gone = await open(`${portal.portal_url}?user_id=2`);
        expect(await gone.page.locator('.b24-notice h2').textContent()).toBe(lang === 'ru' ? 'Приложение не установлено' : 'Application not installed');
        const done = performance.now();
        const ms = (a: number, b: number) => Math.round(b - a);
        const line = `${lang}: ${ms(started, done)} ms through nginx (install ${ms(started, installed)} ms, launch + create ${ms(installed, created)} ms, uninstall ${ms(created, done)} ms)`;
        times.push(line);
        console.log(`nginx journey ${line}`);

        // The uninstall event came through nginx (as every event from Bitrix24 does).
        await waitFor(() => throughNginx().some((r) => r.method === 'POST' && r.path === '/events' && r.status === 200), { what: 'POST /events through nginx' });
      }));

    it('sent every request to the app under /my-app/, and the app emitted only /my-app/ URLs', async () => {
      await Promise.all(pending);
      const requests = tabs.flatMap((tab) => tab.requests);
      expect(requests.length).toBeGreaterThan(10);
      expect(requests.filter((r) => !r.path.startsWith(`${SUB}/`)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
      // Assets, htmx fragments and the API all went through (not just the frame's page).
      expect(requests.some((r) => r.path.startsWith(`${SUB}/public/`))).toBe(true);
      expect(requests.some((r) => r.method === 'POST' && r.path === `${SUB}/ui/items`)).toBe(true);

      const urls = html.flatMap((h) => appUrlsIn(h.body, nginx.origin).map((u) => ({ page: h.url, u })));
      expect(urls.length).toBeGreaterThan(10);
      expect(urls.some(({ u }) => u.startsWith(`${SUB}/ui/`))).toBe(true);
      expect(urls.filter(({ u }) => !u.startsWith(`${SUB}/`))).toEqual([]);
      for (const r of redirects) {
        const target = new URL(r.location, r.url);
        if (target.origin === nginx.origin) expect(target.pathname.startsWith(`${SUB}/`), `${r.url} -> ${r.location}`).toBe(true);
      }
      for (const c of cookies) expect(/;\s*Path=([^;]*)/i.exec(c)?.[1] ?? '', c).toStartWith(SUB);
    });

    it("logged the browser's address (127.0.0.1), not nginx's (127.0.0.2)", () => {
      // So far everything reached nginx from 127.0.0.1: the browser, and the emulator's events.
      const lines = throughNginx();
      expect(lines.filter((r) => r.path?.startsWith('/ui/') || r.path === '/' || r.path === '/install').length).toBeGreaterThanOrEqual(4);
      expect([...new Set(lines.map((r) => r.ip))]).toEqual(['127.0.0.1']);
    });
  });
}

describe('the client address behind nginx', () => {
  it('is the address nginx saw, never one the client wrote; without the header the app sees only nginx', async () => {
    const forged = await curlFrom('127.0.0.3', `${SUB}/nothing-here`, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
    expect(forged.status).toBe(404);
    const id = forged.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    // Both logs are written just after the answer went out: wait for the lines.
    expect(await waitFor(() => nginx.accessLog().find((l) => l.includes(id!)), { what: 'the nginx log line' })).toStartWith('127.0.0.3 ');
    expect(await appLine(id!)).toMatchObject({ path: '/nothing-here', status: 404, ip: '127.0.0.3' });

    // The control: the same request through a location that sends no X-Forwarded-For. The app then
    // logs its peer, nginx's 127.0.0.2, so the address above did come from the header nginx wrote.
    const control = await curlFrom('127.0.0.3', '/control/nothing-here');
    expect((await appLine(control.headers.get('x-request-id')!)).ip).toBe(NGINX_PEER);
  });

  it('is what the failed-launch limiter counts: one client gets 429, another is unaffected', async () => {
    const forgedLaunch = (source: string, i: number) =>
      curlFrom(source, `${SUB}/?DOMAIN=nowhere.bitrix24.com&PROTOCOL=1&LANG=en&APP_SID=x`, {
        method: 'POST',
        // A different forged X-Forwarded-For each time: were it believed, every attempt would be a new client.
        headers: { 'X-Forwarded-For': `198.51.100.${i + 1}` },
        form: { AUTH_ID: `forged-${i}-${crypto.randomUUID()}`, AUTH_EXPIRES: '3600', REFRESH_ID: `forged-refresh-${i}-0000`, member_id: 'f'.repeat(32) },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await forgedLaunch('127.0.0.3', i)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(-5)).toEqual(Array(5).fill(429));
    // Another client (127.0.0.4) is still verified normally: refused, not limited.
    expect((await forgedLaunch('127.0.0.4', 0)).status).toBe(401);
    // And the browser's address was never limited either.
    expect(throughNginx().filter((r) => r.ip === '127.0.0.1' && r.status === 429)).toEqual([]);
  });
});
