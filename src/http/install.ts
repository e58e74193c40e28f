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
import { acceptInstallEvent } from './events.ts';
import { launchedPage, launchFromForm, outsidePage } from './launch-flow.ts';
import { parsePhpForm } from './php-form.ts';
import { readForm } from './request-form.ts';

export const installRoutes = (ctx: RouteContext, installer: Installer) => {
  const handle = async (request: Request) => {
    const form = await readForm(request);
    if ((form.get('event') ?? '').toUpperCase() === 'ONAPPINSTALL') return acceptInstallEvent(ctx, installer, request, parsePhpForm(form));
    const lang = pickLang(form.get('LANG'));
    const t = translator(lang);
    const authId = form.get('AUTH_ID');
    if (!authId) return outsidePage(ctx, lang);
    const { signed } = await launchFromForm(ctx, installer, request, form, authId, lang, 'installer');
    return launchedPage(ctx, signed, InstallPage({ t, lang, assets: ctx.pageAssets(true), isAdmin: signed.user.isAdmin }) as string);
  };
  return new Elysia({ name: 'install', seed: ctx })
    .get('/install', ({ request }) => handle(request))
    .post('/install', ({ request }) => handle(request), { parse: 'none' });
};
