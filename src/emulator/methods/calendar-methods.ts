/**
 * calendar.event.add / get / getbyid / update / delete (DOCS api-reference/calendar/calendar-event/*).
 * Errors of this module are 400 with an empty `error` code and the text each page documents. Adding,
 * changing and deleting publish ONCALENDARENTRYADD / UPDATE / DELETE with `data[id]` to every installed
 * app, the calling app included (DOCS calendar-event/events/*): online handlers are posted
 * asynchronously like the cloud queue, offline bindings get queue records before the answer.
 */
import { createCalendarEvent, CALENDAR_TYPES, CalendarRefusal, deleteCalendarEvent, findCalendarEvent, presentCalendarEvent, SECTION_ID, updateCalendarEvent } from '../calendar-store.ts';
import { publishEvent } from '../event-bus.ts';
import { originOf, type CallContext, type MethodTable } from '../rest-method.ts';
import { asString, type Params } from '../rest-request.ts';
import { RestError } from '../rest-response.ts';
import type { CalendarEvent } from '../world.ts';

function calendarError(description: string): RestError {
  return new RestError('', description, 400);
}

/** The page's "The required parameter … is not set" (calendar.event.update's text ends with a period). */
function required(params: Params, name: string, method: string, end = ''): string {
  const value = asString(params[name]);
  if (value === undefined || value === '') throw calendarError(`The required parameter "${name}" for the method "${method}" is not set${end}`);
  return value;
}

/** Runs a calendar-store operation, turning its refusal into the module's REST error. */
function refusalsAsErrors<T>(operation: () => T): T {
  try {
    return operation();
  } catch (err) {
    if (err instanceof CalendarRefusal) throw calendarError(err.message);
    throw err;
  }
}

function publish(ctx: CallContext, event: string, entry: CalendarEvent): void {
  const publication = publishEvent(ctx.world, ctx.portal, event, { id: String(entry.ID) }, originOf(ctx));
  void publication.deliveries;
}

function checkSection(params: Params, message: string): void {
  const section = asString(params.section);
  if (section !== undefined && section !== '' && section !== SECTION_ID) throw calendarError(message);
}

function addEvent(ctx: CallContext, params: Params) {
  const method = 'calendar.event.add';
  const type = required(params, 'type', method);
  if (!CALENDAR_TYPES.includes(type)) throw calendarError('Invalid value of the "type" parameter');
  const ownerId = Number.parseInt(required(params, 'ownerId', method), 10);
  if (!Number.isFinite(ownerId)) throw calendarError('Invalid value of the "ownerId" parameter');
  const name = params.name;
  if (name === undefined || name === '') required(params, 'name', method);
  if (typeof name !== 'string') throw calendarError('Invalid value for the parameter "name"');
  if (!asString(params.from) && !asString(params.from_ts)) required(params, 'from', method);
  if (!asString(params.to) && !asString(params.to_ts)) required(params, 'to', method);
  if (asString(params.auto_detect_section) === 'N') required(params, 'section', method);
  checkSection(params, 'You specified an invalid calendar section ID or the user does not have access to it');
  const entry = refusalsAsErrors(() => createCalendarEvent(ctx.portal, ctx.user, { type, ownerId, name }, params, ctx.world.clock.now()));
  publish(ctx, 'ONCALENDARENTRYADD', entry);
  return { result: entry.ID };
}

const RECURRENCE_MODES = ['this', 'next', 'all'];

function updateEvent(ctx: CallContext, params: Params) {
  const method = 'calendar.event.update';
  const id = Number.parseInt(required(params, 'id', method, '.'), 10);
  const ownerId = Number.parseInt(required(params, 'ownerId', method, '.'), 10);
  const type = required(params, 'type', method, '.');
  // The method reads `name` as a string whether or not it is sent (CORE EventUpdate), so a missing one fails too.
  if (typeof params.name !== 'string') throw calendarError('Invalid value for the "name" parameter.');
  const mode = asString(params.recurrence_mode);
  if (mode !== undefined && !RECURRENCE_MODES.includes(mode)) throw calendarError('An invalid editing type for the recurring event is specified.');
  checkSection(params, 'You specified an invalid calendar section ID or the user does not have access to it.');
  const entry = Number.isFinite(id) ? findCalendarEvent(ctx.portal, id) : undefined;
  if (!entry) throw calendarError('An error occurred while changing the event.');
  // The entry must be in the calendar the call names.
  if (entry.type !== type || entry.ownerId !== ownerId) throw calendarError('Access denied.');
  refusalsAsErrors(() => updateCalendarEvent(entry, ctx.user, params, ctx.world.clock.now()));
  publish(ctx, 'ONCALENDARENTRYUPDATE', entry);
  return { result: entry.ID };
}

function deleteEvent(ctx: CallContext, params: Params) {
  const id = Number.parseInt(asString(params.id) ?? '', 10);
  if (!Number.isFinite(id) || id <= 0) throw calendarError('Event id not specified');
  const entry = findCalendarEvent(ctx.portal, id);
  if (!entry) throw calendarError('An error occurred while deleting the event');
  refusalsAsErrors(() => deleteCalendarEvent(ctx.portal, entry, ctx.user));
  publish(ctx, 'ONCALENDARENTRYDELETE', entry);
  return { result: true };
}

export const calendarMethods: MethodTable = {
  'calendar.event.add': { scope: ['calendar'], handler: addEvent },
  'calendar.event.update': { scope: ['calendar'], handler: updateEvent },
  'calendar.event.delete': { scope: ['calendar'], handler: deleteEvent },
  'calendar.event.get': {
    scope: ['calendar'],
    handler(ctx, params) {
      const type = required(params, 'type', 'calendar.event.get');
      const ownerId = asString(params.ownerId);
      const from = Date.parse(asString(params.from) ?? '');
      const to = Date.parse(asString(params.to) ?? '');
      const rows = ctx.portal.calendar.filter(
        (e) =>
          e.type === type &&
          (ownerId === undefined || String(e.ownerId) === ownerId) &&
          (Number.isNaN(from) || e.toMs >= from) &&
          (Number.isNaN(to) || e.fromMs <= to),
      );
      return { result: rows.map(presentCalendarEvent) };
    },
  },
  'calendar.event.getbyid': {
    scope: ['calendar'],
    handler(ctx, params) {
      const id = Number.parseInt(required(params, 'id', 'calendar.event.getbyid'), 10);
      const entry = Number.isFinite(id) ? findCalendarEvent(ctx.portal, id) : undefined;
      // Not documented; CORE EventGetById answers null for an unknown id.
      return { result: entry ? presentCalendarEvent(entry) : null };
    },
  },
};
