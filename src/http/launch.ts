/**
 * The app page in the Bitrix24 frame. POST / is a launch: the portal's hidden form with AUTH_ID and
 * the claimed DOMAIN/member_id, verified before anything else happens (src/auth/sign-in.ts). GET /
 * (opened directly, or a reload) shows the cabinet for a cookie session, otherwise how to open the
 * app. The installer page (install.ts) shares the launch path below.
 */
import { Elysia } from 'elysia';
import { pickLang, translator } from '../../views/i18n.ts';
import { OutsidePage } from '../../views/pages.tsx';
import { portalOrigin } from '../auth/portal-domain.ts';
import type { Sessions } from '../auth/sessions.ts';
import { notInstalled, type LaunchForm, type SignedIn, type SignIn } from '../auth/sign-in.ts';
import type { RequestMeta } from './edge.ts';
import type { CabinetRenderer } from './items-ui.ts';
import type { Pages, View } from './pages.ts';
import { readForm } from './request.ts';
import { cookieToken } from './session.ts';

/** The launch fields of a posted form; null when it carries no AUTH_ID (not a launch). */
export function readLaunchForm(form: URLSearchParams, page: LaunchForm['page']): LaunchForm | null {
  const authId = form.get('AUTH_ID');
  if (!authId) return null;
  return {
    authId,
    refreshId: form.get('REFRESH_ID'),
    domain: form.get('DOMAIN') ?? '',
    memberId: form.get('member_id') ?? '',
    serverEndpoint: form.get('SERVER_ENDPOINT'),
    applicationToken: form.get('APPLICATION_TOKEN'),
    lang: pickLang(form.get('LANG')),
    page,
  };
}

/** The page after a launch, framed only by the verified portal, with the session cookie for plain navigations. */
export const launchedPage = (pages: Pages, signed: SignedIn, view: View): Response =>
  pages.page(view, {
    portalOrigin: portalOrigin(signed.portal.clientEndpoint),
    cookies: [pages.sessionCookie(signed.session.token, signed.session.expiresAt, true)],
  });

/** Opened outside Bitrix24 with no session: how to open the app, and the OAuth sign-in. */
export const outsidePage = (pages: Pages, lang: string): Response =>
  pages.page(OutsidePage({ t: translator(lang), lang, assets: pages.assets(false), signInAction: pages.url('/auth/bitrix24') }));

export interface LaunchDeps {
  signIn: SignIn;
  sessions: Sessions;
  cabinet: CabinetRenderer;
  pages: Pages;
  meta: RequestMeta;
}

export const launchRoutes = ({ signIn, sessions, cabinet, pages, meta }: LaunchDeps) =>
  new Elysia({ name: 'launch' })
    .post('/', async ({ request }) => {
      const form = await readForm(request);
      const launch = readLaunchForm(form, 'app');
      if (!launch) return outsidePage(pages, pickLang(form.get('LANG')));
      const signed = await signIn.launch(launch, meta.clientIp(request));
      meta.notePortal(request, signed.portal.memberId);
      const view = await cabinet.renderPage({ portalId: signed.portal.id, userId: signed.user.userId }, signed.user, signed.session);
      return launchedPage(pages, signed, view);
    })
    .get('/', async ({ request, query }) => {
      // Portals that ignore redirect_uri send the OAuth callback to the handler URL: pass it on.
      if (query.code && query.state) {
        return new Response(null, { status: 302, headers: { location: `${pages.url('/auth/bitrix24')}${new URL(request.url).search}` } });
      }
      const lang = pickLang(query.LANG);
      const token = cookieToken(request);
      const session = token ? await sessions.verify(token) : null;
      if (session?.closed) throw notInstalled();
      const who = session && (await signIn.whoIs(session));
      if (!token || !session || !who) return outsidePage(pages, lang);
      meta.notePortal(request, who.portal.memberId);
      const view = await cabinet.renderPage(session, who.user, { token, expiresAt: session.expiresAt });
      return pages.page(view, { portalOrigin: portalOrigin(who.portal.clientEndpoint) });
    });
