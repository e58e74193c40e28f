/**
 * event.bind / event.unbind / event.get / events / event.test (DOCS api-reference/events/*; CORE
 * rest_provider.php). Handlers belong to the app's installation and vanish with it.
 */
import { dispatchEvent } from '../event-sender.ts';
import { argumentError, checkHandlerUrl } from '../handler-url.ts';
import type { MethodTable } from '../rest-method.ts';
import { asString, upperKeys } from '../rest-request.ts';
import { RestError } from '../rest-response.ts';

export const KNOWN_EVENTS = [
  'ONAPPINSTALL',
  'ONAPPUNINSTALL',
  'ONAPPUPDATE',
  'ONAPPTEST',
  'ONAPPPAYMENT',
  'ONSUBSCRIPTIONRENEW',
  'ONOFFLINEEVENT',
  'ONUSERADD',
  'ONCALENDARENTRYADD',
  'ONCALENDARENTRYUPDATE',
  'ONCALENDARENTRYDELETE',
];

export const eventMethods: MethodTable = {
  'event.bind': {
    handler(ctx, raw) {
      const params = upperKeys(raw);
      const event = asString(params.EVENT)?.toUpperCase();
      const handler = asString(params.HANDLER);
      if (!event) throw argumentError('EVENT');
      if (!handler) throw argumentError('HANDLER');
      if (!KNOWN_EVENTS.includes(event)) throw new RestError('ERROR_EVENT_NOT_FOUND', 'Event not found');
      const offline = asString(params.EVENT_TYPE)?.toLowerCase() === 'offline';
      const asked = Number.parseInt(asString(params.AUTH_TYPE) ?? '0', 10) || 0;
      if (!ctx.user.ADMIN && (offline || (asked !== 0 && asked !== ctx.user.ID))) {
        throw new RestError('ACCESS_DENIED', 'Access denied!', 403);
      }
      // event-bind.md: a non-admin's handlers are always set on behalf of that user.
      const authType = ctx.user.ADMIN ? asked : ctx.user.ID;
      const url = checkHandlerUrl(handler, ctx.install.app);
      const events = ctx.install.events;
      if (events.some((b) => b.event === event && b.handler === url && b.auth_type === authType)) {
        throw new RestError('ERROR_HANDLER_ALREADY_EXIST', 'Handler already binded');
      }
      events.push({ id: ++ctx.portal.counters.handler, event, handler: url, auth_type: authType, offline, connector_id: '' });
      return { result: true };
    },
  },
  'event.unbind': {
    handler(ctx, raw) {
      const params = upperKeys(raw);
      const event = asString(params.EVENT)?.toUpperCase();
      const handler = asString(params.HANDLER);
      if (!event) throw argumentError('EVENT');
      const asked = params.AUTH_TYPE === undefined ? undefined : Number.parseInt(asString(params.AUTH_TYPE) ?? '0', 10) || 0;
      // event-unbind.md: a non-admin removes only online handlers registered for themselves.
      const authType = ctx.user.ADMIN ? asked : ctx.user.ID;
      const before = ctx.install.events.length;
      ctx.install.events = ctx.install.events.filter(
        (b) =>
          !(b.event === event && (handler === undefined || b.handler === handler || b.handler === safeUrl(handler)) &&
            (authType === undefined || b.auth_type === authType) && (ctx.user.ADMIN || !b.offline)),
      );
      return { result: { count: before - ctx.install.events.length } };
    },
  },
  'event.get': {
    handler: (ctx) => ({
      result: ctx.install.events.map((b) => ({
        event: b.event,
        handler: b.handler,
        auth_type: String(b.auth_type),
        offline: b.offline ? 1 : 0,
      })),
    }),
  },
  events: { handler: () => ({ result: [...KNOWN_EVENTS] }) },
  'event.test': {
    async handler(ctx) {
      await dispatchEvent(ctx.world, ctx.portal, ctx.install, 'ONAPPTEST', { QUERY: {} }, ctx.user.ID);
      return { result: true };
    },
  },
};

function safeUrl(value: string): string | undefined {
  try {
    return new URL(value).toString();
  } catch {
    return undefined;
  }
}
