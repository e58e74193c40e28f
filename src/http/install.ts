/**
 * /install: the installer page Bitrix24 frames while the app is not installed (a verified launch,
 * like POST /), and the server-to-server ONAPPINSTALL event (form field `event`).
 */
import { Elysia } from 'elysia';
import { pickLang, translator } from '../../views/i18n.ts';
import { InstallPage } from '../../views/install-page.tsx';
import { OutsidePage } from '../../views/outside-page.tsx';
import type { createInstallEventHandler } from '../auth/install-event.ts';
import { portalOrigin } from '../auth/portal-domain.ts';
import { sessionCookie, type RouteContext } from './context.ts';
import { launchTokens } from './launch-tokens.ts';
import { htmlResponse, pageHeaders } from './page-security.ts';
import { parsePhpForm } from './php-form.ts';
import { readForm } from './request-form.ts';

export const installRoutes = (ctx: RouteContext, handleInstallEvent: ReturnType<typeof createInstallEventHandler>) => {
  const handle = async (request: Request) => {
    const form = await readForm(request);
    if ((form.get('event') ?? '').toUpperCase() === 'ONAPPINSTALL') {
      await handleInstallEvent(parsePhpForm(form));
      return new Response('OK', { headers: { 'content-type': 'text/plain' } });
    }
    const lang = pickLang(form.get('LANG'));
    const t = translator(lang);
    const authId = form.get('AUTH_ID');
    if (!authId) {
      return htmlResponse(
        OutsidePage({ t, lang, assets: ctx.pageAssets(false), signInAction: ctx.url('/auth/bitrix24') }) as string,
        pageHeaders(ctx.config, null),
      );
    }
    const verified = await ctx.verifyLaunch({
      authId,
      domain: form.get('DOMAIN') ?? '',
      memberId: form.get('member_id') ?? '',
      serverEndpoint: form.get('SERVER_ENDPOINT') ?? undefined,
    });
    const signed = await ctx.signIn(verified, lang, launchTokens(form, verified));
    if (signed.user.isAdmin) {
      // One-time setup with the installing admin's (app-context) token, before installFinish.
      await ctx.bitrix
        .callWithToken(verified.portal.clientEndpoint, authId, 'event.bind', { event: 'ONAPPUNINSTALL', handler: `${ctx.config.publicUrl}/events` })
        .catch((e: { code?: string }) => {
          if (e.code !== 'ERROR_HANDLER_ALREADY_EXIST') ctx.logger.warn('install: event.bind failed', { code: e.code });
        });
    }
    const page = InstallPage({ t, lang, assets: ctx.pageAssets(true), isAdmin: signed.user.isAdmin }) as string;
    const maxAge = signed.session.expiresAt - Math.floor(Date.now() / 1000);
    return htmlResponse(page, pageHeaders(ctx.config, portalOrigin(signed.portal.clientEndpoint)), 200, {
      'set-cookie': sessionCookie(ctx, signed.session.token, maxAge, true),
    });
  };
  return new Elysia({ name: 'install', seed: ctx })
    .get('/install', ({ request }) => handle(request))
    .post('/install', ({ request }) => handle(request), { parse: 'none' });
};
