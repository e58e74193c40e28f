/**
 * A minimal third-party app for the browser tests, served on `localhost` so that it is cross-site from
 * the portal on 127.0.0.1, as a real app is. `/<variant>/` is the app page and `/<variant>/install` the
 * installer page; a form POST carrying `event=` to the install URL is an ONAPPINSTALL and is recorded.
 */
import type { Frame, Page } from 'playwright-core';
import { resolve } from 'node:path';
import { waitFor } from '../support/wait-for.ts';

export interface FrameAppRequest {
  path: string;
  method: string;
  form: URLSearchParams;
}

export interface FrameApp {
  url: string;
  requests: FrameAppRequest[];
  stop(): void;
}

const UMD = resolve(import.meta.dir, '../../node_modules/@bitrix24/b24jssdk/dist/umd/index.min.js');

export function startFrameApp(renderPage: (variant: string, isInstaller: boolean) => string): FrameApp {
  const requests: FrameAppRequest[] = [];
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === '/umd.js') return new Response(Bun.file(UMD), { headers: { 'content-type': 'application/javascript' } });
      const form = new URLSearchParams(req.method === 'POST' ? await req.text() : '');
      requests.push({ path: url.pathname, method: req.method, form });
      const m = /^\/([a-z]+)\/(install)?$/.exec(url.pathname);
      if (!m) return new Response('not found', { status: 404 });
      if (form.has('event')) return new Response('ok');
      return new Response(renderPage(m[1] ?? '', m[2] === 'install'), { headers: { 'content-type': 'text/html; charset=utf-8' } });
    },
  });
  return { url: `http://localhost:${server.port}`, requests, stop: () => server.stop(true) };
}

/**
 * The app frame of a portal page once its URL starts with `urlPrefix` and its page script has
 * reported (`window.__results.ready`, or `.error` for a page that failed to initialise).
 */
export async function waitForAppFrame(page: Page, urlPrefix: string): Promise<Frame> {
  const frame = await waitFor(() => page.frames().find((f) => f.url().startsWith(urlPrefix)), {
    what: `a frame at ${urlPrefix}`,
    intervalMs: 20,
  }).catch((e: Error) => {
    throw new Error(`${e.message}; frames: ${page.frames().map((f) => f.url()).join(', ')}`);
  });
  await frame.waitForFunction(() => (window as any).__results?.ready || (window as any).__results?.error, undefined, { timeout: 10_000 });
  return frame;
}

