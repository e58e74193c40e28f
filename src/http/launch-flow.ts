/**
 * The shared path of every frame launch (the app page and the installer): verify the portal's form,
 * record who it is, open a session, and answer with the page and a convenience cookie.
 *
 * A launch never changes who owns a portal, except when it is an install by the rules of
 * src/auth/portal-install.ts: a fresh verification of an administrator, on the installer page, or on
 * the app page of a portal the app does not hold as installed (its install never reached us, or an
 * uninstall it could not confirm was carried out: Bitrix24 shows the app page only where the app is
 * installed). A portal not held as installed is never opened on a cached verdict.
 */
import { translator } from '../../views/i18n.ts';
import { OutsidePage } from '../../views/outside-page.tsx';
import type { Installer } from '../auth/portal-install.ts';
import type { SignedIn } from '../auth/sign-in.ts';
import type { LaunchClaim, VerifiedLaunch } from '../auth/launch-verifier.ts';
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
 * Throws AppError('unauthorized') unless an allow-listed OAuth server vouches for the claim; `fresh` asks
 * it even when a verdict is cached, and so does a portal the app does not hold as installed (a cached
 * verdict may predate its uninstall). Also says whether the portal is held as installed.
 */
export async function verifyClaim(ctx: RouteContext, claim: LaunchClaim, client: string): Promise<{ verified: VerifiedLaunch; held: boolean }> {
  let verified = await ctx.verifyLaunch(claim, client);
  const held = (await ctx.store.portals.findByMemberId(verified.portal.memberId))?.status === 'installed';
  if (!held && verified.fromCache) verified = await ctx.verifyLaunch({ ...claim, fresh: true }, client);
  return { verified, held };
}

const APPLICATION_TOKEN_SHAPE = /^[A-Za-z0-9._-]{8,128}$/;

/** A verified launch of the app page or the installer page: the portal and user recorded, a session opened. */
export async function launchFromForm(
  ctx: RouteContext,
  installer: Installer,
  request: Request,
  form: URLSearchParams,
  authId: string,
  lang: string,
  page: 'app' | 'installer',
): Promise<Launched> {
  const claim: LaunchClaim = {
    authId,
    domain: form.get('DOMAIN') ?? '',
    memberId: form.get('member_id') ?? '',
    serverEndpoint: form.get('SERVER_ENDPOINT') ?? undefined,
    fresh: page === 'installer',
  };
  const { verified, held } = await verifyClaim(ctx, claim, clientIpOf(request));
  let pair = launchTokens(form, verified);
  const applicationToken = form.get('APPLICATION_TOKEN') ?? '';
  if (verified.user.isAdmin && (page === 'installer' || !held)) {
    if (pair && APPLICATION_TOKEN_SHAPE.test(applicationToken)) {
      const outcome = await installer.install({ verified, tokens: pair, applicationToken, ts: null });
      // A refresh token is single-use: the pair that became the app's is not also kept as the admin's
      // own (the admin's next launch brings a pair of its own).
      if (outcome.kind === 'installed') pair = null;
      await installer.bindEvents(outcome.portal);
    } else {
      ctx.logger.warn('admin launch without REFRESH_ID or APPLICATION_TOKEN: nothing installed', { member_id: verified.portal.memberId });
    }
  }
  const signed = await ctx.signIn(verified, lang, pair);
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
