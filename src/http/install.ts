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
import { InstallPage } from '../../views/pages.tsx';
import type { SignIn } from '../auth/sign-in.ts';
import type { RequestMeta } from './edge.ts';
import type { EventIntake } from './events.ts';
import { launchedPage, outsidePage, readLaunchForm } from './launch.ts';
import type { Pages } from './pages.ts';
import { parsePhpForm, readForm } from './request.ts';

export const installRoutes = (signIn: SignIn, events: EventIntake, pages: Pages, meta: RequestMeta) => {
  const handle = async (request: Request) => {
    const form = await readForm(request);
    if ((form.get('event') ?? '').toUpperCase() === 'ONAPPINSTALL') return events.acceptInstall(request, parsePhpForm(form));
    const launch = readLaunchForm(form, 'installer');
    if (!launch) return outsidePage(pages, pickLang(form.get('LANG')));
    const signed = await signIn.launch(launch, meta.clientIp(request));
    meta.notePortal(request, signed.portal.memberId);
    const t = translator(launch.lang);
    return launchedPage(pages, signed, InstallPage({ t, lang: launch.lang, assets: pages.assets(true), isAdmin: signed.user.isAdmin }));
  };
  return new Elysia({ name: 'install' })
    .get('/install', ({ request }) => handle(request))
    .post('/install', ({ request }) => handle(request), { parse: 'none' });
};
