/**
 * The app page in the Bitrix24 frame. POST / is a launch: the portal's hidden form with AUTH_ID and
 * the claimed DOMAIN/member_id, verified before anything else happens. GET / (opened directly, or a
 * reload) shows the cabinet for a cookie session, otherwise how to open the app.
 */
import { Elysia } from 'elysia';
import { pickLang } from '../../views/i18n.ts';
import { portalOrigin } from '../auth/portal-domain.ts';
import type { Installer } from '../auth/portal-install.ts';
import { notInstalled } from '../auth/sign-in.ts';
import { cookieToken } from './session-guard.ts';
import type { RouteContext } from './context.ts';
import { htmlResponse, pageHeaders } from './page-security.ts';
import { readForm } from './request-form.ts';
import type { CabinetRenderer } from './items-ui.ts';
import { launchedPage, launchFromForm, outsidePage } from './launch-flow.ts';

export const launchRoutes = (ctx: RouteContext, cabinet: CabinetRenderer, installer: Installer) => {
  return new Elysia({ name: 'launch', seed: ctx })
    .post('/', async ({ request }) => {
      const form = await readForm(request);
      const lang = pickLang(form.get('LANG'));
      const authId = form.get('AUTH_ID');
      if (!authId) return outsidePage(ctx, lang);
      const { signed } = await launchFromForm(ctx, installer, request, form, authId, lang, 'app');
      const html = await cabinet.renderPage({
        actor: { portalId: signed.portal.id, userId: signed.user.userId },
        user: signed.user,
        session: signed.session,
      });
      return launchedPage(ctx, signed, html);
    })
    .get('/', async ({ request, query }) => {
      // Portals that ignore redirect_uri send the OAuth callback to the handler URL: pass it on.
      if (query.code && query.state) {
        return new Response(null, { status: 302, headers: { location: `${ctx.url('/auth/bitrix24')}${new URL(request.url).search}` } });
      }
      const token = cookieToken(request);
      const session = token ? await ctx.sessions.verify(token) : null;
      const lang = pickLang(query.LANG);
      if (session?.closed) throw notInstalled();
      if (!session || !token) return outsidePage(ctx, lang);
      const [user, portal] = await Promise.all([
        ctx.store.users.find(session.portalId, session.userId),
        ctx.store.portals.findById(session.portalId),
      ]);
      if (!user || !portal) return outsidePage(ctx, lang);
      const html = await cabinet.renderPage({
        actor: { portalId: portal.id, userId: user.userId },
        user,
        session: { token, expiresAt: session.expiresAt },
      });
      return htmlResponse(html, pageHeaders(ctx.config, portalOrigin(portal.clientEndpoint)));
    });
};
