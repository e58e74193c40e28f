/**
 * The shared path of every frame launch (the app page and the installer): verify the portal's form,
 * record who it is, open a session, and answer with the page and a convenience cookie.
 */
import { translator } from '../../views/i18n.ts';
import { OutsidePage } from '../../views/outside-page.tsx';
import type { SignedIn } from '../auth/sign-in.ts';
import type { VerifiedLaunch } from '../auth/launch-verifier.ts';
import { portalOrigin } from '../auth/portal-domain.ts';
import { sessionCookie, type RouteContext } from './context.ts';
import { launchTokens } from './launch-tokens.ts';
import { clientIpOf } from './request-meta.ts';
import { htmlResponse, pageHeaders } from './page-security.ts';

export interface Launched {
  verified: VerifiedLaunch;
  signed: SignedIn;
}

/**
 * Throws AppError('unauthorized') unless an allow-listed OAuth server vouches for the form's AUTH_ID;
 * `fresh` asks it even when a verdict is cached (installs).
 */
export function verifyForm(ctx: RouteContext, request: Request, form: URLSearchParams, authId: string, fresh = false): Promise<VerifiedLaunch> {
  return ctx.verifyLaunch({
    authId,
    domain: form.get('DOMAIN') ?? '',
    memberId: form.get('member_id') ?? '',
    serverEndpoint: form.get('SERVER_ENDPOINT') ?? undefined,
    fresh,
  }, clientIpOf(request));
}

/** A verified launch of the app page: the portal and user recorded, a session opened. */
export async function launchFromForm(ctx: RouteContext, request: Request, form: URLSearchParams, authId: string, lang: string): Promise<Launched> {
  const verified = await verifyForm(ctx, request, form, authId);
  const signed = await ctx.signIn(verified, lang, launchTokens(form, verified));
  return { verified, signed };
}

/** The page, framed only by the verified portal, with the session cookie for plain navigations. */
export function launchedPage(ctx: RouteContext, signed: SignedIn, html: string): Response {
  const maxAge = signed.session.expiresAt - Math.floor(Date.now() / 1000);
  return htmlResponse(html, pageHeaders(ctx.config, portalOrigin(signed.portal.clientEndpoint)), 200, {
    'set-cookie': sessionCookie(ctx, signed.session.token, maxAge, true),
  });
}

/** Opened outside Bitrix24 with no session: how to open the app, and the OAuth sign-in. */
export function outsidePage(ctx: RouteContext, lang: string): Response {
  const page = OutsidePage({ t: translator(lang), lang, assets: ctx.pageAssets(false), signInAction: ctx.url('/auth/bitrix24') });
  return htmlResponse(page as string, pageHeaders(ctx.config, null));
}
