/**
 * Headers for HTML pages that Bitrix24 frames. `frame-ancestors` names the verified portal's origin;
 * before a portal is known (first paint of an unverified request) it names the Bitrix24 cloud domains,
 * plus loopback when the configured OAuth server is the local emulator. Never `*`.
 */
import type { Config } from '../config.ts';

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

export function pageHeaders(config: Pick<Config, 'oauthServers' | 'bx24SdkUrl'>, portalOrigin: string | null): Record<string, string> {
  const ancestors = portalOrigin ? [portalOrigin] : framingAllowList(config);
  const portal = portalOrigin ?? '';
  const csp = [
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
  return {
    'content-security-policy': csp,
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
  };
}

export const htmlResponse = (body: string, headers: Record<string, string>, status = 200, extra: Record<string, string> = {}) =>
  new Response(body, { status, headers: { ...headers, ...extra } });
