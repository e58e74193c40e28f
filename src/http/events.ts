/**
 * POST /events: Bitrix24's event handler. Every event is authenticated by its application_token (or,
 * for ONAPPINSTALL, by a fresh verification of its admin token); ONAPPUNINSTALL changes nothing until
 * Bitrix24 confirms it (src/auth/portal-uninstall.ts). Replies are short: Bitrix24 does not retry,
 * and slow handlers get throttled. A client that keeps sending events that do not authenticate is
 * limited like a failing launch.
 */
import { Elysia } from 'elysia';
import type { Installer } from '../auth/portal-install.ts';
import { authenticateEvent, type Uninstaller } from '../auth/portal-uninstall.ts';
import { AppError, isAppError } from '../domain/errors.ts';
import type { RouteContext } from './context.ts';
import { formString, parsePhpForm } from './php-form.ts';
import { readForm } from './request-form.ts';
import { clientIpOf } from './request-meta.ts';

const text = (body: string, status = 200) => new Response(body, { status, headers: { 'content-type': 'text/plain' } });

export const eventRoutes = (ctx: RouteContext, installer: Installer, uninstaller: Uninstaller) =>
  new Elysia({ name: 'events', seed: ctx }).post(
    '/events',
    async ({ request }) => {
      const client = clientIpOf(request);
      if (!ctx.attempts.allows(client)) throw new AppError('rate_limited', 'Too many rejected events.');
      const form = parsePhpForm(await readForm(request));
      const event = formString(form, 'event').toUpperCase();
      try {
        if (event === 'ONAPPINSTALL') {
          await installer.installFromEvent(form, client);
          return text('OK');
        }
        if (event === 'ONAPPUNINSTALL') {
          const outcome = await uninstaller.handleEvent(form);
          return outcome === 'claimed' ? text('Accepted', 202) : text('OK');
        }
        const portal = await authenticateEvent(ctx.store, form);
        ctx.logger.info('event received', { event: event.slice(0, 64), member_id: portal.memberId });
        return text('OK');
      } catch (e) {
        if (isAppError(e) && e.code === 'unauthorized' && event !== 'ONAPPINSTALL') ctx.attempts.recordFailure(client);
        throw e;
      }
    },
    { parse: 'none' },
  );
