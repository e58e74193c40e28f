/**
 * /install: the installer page Bitrix24 frames for the admin while the app is not installed (a launch
 * form, like POST /), and the server-to-server ONAPPINSTALL of API-only installs (form field `event`).
 *
 * The installer launch is how this app gets installed on a real portal (no ONAPPINSTALL comes): a
 * fresh verification of an administrator's token installs it (src/auth/portal-install.ts) and binds
 * ONAPPUNINSTALL, then the page calls BX24.installFinish(). Anyone else sees the page, nothing changes.
 */
import { Elysia } from 'elysia';
import { pickLang, translator } from '../../views/i18n.ts';
import { InstallPage } from '../../views/install-page.tsx';
import type { Installer } from '../auth/portal-install.ts';
import type { RouteContext } from './context.ts';
import { readInstallEvent } from './events.ts';
import { launchTokens } from './launch-tokens.ts';
import { launchedPage, outsidePage, verifyForm } from './launch-flow.ts';
import { parsePhpForm } from './php-form.ts';
import { readForm } from './request-form.ts';
import { clientIpOf } from './request-meta.ts';

export const installRoutes = (ctx: RouteContext, installer: Installer) => {
  const handle = async (request: Request) => {
    const form = await readForm(request);
    if ((form.get('event') ?? '').toUpperCase() === 'ONAPPINSTALL') {
      // Its verification goes through the failed-attempt limiter like a launch.
      await installer.installFromEvent(readInstallEvent(parsePhpForm(form)), clientIpOf(request));
      return new Response('OK', { headers: { 'content-type': 'text/plain' } });
    }
    const lang = pickLang(form.get('LANG'));
    const t = translator(lang);
    const authId = form.get('AUTH_ID');
    if (!authId) return outsidePage(ctx, lang);
    const verified = await verifyForm(ctx, request, form, authId, true);
    const pair = launchTokens(form, verified);
    const applicationToken = form.get('APPLICATION_TOKEN') ?? '';
    let pairIsTheApps = false;
    if (verified.user.isAdmin && pair && /^[A-Za-z0-9._-]{8,128}$/.test(applicationToken)) {
      const outcome = await installer.install({ verified, tokens: pair, applicationToken, ts: null });
      pairIsTheApps = outcome.kind === 'installed';
      await installer.bindEvents(outcome.portal);
    } else if (verified.user.isAdmin) {
      ctx.logger.warn('installer launch without REFRESH_ID or APPLICATION_TOKEN: nothing installed', { member_id: verified.portal.memberId });
    }
    // A refresh token is single-use: the pair that became the app's tokens is not also kept as the
    // admin's own (the admin's next launch brings a pair of its own).
    const signed = await ctx.signIn(verified, lang, pairIsTheApps ? null : pair);
    return launchedPage(ctx, signed, InstallPage({ t, lang, assets: ctx.pageAssets(true), isAdmin: signed.user.isAdmin }) as string);
  };
  return new Elysia({ name: 'install', seed: ctx })
    .get('/install', ({ request }) => handle(request))
    .post('/install', ({ request }) => handle(request), { parse: 'none' });
};
