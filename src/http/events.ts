/**
 * POST /events: Bitrix24's event handler. Every event is authenticated by its application_token;
 * ONAPPUNINSTALL is additionally confirmed with the portal before anything is deleted. Replies are
 * short: Bitrix24 does not retry, and slow handlers get throttled.
 */
import { Elysia } from 'elysia';
import type { createInstallEventHandler } from '../auth/install-event.ts';
import { authenticateEvent, type createUninstallEventHandler } from '../auth/uninstall-event.ts';
import type { RouteContext } from './context.ts';
import { formString, parsePhpForm } from './php-form.ts';
import { readForm } from './request-form.ts';

export const eventRoutes = (
  ctx: RouteContext,
  handlers: {
    install: ReturnType<typeof createInstallEventHandler>;
    uninstall: ReturnType<typeof createUninstallEventHandler>;
  },
) =>
  new Elysia({ name: 'events', seed: ctx }).post(
    '/events',
    async ({ request }) => {
      const form = parsePhpForm(await readForm(request));
      const event = formString(form, 'event').toUpperCase();
      if (event === 'ONAPPINSTALL') await handlers.install(form);
      else if (event === 'ONAPPUNINSTALL') await handlers.uninstall(form);
      else {
        const portal = await authenticateEvent(ctx.store, form);
        ctx.logger.info('event received', { event: event.slice(0, 64), member_id: portal.memberId });
      }
      return new Response('OK', { headers: { 'content-type': 'text/plain' } });
    },
    { parse: 'none' },
  );
