/**
 * The portal page: a small Bitrix24 look-alike (header, left menu, title bar) that hosts the app the way
 * the real app.layout template does — an iframe named `host:port|0|APP_SID` and a hidden POST form aimed
 * at it — plus the parent-side frame protocol. Every value is escaped; JSON goes in a data script.
 */
import { escapeHtml, jsonForScript } from './html.ts';
import { runFrameHost, type FrameHostConfig } from './frame-host.ts';
import type { Launch } from './launch.ts';
import { formatUserName, type PortalUser } from './portal-users.ts';
import type { Portal } from './world.ts';

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.4 "Helvetica Neue",Arial,sans-serif;background:#eef2f4;color:#333}
.b24-header{display:flex;align-items:center;gap:16px;height:56px;padding:0 20px;background:#2fc6f6;color:#fff}
.b24-logo{font-size:22px;font-weight:700}.b24-logo span{font-weight:400;opacity:.8}
.b24-header .b24-user{margin-left:auto}.b24-header a{color:#fff}
.b24-body{display:flex;min-height:calc(100vh - 56px)}
.b24-menu{width:220px;background:#1f2b33;color:#cfd7dc;padding:16px 0}
.b24-menu a{display:block;padding:8px 20px;color:inherit;text-decoration:none}.b24-menu a.active{background:#2c3b45;color:#fff}
.b24-main{flex:1;padding:16px 24px}
#pagetitle{font-size:24px;font-weight:400;margin:0 0 12px}
#b24-app-layout{background:#fff;border-radius:8px;width:100%;height:600px;overflow:hidden}
.b24-app-frame{border:0;width:100%;height:100%;display:block}
.b24-notice{background:#fff;border-radius:8px;padding:24px}
.b24-slider{position:fixed;inset:0;background:rgba(0,0,0,.4);display:flex;justify-content:flex-end}
.b24-slider-panel{width:80%;height:100%;background:#eef2f4;padding:16px;display:flex;flex-direction:column}
.b24-slider-title{font-size:20px;margin-bottom:8px}.b24-slider-panel .b24-app-frame{flex:1;background:#fff}
.b24-path-slider .b24-slider-title{display:flex;align-items:center;gap:12px}
.b24-slider-close{margin-left:auto;border:0;background:none;font-size:28px;line-height:1;cursor:pointer;color:#535c69;padding:0 8px}
.b24-page-frame{flex:1;border:0;width:100%;background:#fff;border-radius:8px}
.b24-burger{display:none;cursor:pointer;font-size:24px;line-height:1;padding:8px;margin-left:-8px}
@media (max-width:700px){
.b24-header{height:auto;min-height:56px;flex-wrap:wrap;gap:4px 12px;padding:8px 12px}
.b24-burger{display:block}.b24-logo{font-size:18px}.b24-domain{display:none}
.b24-header .b24-user{margin-left:0;width:100%;font-size:12px}
.b24-body{position:relative}
.b24-menu{display:none;position:absolute;z-index:5;top:0;left:0;bottom:0;width:240px;box-shadow:4px 0 16px rgba(0,0,0,.3)}
#b24-menu-toggle:checked~.b24-body .b24-menu{display:block}
.b24-main{padding:8px}#pagetitle{font-size:20px}
}
`;

/** The page's own words in the portal's language (Russian or English, like the app). */
const TEXT = {
  en: {
    menu: ['Feed', 'Tasks and Projects', 'Calendar', 'Employees'], apps: 'Applications', asUser: 'as user', admin: 'admin', emulator: 'Bitrix24 emulator', openMenu: 'Menu',
    notInstalled: 'Application not installed',
    notInstalledText: 'The application is not installed.',
    reinstallHint: 'The application is not installed. Add ?reinstall=Y to the address to install it again.',
    notFinished: 'Application not fully installed',
    notFinishedText: 'The application is not fully installed. Please contact your administrator.',
  },
  ru: {
    menu: ['Новости', 'Задачи и проекты', 'Календарь', 'Сотрудники'], apps: 'Приложения', asUser: 'войти как', admin: 'администратор', emulator: 'эмулятор Битрикс24', openMenu: 'Меню',
    notInstalled: 'Приложение не установлено',
    notInstalledText: 'Приложение не установлено.',
    reinstallHint: 'Приложение не установлено. Добавьте ?reinstall=Y к адресу, чтобы установить его снова.',
    notFinished: 'Приложение установлено не до конца',
    notFinishedText: 'Установка приложения не завершена. Обратитесь к администратору.',
  },
};
export const textFor = (portal: Portal) => (portal.lang === 'ru' ? TEXT.ru : TEXT.en);

/** Inline, so the page's only request for an icon cannot fail (a 404 is a console error on every load). */
const FAVICON = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='8' fill='%232fc6f6'/%3E%3C/svg%3E";

export interface PageFrame {
  user: PortalUser;
  appTitle: string;
  /** The launch to host, or a notice instead of the app. */
  launch?: Launch;
  notice?: { title: string; text: string };
}

function userSwitcher(portal: Portal, user: PortalUser): string {
  const text = textFor(portal);
  const links = portal.users
    .slice(0, 6)
    .map((u) => `<a href="?user_id=${u.ID}" title="${escapeHtml(formatUserName(u))}">${u.ID === user.ID ? '<b>' : ''}${u.ID}${u.ID === user.ID ? '</b>' : ''}</a>`)
    .join(' ');
  return `<span class="b24-user">${escapeHtml(formatUserName(user))}${user.ADMIN ? ` (${text.admin})` : ''} · ${text.asUser} ${links}</span>`;
}

function appBody(launch: Launch): string {
  const inputs = Object.entries(launch.form)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const config: FrameHostConfig = { launch };
  return `<div id="b24-app-layout"><iframe id="b24-app-frame" class="b24-app-frame" name="${escapeHtml(launch.iframe_name)}" allow="clipboard-write"></iframe></div>
<form id="b24-app-form" method="POST" action="${escapeHtml(launch.url)}" target="${escapeHtml(launch.iframe_name)}" style="display:none">${inputs}</form>
<script type="application/json" id="b24-frame-config">${jsonForScript(config)}</script>
<script>(${runFrameHost.toString()})(JSON.parse(document.getElementById('b24-frame-config').textContent));</script>`;
}

export function renderPortalPage(portal: Portal, page: PageFrame): string {
  const text = textFor(portal);
  const body = page.launch
    ? appBody(page.launch)
    : `<div class="b24-notice"><h2>${escapeHtml(page.notice?.title ?? '')}</h2><p>${escapeHtml(page.notice?.text ?? '')}</p></div>`;
  return `<!doctype html>
<html lang="${escapeHtml(portal.lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="${FAVICON}"><title>${escapeHtml(page.appTitle)} · ${text.emulator}</title>
<style>${STYLE}</style></head>
<body>
<input type="checkbox" id="b24-menu-toggle" hidden>
<header class="b24-header"><label for="b24-menu-toggle" class="b24-burger" title="${text.openMenu}" aria-label="${text.openMenu}">☰</label><div class="b24-logo">Bitrix<span>24</span> emulator</div><div class="b24-domain">${escapeHtml(portal.domain)}</div>${userSwitcher(portal, page.user)}</header>
<div class="b24-body">
<nav class="b24-menu">${text.menu.map((m) => `<a href="#">${m}</a>`).join('')}<a class="active" href="?user_id=${page.user.ID}">${escapeHtml(page.appTitle)}</a><a href="#">${text.apps}</a></nav>
<main class="b24-main"><h1 id="pagetitle">${escapeHtml(page.appTitle)}</h1>
${body}
</main></div>
</body></html>`;
}
