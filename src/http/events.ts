/**
 * POST /events: Bitrix24's event handler. Every event is authenticated by its application_token (or,
 * for ONAPPINSTALL, by a fresh verification of its admin token); ONAPPUNINSTALL changes nothing until
 * Bitrix24 confirms it (src/auth/portal-uninstall.ts). Replies are short: Bitrix24 does not retry,
 * and slow handlers get throttled. A client that keeps sending events that do not authenticate is
 * limited like a failing launch.
 *
 * Events arrive as PHP-style forms (`auth[member_id]=…&data[CLEAN]=1`); the readers below turn them
 * into the plain records the auth core takes, so it never sees HTTP.
 */
import { Elysia } from 'elysia';
import type { AttemptLimiter } from '../auth/attempt-limiter.ts';
import type { InstallEvent, Installer } from '../auth/portal-install.ts';
import type { EventOrigin, UninstallEvent, Uninstaller } from '../auth/portal-uninstall.ts';
import { AppError, isAppError } from '../domain/errors.ts';
import type { Portal } from '../domain/types.ts';
import type { Logger } from '../log.ts';
import type { RequestMeta } from './edge.ts';
import { formString, parsePhpForm, readForm, type FormObject } from './request.ts';

const text = (body: string, status = 200) => new Response(body, { status, headers: { 'content-type': 'text/plain' } });

const readOrigin = (form: FormObject): EventOrigin => ({
  memberId: formString(form, 'auth', 'member_id'),
  applicationToken: formString(form, 'auth', 'application_token'),
});

const readInstallEvent = (form: FormObject): InstallEvent => ({
  accessToken: formString(form, 'auth', 'access_token'),
  refreshToken: formString(form, 'auth', 'refresh_token'),
  expiresIn: formString(form, 'auth', 'expires_in'),
  domain: formString(form, 'auth', 'domain'),
  memberId: formString(form, 'auth', 'member_id'),
  serverEndpoint: formString(form, 'auth', 'server_endpoint'),
  applicationToken: formString(form, 'auth', 'application_token'),
  ts: formString(form, 'ts'),
  languageId: formString(form, 'data', 'LANGUAGE_ID'),
});

const readUninstallEvent = (form: FormObject): UninstallEvent => ({
  ...readOrigin(form),
  ts: formString(form, 'ts'),
  clean: formString(form, 'data', 'CLEAN'),
});

/** What the app does with the events it binds besides its own lifecycle (src/app.ts wires them). */
export interface PortalEvents {
  /** OnCalendarEntryUpdate / OnCalendarEntryDelete: calendar event `eventId` changed on the portal. */
  calendarEntryChanged(portal: Portal, eventId: string): Promise<void>;
  /** ONOFFLINEEVENT: the portal's offline queue has records to drain. */
  offlineEventsWaiting(portal: Portal): void;
}

const CALENDAR_ENTRY_EVENTS = new Set(['ONCALENDARENTRYUPDATE', 'ONCALENDARENTRYDELETE']);
const CALENDAR_ENTRY_ID = /^\d{1,18}$/;

export interface EventDeps {
  installer: Installer;
  uninstaller: Uninstaller;
  /** The portal an event's application_token proves, or a 401. */
  authenticateEvent(origin: EventOrigin): Promise<Portal>;
  portalEvents: PortalEvents;
  /** ONAPPUPDATE from an authenticated portal: the update may have dropped the app's handlers. */
  appUpdated(portal: Portal): void;
  attempts: AttemptLimiter;
  meta: RequestMeta;
  logger: Logger;
}

export function createEventIntake(deps: EventDeps) {
  /**
   * Runs a lifecycle event's handling for a client the failed-attempt limiter still allows; a refusal
   * (401, or 403 for a forged uninstall of an installed portal) counts against it like a failed launch:
   * each one cost a round trip to Bitrix24. So does what `counted` adds (an install event that found
   * Bitrix24 not answering: a user who floods the portal's limit must not get unlimited app.info calls).
   */
  async function limited(request: Request, handle: () => Promise<Response>, counted: string[] = []): Promise<Response> {
    const client = deps.meta.clientIp(request);
    if (!(await deps.attempts.allows(client))) throw new AppError('rate_limited', 'Too many rejected events.');
    try {
      return await handle();
    } catch (e) {
      if (isAppError(e) && (e.code === 'unauthorized' || e.code === 'forbidden' || counted.includes(e.code))) await deps.attempts.recordFailure(client);
      throw e;
    }
  }

  /** ONAPPINSTALL, wherever Bitrix24 posts it (/install or /events). */
  const acceptInstall = (request: Request, form: FormObject): Promise<Response> =>
    limited(
      request,
      async () => {
        await deps.installer.installFromEvent(readInstallEvent(form));
        return text('OK');
      },
      ['unavailable'],
    );

  const routes = new Elysia({ name: 'events' }).post(
    '/events',
    async ({ request }) => {
      const form = parsePhpForm(await readForm(request));
      const event = formString(form, 'event').toUpperCase();
      if (event === 'ONAPPINSTALL') return acceptInstall(request, form);
      return limited(request, async () => {
        if (event === 'ONAPPUNINSTALL') {
          const outcome = await deps.uninstaller.handleEvent(readUninstallEvent(form));
          return outcome === 'claimed' ? text('Accepted', 202) : text('OK');
        }
        const portal = await deps.authenticateEvent(readOrigin(form));
        deps.meta.notePortal(request, portal.memberId);
        deps.logger.info('event received', { event: event.slice(0, 64), member_id: portal.memberId });
        // Stored before the answer (a pull job: the event is a hint, the worker reads what Bitrix24
        // has), so a crash after the 200 loses nothing; the work itself happens after it.
        const entryId = formString(form, 'data', 'id');
        if (CALENDAR_ENTRY_EVENTS.has(event) && CALENDAR_ENTRY_ID.test(entryId)) await deps.portalEvents.calendarEntryChanged(portal, entryId);
        if (event === 'ONOFFLINEEVENT') deps.portalEvents.offlineEventsWaiting(portal);
        if (event === 'ONAPPUPDATE') deps.appUpdated(portal);
        return text('OK');
      });
    },
    { parse: 'none' },
  );

  return { acceptInstall, routes };
}

export type EventIntake = ReturnType<typeof createEventIntake>;
