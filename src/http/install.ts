/**
 * /install: the installer page Bitrix24 frames while the app is not installed (a verified launch,
 * like POST /), and the server-to-server ONAPPINSTALL event (form field `event`).
 */
import { Elysia } from 'elysia';
import { pickLang, translator } from '../../views/i18n.ts';
import { InstallPage } from '../../views/install-page.tsx';
import type { createInstallEventHandler } from '../auth/install-event.ts';
import type { RouteContext } from './context.ts';
import { launchedPage, launchFromForm, outsidePage } from './launch-flow.ts';
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
    if (!authId) return outsidePage(ctx, lang);
    const { verified, signed } = await launchFromForm(ctx, request, form, authId, lang);
    if (signed.user.isAdmin) {
      // One-time setup with the installing admin's (app-context) token, before installFinish.
      await ctx.bitrix
        .callWithToken(verified.portal.clientEndpoint, authId, 'event.bind', { event: 'ONAPPUNINSTALL', handler: `${ctx.config.publicUrl}/events` })
        .catch((e: { code?: string }) => {
          if (e.code !== 'ERROR_HANDLER_ALREADY_EXIST') ctx.logger.warn('install: event.bind failed', { code: e.code });
        });
    }
    return launchedPage(ctx, signed, InstallPage({ t, lang, assets: ctx.pageAssets(true), isAdmin: signed.user.isAdmin }) as string);
  };
  return new Elysia({ name: 'install', seed: ctx })
    .get('/install', ({ request }) => handle(request))
    .post('/install', ({ request }) => handle(request), { parse: 'none' });
};
