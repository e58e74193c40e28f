/**
 * The OAuth server's three endpoints the app uses (bitrix24-platform.md §3): refresh, code exchange,
 * and `app.info` for verifying a token nobody has vouched for yet. Only allow-listed origins are
 * contacted. Grants are form POSTs so client secret and refresh token stay out of URLs. None of these
 * is ever retried: a refresh token is single-use, so a second attempt after an unclear failure would
 * at best fail and at worst race the first.
 *
 * The OAuth server reports errors as `{error, error_description}`, sometimes with HTTP 200
 * (`wrong_client`), so the body decides, not the status.
 */
import { BitrixError, LocalCode, scrubSecrets } from './bitrix-error.ts';
import type { EndpointPolicy } from './endpoint-policy.ts';
import type { FetchFn } from './rest-transport.ts';
import type { OAuthTokens } from '../domain/types.ts';

/** A token response: the tokens plus what it says about the portal. */
export interface OAuthGrant {
  tokens: OAuthTokens;
  memberId: string;
  userId: number;
  clientEndpoint: string;
  serverEndpoint: string;
  /** Bitrix24's app status letter. */
  status: string;
}

/** OAuth-server `app.info` (PYSDK's `BitrixAppInfoResponseData`). */
export interface AppInfo {
  client_id: string;
  scope: string;
  expires: number;
  user_id: number;
  install: {
    installed: boolean;
    version: number;
    status: string;
    scope: string;
    domain: string;
    uri: string;
    client_endpoint: string;
    member_id: string;
    member_type: string;
  };
}

export interface OAuthClient {
  refresh(serverEndpoint: string, refreshToken: string): Promise<OAuthGrant>;
  exchangeCode(serverOrigin: string, code: string): Promise<OAuthGrant>;
  appInfo(serverOrigin: string, accessToken: string): Promise<AppInfo>;
}

export interface OAuthClientOptions {
  clientId: string;
  clientSecret: string;
  policy: EndpointPolicy;
  fetch: FetchFn;
  timeoutMs: number;
  /** For `app.info`, which a user waits on while their launch is verified (default 5 s). */
  appInfoTimeoutMs?: number;
  now?: () => number;
}

export function createOAuthClient(opts: OAuthClientOptions): OAuthClient {
  const now = opts.now ?? Date.now;

  const request = async (label: string, url: string, init: RequestInit, secrets: string[], timeoutMs = opts.timeoutMs): Promise<Record<string, unknown>> => {
    let res: Response;
    try {
      res = await opts.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      throw new BitrixError(timedOut ? LocalCode.timeout : LocalCode.network, 'OAuth server unreachable', 0, label);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new BitrixError(LocalCode.badResponse, `non-JSON answer (HTTP ${res.status})`, res.status, label);
    }
    if (!body || typeof body !== 'object') throw new BitrixError(LocalCode.badResponse, 'unexpected answer', res.status, label);
    const b = body as Record<string, unknown>;
    if (typeof b.error === 'string' || res.status >= 400) {
      const code = typeof b.error === 'string' && b.error ? b.error : LocalCode.badResponse;
      throw new BitrixError(code, scrubSecrets(String(b.error_description ?? `HTTP ${res.status}`), secrets), res.status, label);
    }
    return b;
  };

  const grant = async (label: string, origin: string, fields: Record<string, string>, secret: string): Promise<OAuthGrant> => {
    const form = new URLSearchParams({ client_id: opts.clientId, client_secret: opts.clientSecret, ...fields });
    const b = await request(label, `${origin}/oauth/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    }, [secret, opts.clientSecret]);
    return toGrant(b, label, now());
  };

  return {
    refresh: (serverEndpoint, refreshToken) =>
      grant('oauth.refresh', opts.policy.oauthOrigin(serverEndpoint), { grant_type: 'refresh_token', refresh_token: refreshToken }, refreshToken),
    exchangeCode: (serverOrigin, code) =>
      grant('oauth.code', opts.policy.oauthOrigin(serverOrigin), { grant_type: 'authorization_code', code }, code),
    async appInfo(serverOrigin, accessToken) {
      const origin = opts.policy.oauthOrigin(serverOrigin);
      const b = await request('oauth.app.info', `${origin}/rest/app.info?auth=${encodeURIComponent(accessToken)}`, {
        method: 'GET',
        headers: { accept: 'application/json' },
      }, [accessToken], opts.appInfoTimeoutMs ?? 5_000);
      const r = b.result;
      if (!r || typeof r !== 'object' || !('install' in r)) throw new BitrixError(LocalCode.badResponse, 'app.info without install', 200, 'oauth.app.info');
      return r as AppInfo;
    },
  };
}

function toGrant(b: Record<string, unknown>, label: string, nowMs: number): OAuthGrant {
  const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
  const access = str('access_token');
  const refresh = str('refresh_token');
  if (!access || !refresh) throw new BitrixError(LocalCode.badResponse, 'token answer without tokens', 200, label);
  const expiresIn = Number(b.expires_in ?? 3600);
  // `expires` is absolute; fall back to `expires_in` from our clock when a server leaves it out.
  const expiresAt = typeof b.expires === 'number' ? b.expires : Math.floor(nowMs / 1000) + (Number.isFinite(expiresIn) ? expiresIn : 3600);
  return {
    tokens: { accessToken: access, refreshToken: refresh, expiresAt, scope: str('scope') },
    memberId: str('member_id'),
    userId: Number(b.user_id ?? 0),
    clientEndpoint: str('client_endpoint'),
    serverEndpoint: str('server_endpoint'),
    status: str('status'),
  };
}
