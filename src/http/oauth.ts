/**
 * GET /auth/bitrix24: the OAuth code flow for opening the app outside the frame, over HTTP. The rules
 * (which portals, one-time states bound to the starting browser, allow-listed token servers) live in
 * src/auth/oauth-sign-in.ts; here are the redirects and cookies.
 *   ?domain=portal        -> a state, its browser secret in a first-party cookie, a redirect to the portal's consent page
 *   ?code=&state=&…       -> the callback: a first-party session cookie and a redirect to the app
 * Every failure is the same bland page: an attacker learns nothing about which check failed.
 */
import { Elysia } from 'elysia';
import { ErrorPage } from '../../views/pages.tsx';
import { translator } from '../../views/i18n.ts';
import { STATE_TTL, type OAuthSignIn } from '../auth/oauth-sign-in.ts';
import type { Config } from '../config.ts';
import type { RequestMeta } from './edge.ts';
import { pageLang } from './errors.ts';
import type { Pages } from './pages.ts';
import { cookieValue } from './session.ts';

const BROWSER_COOKIE = 'b24app_oauth';

export const oauthRoutes = (flow: OAuthSignIn, pages: Pages, meta: RequestMeta, config: Pick<Config, 'publicUrl'>) => {
  const failed = (request: Request) => {
    const lang = pageLang(request);
    const t = translator(lang);
    const view = ErrorPage({ lang, status: 400, title: t('signInFailed'), message: t('signInFailedBody'), requestIdLabel: t('requestId'), assets: pages.assets(false) });
    return pages.page(view, { status: 400 });
  };
  const browserCookie = (value: string, maxAge: number) =>
    `${BROWSER_COOKIE}=${value}; Path=${pages.url('/auth/bitrix24')}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${config.publicUrl.startsWith('https:') ? '; Secure' : ''}`;

  return new Elysia({ name: 'oauth' }).get('/auth/bitrix24', async ({ query, request }) => {
    const client = meta.clientIp(request);
    if (!query.code && !query.state) {
      const started = await flow.begin(query.domain ?? '', client);
      if (!started) return failed(request);
      return new Response(null, {
        status: 302,
        headers: { location: started.location, 'cache-control': 'no-store', 'set-cookie': browserCookie(started.browser, STATE_TTL) },
      });
    }
    const signed = await flow.finish(query, cookieValue(request, BROWSER_COOKIE), client);
    if (!signed) return failed(request);
    const headers = new Headers({ location: pages.url('/'), 'cache-control': 'no-store' });
    headers.append('set-cookie', pages.sessionCookie(signed.session.token, signed.session.expiresAt, false));
    headers.append('set-cookie', browserCookie('', 0));
    return new Response(null, { status: 302, headers });
  });
};
