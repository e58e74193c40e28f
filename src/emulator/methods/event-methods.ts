/**
 * event.bind / event.unbind / event.get / events / event.test (DOCS api-reference/events/event-bind.md,
 * event-unbind.md, event-get.md, offline-events.md; CORE rest Api\Event). Handlers belong to the app's
 * installation and vanish with it. `event_type=offline` (administrators only) binds without a handler:
 * the event is queued for event.offline.* instead of being posted, per `auth_connector` of the call.
 */
import { OFFLINE_SIGNAL } from '../event-bus.ts';
import { dispatchEvent } from '../event-sender.ts';
import { argumentError, checkHandlerUrl } from '../handler-url.ts';
import type { CallContext, MethodTable } from '../rest-method.ts';
import { asObject, asString, upperKeys, type Params } from '../rest-request.ts';
import { RestError } from '../rest-response.ts';
import type { EventBinding } from '../world.ts';

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

/** CORE AccessException: "Access denied!" and the reason, 403. */
export function accessDenied(reason = ''): RestError {
  return new RestError('ACCESS_DENIED', reason ? `Access denied! ${reason}` : 'Access denied!', 403);
}

/** EVENT_TYPE: online (the default) or offline; anything else is an argument error (CORE). */
function eventTypeOf(params: Params): 'online' | 'offline' {
  const type = asString(params.EVENT_TYPE)?.toLowerCase() ?? '';
  if (type === '' || type === 'online') return 'online';
  if (type === 'offline') return 'offline';
  throw new RestError('ERROR_ARGUMENT', 'Value must be one of {online|offline}', 400, { argument: 'EVENT_TYPE' });
}

function requireEvent(params: Params): string {
  const event = asString(params.EVENT)?.toUpperCase();
  if (!event) throw argumentError('EVENT');
  return event;
}

function sameBinding(a: EventBinding, b: Omit<EventBinding, 'id'>): boolean {
  return a.event === b.event && a.offline === b.offline && a.handler === b.handler && a.auth_type === b.auth_type && a.connector_id === b.connector_id;
}

/** `options.minTimeout`, the one option documented (for ONOFFLINEEVENT only). */
function minTimeoutOf(event: string, params: Params): number | undefined {
  const value = asString(asObject(params.OPTIONS)?.minTimeout);
  if (event !== OFFLINE_SIGNAL || value === undefined) return undefined;
  const seconds = Number.parseInt(value, 10);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
}

function bind(ctx: CallContext, raw: Params) {
  const params = upperKeys(raw);
  const event = requireEvent(params);
  const offline = eventTypeOf(params) === 'offline';
  const asked = Number.parseInt(asString(params.AUTH_TYPE) ?? '0', 10) || 0;
  if (!ctx.user.ADMIN && asked !== 0 && asked !== ctx.user.ID) {
    throw accessDenied('Event binding with AUTH_TYPE requires administrator access rights');
  }
  if (offline && !ctx.user.ADMIN) throw accessDenied('Offline events binding requires administrator access rights');
  const handler = asString(params.HANDLER);
  if (!offline && !handler) throw argumentError('HANDLER');
  if (!KNOWN_EVENTS.includes(event)) throw new RestError('ERROR_EVENT_NOT_FOUND', 'Event not found');
  if (offline && event === OFFLINE_SIGNAL) {
    throw new RestError('ERROR_ARGUMENT', 'Offline event cannot be registered for this event.');
  }
  const minTimeout = minTimeoutOf(event, params);
  const binding: Omit<EventBinding, 'id'> = {
    event,
    // An offline binding has no handler and acts for nobody in particular (CORE: both are reset).
    handler: offline ? '' : checkHandlerUrl(handler ?? '', ctx.install.app),
    // event-bind.md: a non-admin's handlers are always set on behalf of that user.
    auth_type: offline ? 0 : ctx.user.ADMIN ? asked : ctx.user.ID,
    offline,
    connector_id: ctx.authConnector,
    ...(minTimeout === undefined ? {} : { min_timeout: minTimeout }),
  };
  if (ctx.install.events.some((b) => sameBinding(b, binding))) {
    throw new RestError('ERROR_HANDLER_ALREADY_EXIST', 'Handler already binded');
  }
  ctx.install.events.push({ id: ++ctx.portal.counters.handler, ...binding });
  return { result: true };
}

function unbind(ctx: CallContext, raw: Params) {
  const params = upperKeys(raw);
  const event = requireEvent(params);
  const before = ctx.install.events.length;
  if (eventTypeOf(params) === 'offline') {
    if (!ctx.user.ADMIN) throw accessDenied('Offline events unbinding requires administrator access rights');
    // The offline binding of this event made with the call's auth_connector (CORE filters on CONNECTOR_ID).
    ctx.install.events = ctx.install.events.filter((b) => !(b.offline && b.event === event && b.connector_id === ctx.authConnector));
    return { result: { count: before - ctx.install.events.length } };
  }
  const handler = asString(params.HANDLER);
  const asked = params.AUTH_TYPE === undefined ? undefined : Number.parseInt(asString(params.AUTH_TYPE) ?? '0', 10) || 0;
  // event-unbind.md: a non-admin removes only online handlers registered for themselves.
  const authType = ctx.user.ADMIN ? asked : ctx.user.ID;
  ctx.install.events = ctx.install.events.filter(
    (b) =>
      !(!b.offline && b.event === event && (handler === undefined || b.handler === handler || b.handler === safeUrl(handler)) &&
        (authType === undefined || b.auth_type === authType)),
  );
  return { result: { count: before - ctx.install.events.length } };
}

/** event-get.md for online handlers; an offline one is listed as CORE lists it, with its connector. */
function present(b: EventBinding) {
  if (b.offline) return { event: b.event, connector_id: b.connector_id, offline: 1 };
  return { event: b.event, handler: b.handler, auth_type: String(b.auth_type), offline: 0 };
}

export const eventMethods: MethodTable = {
  'event.bind': { handler: bind },
  'event.unbind': { handler: unbind },
  'event.get': { handler: (ctx) => ({ result: ctx.install.events.map(present) }) },
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
