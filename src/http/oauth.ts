/**
 * GET /auth/bitrix24: the OAuth code flow for opening the app outside the frame.
 *   ?domain=portal        -> only for a Bitrix24 cloud domain or a portal the app knows (no open redirect):
 *                            a one-time state (stored hashed together with a secret in a first-party
 *                            cookie of the starting browser, 10 minutes, bounded in number) and a
 *                            redirect to the portal's consent page
 *   ?code=&state=&…       -> state consumed once by the browser that started it, token server allow-listed,
 *                            code exchanged, token verified like a launch, a first-party session cookie
 *                            set, redirect to the app.
 * Every failure is the same bland page: an attacker learns nothing about which check failed.
 */
import { Elysia } from 'elysia';
import { isBitrixError } from '../bitrix/index.ts';
import { ErrorPage } from '../../views/error-page.tsx';
import { translator } from '../../views/i18n.ts';
import { pageLang } from './page-lang.ts';
import { createAttemptLimiter } from '../auth/attempt-limiter.ts';
import { domainMatches, normalizeDomain } from '../auth/portal-domain.ts';
import { AppError } from '../domain/errors.ts';
import { cookieValue } from './session-guard.ts';
import { randomToken, sha256Hex } from '../auth/secret-hash.ts';
import { sessionCookie, type RouteContext } from './context.ts';
import { clientIpOf } from './request-meta.ts';

const STATE_TTL = 600;
/** Sign-ins started and not finished within STATE_TTL; beyond this, starting one answers 429. */
const MAX_PENDING_STATES = 10_000;
const BROWSER_COOKIE = 'b24app_oauth';

export const oauthRoutes = (ctx: RouteContext) => {
  const now = () => Math.floor(Date.now() / 1000);
  const failed = (request: Request) => {
    const lang = pageLang(request);
    const t = translator(lang);
    const page = ErrorPage({
      lang,
      status: 400,
      title: t('signInFailed'),
      message: t('signInFailedBody'),
      requestIdLabel: t('requestId'),
      assets: ctx.pageAssets(false),
    });
    return new Response(page as string, { status: 400, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } });
  };
  // Portals speak https; plain http only when the configured OAuth server is the local emulator.
  const portalScheme = ctx.config.oauthServers.some((s) => s.startsWith('http:')) ? 'http' : 'https';

  // The state is bound to the browser that started the flow: its hash covers a secret kept in a
  // short-lived first-party cookie, so a callback URL sent to someone else signs nobody in (login CSRF).
  const browserCookie = (value: string, maxAge: number) =>
    `${BROWSER_COOKIE}=${value}; Path=${ctx.url('/auth/bitrix24')}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${ctx.config.publicUrl.startsWith('https:') ? '; Secure' : ''}`;
  const stateHash = (state: string, browser: string) => sha256Hex(`${state}.${browser}`);

  /** Only Bitrix24 portals: a cloud domain (BITRIX24_PORTAL_DOMAINS) or a portal the app knows. */
  const mayStartAt = async (domain: string) =>
    domainMatches(domain, ctx.config.portalDomains) || (await ctx.store.portals.findByDomain(domain)) !== null;

  // Each start stores a state: an anonymous client gets a burst of them, then one every few seconds.
  const starts = createAttemptLimiter();

  async function start(rawDomain: string, request: Request) {
    const domain = normalizeDomain(rawDomain.replace(/^https?:\/\//, '').replace(/\/.*$/, ''));
    if (!domain || !(await mayStartAt(domain))) return failed(request);
    const client = clientIpOf(request);
    if (!starts.allows(client)) throw new AppError('rate_limited', 'Too many sign-ins started. Wait a minute and try again.');
    starts.recordFailure(client);
    const state = randomToken();
    const browser = randomToken();
    if (!(await ctx.store.oauthStates.create(stateHash(state, browser), domain, now(), now() - STATE_TTL, MAX_PENDING_STATES))) {
      ctx.logger.warn('oauth: too many pending sign-ins; refused a new one');
      throw new AppError('rate_limited', 'Too many sign-ins are in progress. Try again in a few minutes.');
    }
    const target = new URL(`${portalScheme}://${domain}/oauth/authorize/`);
    target.searchParams.set('client_id', ctx.config.clientId);
    target.searchParams.set('state', state);
    target.searchParams.set('redirect_uri', `${ctx.config.publicUrl}/auth/bitrix24`);
    return new Response(null, {
      status: 302,
      headers: { location: target.toString(), 'cache-control': 'no-store', 'set-cookie': browserCookie(browser, STATE_TTL) },
    });
  }

  async function finish(q: Record<string, string | undefined>, request: Request) {
    const state = q.state ?? '';
    const browser = cookieValue(request, BROWSER_COOKIE);
    if (!state || !browser || !q.code || !q.domain || !q.member_id || !q.server_domain) return failed(request);
    const saved = await ctx.store.oauthStates.consume(stateHash(state, browser), now() - STATE_TTL);
    if (!saved || saved.domain !== normalizeDomain(q.domain)) return failed(request);
    const server = ctx.config.oauthServers.find((s) => new URL(s).host === q.server_domain);
    if (!server) return failed(request);
    // The code exchange costs a round trip to the OAuth server: limited like a failing launch.
    const client = clientIpOf(request);
    if (!ctx.attempts.allows(client)) return failed(request);
    try {
      const grant = await ctx.bitrix.oauth.exchangeCode(server, q.code);
      const verified = await ctx.verifyLaunch({
        authId: grant.tokens.accessToken,
        domain: saved.domain,
        memberId: q.member_id,
        serverEndpoint: server,
      }, client);
      const signed = await ctx.signIn(verified, 'en', grant.tokens);
      const maxAge = signed.session.expiresAt - now();
      const headers = new Headers({ location: ctx.url('/'), 'cache-control': 'no-store' });
      headers.append('set-cookie', sessionCookie(ctx, signed.session.token, maxAge, false));
      headers.append('set-cookie', browserCookie('', 0));
      return new Response(null, { status: 302, headers });
    } catch (e) {
      ctx.logger.warn('oauth callback failed', { reason: (e as Error).name });
      if (isBitrixError(e)) ctx.attempts.recordFailure(client); // the verifier counts its own refusals
      return failed(request);
    }
  }

  return new Elysia({ name: 'oauth', seed: ctx }).get('/auth/bitrix24', ({ query, request }) =>
    query.code || query.state ? finish(query, request) : start(query.domain ?? '', request),
  );
};
