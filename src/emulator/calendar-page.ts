/**
 * A user's calendar page on the portal: `GET /company/personal/user/:id/calendar/[?EVENT_ID=n]`, the
 * path Bitrix24 shows a calendar event at (what an app opens with BX24.openPath, or links to). A
 * minimal stand-in: with EVENT_ID one entry of that user's calendar (name, start, end, description),
 * without it the list of the user's entries. Viewing rights are not modelled: the portal page has no
 * signed-in viewer, so anyone who opens the path sees the entry. Every value is escaped.
 */
import { findCalendarEvent } from './calendar-store.ts';
import { formatDay, formatInZone } from './calendar-dates.ts';
import { escapeHtml, htmlResponse } from './html.ts';
import { formatUserName } from './portal-users.ts';
import { findUser, type CalendarEvent, type Portal } from './world.ts';

export const CALENDAR_PATH = /^\/company\/personal\/user\/(\d{1,10})\/calendar\/?$/;

const TEXT = {
  en: { calendar: 'Calendar', of: 'Calendar: {name}', from: 'Starts', to: 'Ends', allDay: 'all day', none: 'No events.', notFound: 'Event not found', notFoundText: 'There is no such event in this calendar.', noUser: 'No such user on this portal.' },
  ru: { calendar: 'Календарь', of: 'Календарь: {name}', from: 'Начало', to: 'Окончание', allDay: 'весь день', none: 'Событий нет.', notFound: 'Событие не найдено', notFoundText: 'В этом календаре нет такого события.', noUser: 'На портале нет такого пользователя.' },
};

const STYLE = `body{margin:0;font:14px/1.4 "Helvetica Neue",Arial,sans-serif;background:#fff;color:#333}
main{padding:20px 24px}h1{font-size:22px;font-weight:400;margin:0 0 12px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:0 0 12px}dt{color:#80868e}dd{margin:0}
.b24-event-description{white-space:pre-wrap}`;

function page(portal: Portal, title: string, body: string, status = 200): Response {
  return htmlResponse(
    `<!doctype html>
<html lang="${escapeHtml(portal.lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`,
    status,
  );
}

/** A start or end as people read it, in the entry's own zone (all-day entries: the date only). */
function when(portal: Portal, ms: number, zone: string, skipTime: boolean): string {
  const locale = portal.lang === 'ru' ? 'ru' : 'en';
  const iso = skipTime ? formatDay(ms) : formatInZone(ms, zone || 'UTC');
  const text = skipTime
    ? new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(ms)
    : `${new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: zone || 'UTC' }).format(ms)} (${zone || 'UTC'})`;
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(text)}</time>`;
}

function eventBody(portal: Portal, e: CalendarEvent): string {
  const text = portal.lang === 'ru' ? TEXT.ru : TEXT.en;
  const allDay = e.skipTime ? ` <span class="b24-event-all-day">(${escapeHtml(text.allDay)})</span>` : '';
  return `<h1 class="b24-event-name">${escapeHtml(e.name)}</h1>
<dl><dt>${escapeHtml(text.from)}</dt><dd class="b24-event-from">${when(portal, e.fromMs, e.tzFrom, e.skipTime)}${allDay}</dd>
<dt>${escapeHtml(text.to)}</dt><dd class="b24-event-to">${when(portal, e.toMs, e.tzTo, e.skipTime)}</dd></dl>
${e.description ? `<p class="b24-event-description">${escapeHtml(e.description)}</p>` : ''}`;
}

export function calendarPage(portal: Portal, ownerId: number, url: URL): Response {
  const text = portal.lang === 'ru' ? TEXT.ru : TEXT.en;
  const owner = findUser(portal, ownerId);
  if (!owner) return page(portal, text.calendar, `<p>${escapeHtml(text.noUser)}</p>`, 404);
  const own = (e: CalendarEvent | undefined): e is CalendarEvent => !!e && e.type === 'user' && e.ownerId === ownerId;
  const eventId = url.searchParams.get('EVENT_ID');
  if (eventId !== null) {
    const event = /^\d{1,10}$/.test(eventId) ? findCalendarEvent(portal, Number(eventId)) : undefined;
    if (!own(event)) return page(portal, text.notFound, `<h1>${escapeHtml(text.notFound)}</h1><p>${escapeHtml(text.notFoundText)}</p>`, 404);
    return page(portal, event.name, eventBody(portal, event));
  }
  const title = text.of.replace('{name}', formatUserName(owner));
  const events = portal.calendar.filter(own).sort((a, b) => a.fromMs - b.fromMs);
  const list = events.length
    ? `<ul>${events.map((e) => `<li><a href="?EVENT_ID=${e.ID}">${escapeHtml(e.name)}</a> · ${when(portal, e.fromMs, e.tzFrom, e.skipTime)}</li>`).join('')}</ul>`
    : `<p>${escapeHtml(text.none)}</p>`;
  return page(portal, title, `<h1>${escapeHtml(title)}</h1>${list}`);
}
