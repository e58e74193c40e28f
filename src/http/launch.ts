/**
 * The app page in the Bitrix24 frame. POST / is a launch: the portal's hidden form with AUTH_ID and
 * the claimed DOMAIN/member_id, verified before anything else happens. GET / (opened directly, or a
 * reload) shows the cabinet for a cookie session, otherwise how to open the app.
 */
import { Elysia } from 'elysia';
import { pickLang, translator } from '../../views/i18n.ts';
import { OutsidePage } from '../../views/outside-page.tsx';
import { portalOrigin } from '../auth/portal-domain.ts';
import { cookieToken } from './session-guard.ts';
import { sessionCookie, type RouteContext } from './context.ts';
import { htmlResponse, pageHeaders } from './page-security.ts';
import { readForm } from './request-form.ts';
import type { CabinetRenderer } from './items-ui.ts';
import { launchTokens } from './launch-tokens.ts';

export const launchRoutes = (ctx: RouteContext, cabinet: CabinetRenderer) => {
  const outside = (lang: string) =>
    htmlResponse(
      OutsidePage({ t: translator(lang), lang, assets: ctx.pageAssets(false), signInAction: ctx.url('/auth/bitrix24') }) as string,
      pageHeaders(ctx.config, null),
    );

  return new Elysia({ name: 'launch', seed: ctx })
    .post('/', async ({ request }) => {
      const form = await readForm(request);
      const lang = pickLang(form.get('LANG'));
      const authId = form.get('AUTH_ID');
      if (!authId) return outside(lang);
      const verified = await ctx.verifyLaunch({
        authId,
        domain: form.get('DOMAIN') ?? '',
        memberId: form.get('member_id') ?? '',
        serverEndpoint: form.get('SERVER_ENDPOINT') ?? undefined,
      });
      const signed = await ctx.signIn(verified, lang, launchTokens(form, verified));
      const html = await cabinet.renderPage({
        actor: { portalId: signed.portal.id, userId: signed.user.userId },
        user: signed.user,
        session: signed.session,
      });
      const maxAge = signed.session.expiresAt - Math.floor(Date.now() / 1000);
      return htmlResponse(html, pageHeaders(ctx.config, portalOrigin(signed.portal.clientEndpoint)), 200, {
        'set-cookie': sessionCookie(ctx, signed.session.token, maxAge, true),
      });
    })
    .get('/', async ({ request, query }) => {
      // Portals that ignore redirect_uri send the OAuth callback to the handler URL: pass it on.
      if (query.code && query.state) {
        return new Response(null, { status: 302, headers: { location: `${ctx.url('/auth/bitrix24')}${new URL(request.url).search}` } });
      }
      const token = cookieToken(request);
      const session = token ? await ctx.sessions.verify(token) : null;
      const lang = pickLang(query.LANG);
      if (!session || !token) return outside(lang);
      const [user, portal] = await Promise.all([
        ctx.store.users.find(session.portalId, session.userId),
        ctx.store.portals.findById(session.portalId),
      ]);
      if (!user || !portal) return outside(lang);
      const html = await cabinet.renderPage({
        actor: { portalId: portal.id, userId: user.userId },
        user,
        session: { token, expiresAt: session.expiresAt },
      });
      return htmlResponse(html, pageHeaders(ctx.config, portalOrigin(portal.clientEndpoint)));
    });
};
