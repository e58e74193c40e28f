/**
 * calendar.event.add / get / getbyid / delete (DOCS api-reference/calendar/calendar-event/*). Errors of
 * this module are 400 with an empty `error` code and a text description, as the real one answers.
 * Adding fires ONCALENDARENTRYADD to bound handlers, asynchronously like the cloud queue.
 */
import { dispatchEvent } from '../event-sender.ts';
import type { CallContext, MethodTable } from '../rest-method.ts';
import { asString, type Params } from '../rest-request.ts';
import { RestError } from '../rest-response.ts';
import type { CalendarEvent } from '../world.ts';

const TYPES = ['user', 'group', 'company_calendar'];

function calendarError(description: string): RestError {
  return new RestError('', description, 400);
}

function required(params: Params, name: string): string {
  const value = asString(params[name]);
  if (value === undefined || value === '') throw calendarError(`The required parameter "${name}" is not specified`);
  return value;
}

function fromTs(value: unknown): string | undefined {
  const n = Number(asString(value));
  return Number.isFinite(n) && n > 0 ? new Date(n * 1000).toISOString() : undefined;
}

function present(e: CalendarEvent) {
  return {
    ID: String(e.ID),
    PARENT_ID: String(e.ID),
    CAL_TYPE: e.type,
    OWNER_ID: String(e.ownerId),
    NAME: e.name,
    DATE_FROM: e.from,
    DATE_TO: e.to,
    DESCRIPTION: e.description,
    CREATED_BY: String(e.createdBy),
    SECTION_ID: '1',
    ...e.fields,
  };
}

function addEvent(ctx: CallContext, params: Params) {
  const type = required(params, 'type');
  if (!TYPES.includes(type)) throw calendarError(`Invalid value of the "type" parameter`);
  const ownerId = Number.parseInt(required(params, 'ownerId'), 10);
  if (!Number.isFinite(ownerId)) throw calendarError(`Invalid value of the "ownerId" parameter`);
  const name = required(params, 'name');
  const from = asString(params.from) || fromTs(params.from_ts);
  const to = asString(params.to) || fromTs(params.to_ts);
  if (!from) throw calendarError('The required parameter "from" is not specified');
  if (!to) throw calendarError('The required parameter "to" is not specified');
  if (Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to))) throw calendarError('Invalid date format');
  if (Date.parse(to) < Date.parse(from)) throw calendarError('The end date of the event is earlier than the start date');
  const extra: Record<string, unknown> = {};
  for (const key of ['color', 'text_color', 'accessibility', 'importance', 'private_event', 'location', 'is_meeting']) {
    if (params[key] !== undefined) extra[key.toUpperCase()] = params[key];
  }
  const event: CalendarEvent = {
    ID: ++ctx.portal.counters.calendar,
    type,
    ownerId,
    name,
    from,
    to,
    description: asString(params.description) ?? '',
    createdBy: ctx.user.ID,
    fields: extra,
  };
  ctx.portal.calendar.push(event);
  void dispatchEvent(ctx.world, ctx.portal, ctx.install, 'ONCALENDARENTRYADD', { id: String(event.ID) }, ctx.user.ID);
  return { result: event.ID };
}

export const calendarMethods: MethodTable = {
  'calendar.event.add': { scope: ['calendar'], handler: addEvent },
  'calendar.event.get': {
    scope: ['calendar'],
    handler(ctx, params) {
      const type = required(params, 'type');
      const ownerId = asString(params.ownerId);
      const from = Date.parse(asString(params.from) ?? '');
      const to = Date.parse(asString(params.to) ?? '');
      const rows = ctx.portal.calendar.filter(
        (e) =>
          e.type === type &&
          (ownerId === undefined || String(e.ownerId) === ownerId) &&
          (Number.isNaN(from) || Date.parse(e.to) >= from) &&
          (Number.isNaN(to) || Date.parse(e.from) <= to),
      );
      return { result: rows.map(present) };
    },
  },
  'calendar.event.getbyid': {
    scope: ['calendar'],
    handler(ctx, params) {
      const id = Number.parseInt(required(params, 'id'), 10);
      const event = ctx.portal.calendar.find((e) => e.ID === id);
      return { result: event ? present(event) : null };
    },
  },
  'calendar.event.delete': {
    scope: ['calendar'],
    handler(ctx, params) {
      const id = Number.parseInt(required(params, 'id'), 10);
      const index = ctx.portal.calendar.findIndex((e) => e.ID === id);
      if (index < 0) throw calendarError('Event not found');
      ctx.portal.calendar.splice(index, 1);
      return { result: true };
    },
  },
};
