/**
 * Every HTML response the app sends is built here: full pages (framed only by the verified portal),
 * htmx fragments (with their toasts and events in ASCII-safe headers), and the session cookie.
 * Routes render a view and hand it over; they never set HTML headers themselves.
 *
 * Framing: `frame-ancestors` names the verified portal's origin; before a portal is known (the first
 * paint of an unverified request) it names the Bitrix24 cloud domains, plus loopback when the
 * configured OAuth server is the local emulator. Never `*`.
 *
 * Header values must be ASCII: Bun refuses any other character with a TypeError, which once turned
 * every Russian toast into a 500 after the change had been stored. `asciiJson` escapes every code
 * unit outside printable ASCII (JSON.parse in htmx reads the text back unchanged).
 */
import type { PageAssets } from '../../views/layout.tsx';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Assets } from './assets.ts';

/** What a rendered view is; our views are synchronous, so it is the HTML text. */
export type View = JSX.Element;
const text = (view: View | ''): string => view as string;

const CLOUD_ANCESTORS = ['https://*.bitrix24.com', 'https://*.bitrix24.ru', 'https://*.bitrix24.de', 'https://*.bitrix24.by', 'https://*.bitrix24.kz', 'https://*.bitrix24.eu'];

export function framingAllowList(config: Pick<Config, 'oauthServers'>): string[] {
  const local = config.oauthServers.some((s) => s.startsWith('http:')) ? ['http://127.0.0.1:*', 'http://localhost:*'] : [];
  return [...CLOUD_ANCESTORS, ...local];
}

/** The BX24 library's host as a CSP source (`//api.bitrix24.com/api/v1/` -> `api.bitrix24.com`). */
function sdkSource(bx24SdkUrl: string): string {
  const u = new URL(bx24SdkUrl, 'https://placeholder.invalid');
  return bx24SdkUrl.startsWith('//') ? u.host : u.origin;
}

/** The Content-Security-Policy of a page framed by `portalOrigin` (null: not known yet). */
export function pageCsp(config: Pick<Config, 'oauthServers' | 'bx24SdkUrl'>, portalOrigin: string | null): string {
  const ancestors = portalOrigin ? [portalOrigin] : framingAllowList(config);
  const portal = portalOrigin ?? '';
  return [
    "default-src 'self'",
    `script-src 'self' ${sdkSource(config.bx24SdkUrl)}`,
    "style-src 'self'",
    `img-src 'self' data: https: ${portal}`.trim(),
    // BX24.callMethod talks to the portal's REST API straight from the frame.
    `connect-src 'self' ${portal}`.trim(),
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    `frame-ancestors ${ancestors.join(' ')}`,
  ].join('; ');
}

/** `value` as JSON made of printable ASCII only, safe as any header value. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export interface Toast {
  kind: 'success' | 'error';
  message: string;
  code?: string;
}

export interface FragmentOptions {
  status?: number;
  toast?: Toast;
  /** htmx events fired on receipt (name -> detail). */
  events?: Record<string, unknown>;
  /** htmx events fired once the new content has settled (focus, open a dialog). */
  afterSettle?: Record<string, unknown>;
  /** HX-Reswap, e.g. 'delete' to remove the target row. */
  reswap?: string;
  headers?: Record<string, string>;
}

export interface PageOptions {
  status?: number;
  /** The verified portal that may frame the page; null before one is known. */
  portalOrigin?: string | null;
  cookies?: string[];
  headers?: Record<string, string>;
}

export interface Pages {
  /** BASE_PATH-prefixed absolute path for a route, e.g. url('/api/items'). */
  url(path: string): string;
  /** Scripts and styles for a page; `frame` pages also load BX24 and the island. */
  assets(frame: boolean): PageAssets;
  page(view: View, opts?: PageOptions): Response;
  fragment(view: View | '', opts?: FragmentOptions): Response;
  /** The app session as a cookie, for plain navigations (nothing depends on it in the frame). */
  sessionCookie(token: string, expiresAt: number, inFrame: boolean): string;
}

export function fragmentHeaders(opts: FragmentOptions): Headers {
  const headers = new Headers({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...opts.headers });
  const events = { ...opts.events, ...(opts.toast ? { toast: opts.toast } : {}) };
  if (Object.keys(events).length) headers.set('hx-trigger', asciiJson(events));
  if (opts.afterSettle) headers.set('hx-trigger-after-settle', asciiJson(opts.afterSettle));
  if (opts.reswap) headers.set('hx-reswap', opts.reswap);
  return headers;
}

export function createPages(config: Pick<Config, 'basePath' | 'publicUrl' | 'oauthServers' | 'bx24SdkUrl'>, assets: Assets, clock: Clock): Pages {
  const url = (path: string) => `${config.basePath}${path}`;
  const secure = config.publicUrl.startsWith('https:') || new URL(config.publicUrl).hostname === 'localhost';
  return {
    url,
    assets: (frame) => ({
      css: assets.url('app.css'),
      ...(frame ? { htmx: assets.url('htmx.js'), alpine: assets.url('alpine.js'), island: assets.url('island.js'), bx24: config.bx24SdkUrl } : {}),
    }),
    page(view, opts = {}) {
      const headers = new Headers({
        'content-security-policy': pageCsp(config, opts.portalOrigin ?? null),
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        ...opts.headers,
      });
      for (const cookie of opts.cookies ?? []) headers.append('set-cookie', cookie);
      return new Response(text(view), { status: opts.status ?? 200, headers });
    },
    fragment: (view, opts = {}) => new Response(text(view), { status: opts.status ?? 200, headers: fragmentHeaders(opts) }),
    sessionCookie(token, expiresAt, inFrame) {
      // In the Bitrix24 frame the cookie is third-party: SameSite=None + Partitioned (CHIPS).
      const site = inFrame ? 'SameSite=None; Partitioned' : 'SameSite=Lax';
      const maxAge = expiresAt - clock.now();
      return `b24app_session=${token}; Path=${url('/')}; Max-Age=${maxAge}; HttpOnly; ${secure ? 'Secure; ' : ''}${site}`;
    },
  };
}
