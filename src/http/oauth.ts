/**
 * GET /auth/bitrix24: the OAuth code flow for opening the app outside the frame.
 *   ?domain=portal        -> a one-time state (stored hashed, 10 minutes) and a redirect to the portal's consent page
 *   ?code=&state=&…       -> state consumed once, token server allow-listed, code exchanged, token verified
 *                            like a launch, a first-party session cookie set, redirect to the app.
 * Every failure is the same bland page: an attacker learns nothing about which check failed.
 */
import { Elysia } from 'elysia';
import { isBitrixError } from '../bitrix/index.ts';
import { ErrorPage } from '../../views/error-page.tsx';
import { translator } from '../../views/i18n.ts';
import { pageLang } from './page-lang.ts';
import { normalizeDomain } from '../auth/portal-domain.ts';
import { randomToken, sha256Hex } from '../auth/secret-hash.ts';
import { sessionCookie, type RouteContext } from './context.ts';
import { clientIpOf } from './request-meta.ts';

const STATE_TTL = 600;

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

  async function start(rawDomain: string, request: Request) {
    const domain = normalizeDomain(rawDomain.replace(/^https?:\/\//, '').replace(/\/.*$/, ''));
    if (!domain) return failed(request);
    const state = randomToken();
    await ctx.store.oauthStates.create(sha256Hex(state), domain, now());
    const target = new URL(`${portalScheme}://${domain}/oauth/authorize/`);
    target.searchParams.set('client_id', ctx.config.clientId);
    target.searchParams.set('state', state);
    target.searchParams.set('redirect_uri', `${ctx.config.publicUrl}/auth/bitrix24`);
    return new Response(null, { status: 302, headers: { location: target.toString(), 'cache-control': 'no-store' } });
  }

  async function finish(q: Record<string, string | undefined>, request: Request) {
    const state = q.state ?? '';
    if (!state || !q.code || !q.domain || !q.member_id || !q.server_domain) return failed(request);
    const saved = await ctx.store.oauthStates.consume(sha256Hex(state), now() - STATE_TTL);
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
      return new Response(null, {
        status: 302,
        headers: { location: ctx.url('/'), 'set-cookie': sessionCookie(ctx, signed.session.token, maxAge, false), 'cache-control': 'no-store' },
      });
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
