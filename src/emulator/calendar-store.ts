/**
 * The portal's calendar entries and the rules for changing them, shared by the REST methods and by the
 * control API's "a user edits it in Bitrix24" (DOCS api-reference/calendar/calendar-event/*). Who may
 * change an entry: the owner of a user calendar; for group and company calendars an administrator or
 * the entry's author (group membership is not modelled). Refusals carry the text each page documents;
 * the caller turns them into a REST error (400, empty code) or a control answer.
 */
import { formatDay, formatInZone, isTimeZone, lengthSeconds, offsetAt, parseDateTime, parseDay, SERVER_TIME_ZONE } from './calendar-dates.ts';
import type { PortalUser } from './portal-users.ts';
import { asString, type Params } from './rest-request.ts';
import type { CalendarEvent, Portal } from './world.ts';

export const CALENDAR_TYPES = ['user', 'group', 'company_calendar'];
/** Entries per portal; adding beyond it fails like any save error. */
export const MAX_CALENDAR_EVENTS = 10_000;
/** The one section (calendar) every owner has in the emulator. */
export const SECTION_ID = '1';
/** What Bitrix24 names an entry saved with an empty name (CORE EC_T_NEW_EVENT). */
const UNNAMED = 'New event';
const OPTIONAL_FIELDS = ['color', 'text_color', 'accessibility', 'importance', 'private_event', 'location', 'is_meeting'];

export type RefusalReason = 'invalid' | 'denied' | 'not_found';

export class CalendarRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

export function findCalendarEvent(portal: Portal, id: number): CalendarEvent | undefined {
  return portal.calendar.find((e) => e.ID === id);
}

/** May `user` add to, change or delete from this calendar (an existing entry's author in `createdBy`)? */
export function mayEdit(user: PortalUser, type: string, ownerId: number, createdBy?: number): boolean {
  if (type === 'user') return user.ID === ownerId;
  return user.ADMIN || createdBy === user.ID;
}

interface Times {
  fromMs: number;
  toMs: number;
  tzFrom: string;
  tzTo: string;
  skipTime: boolean;
}

function zoneParam(params: Params, key: string, fallback: string): string {
  const zone = asString(params[key]);
  if (!zone) return fallback;
  if (!isTimeZone(zone)) throw new CalendarRefusal('invalid', `Invalid value for the "${key}" parameter`);
  return zone;
}

/** `from` / `to` (or `from_ts` / `to_ts`, Unix seconds) as an instant; undefined when neither is given. */
function readWhen(params: Params, key: 'from' | 'to', zone: string, skipTime: boolean): number | undefined {
  const text = asString(params[key]);
  if (text) {
    const ms = skipTime ? parseDay(text) : parseDateTime(text, zone);
    if (ms === undefined) throw new CalendarRefusal('invalid', 'Invalid date format');
    return ms;
  }
  const ts = Number(asString(params[`${key}_ts`]));
  if (!Number.isFinite(ts) || ts <= 0) return undefined;
  return skipTime ? Math.floor(ts / 86_400) * 86_400_000 : ts * 1000;
}

/** The entry's times after applying `params` to `current` (nothing of it for a new entry). */
function resolveTimes(params: Params, user: PortalUser, current?: Times): Partial<Times> {
  const skipParam = asString(params.skip_time);
  const skipTime = skipParam === undefined ? (current?.skipTime ?? false) : skipParam === 'Y';
  const userZone = user.TIME_ZONE || SERVER_TIME_ZONE;
  const tzFrom = skipTime ? '' : zoneParam(params, 'timezone_from', userZone);
  const tzTo = skipTime ? '' : zoneParam(params, 'timezone_to', asString(params.timezone_from) ? tzFrom : userZone);
  const fromMs = readWhen(params, 'from', tzFrom, skipTime);
  const toMs = readWhen(params, 'to', tzTo, skipTime);
  const times: Partial<Times> = { skipTime };
  if (fromMs !== undefined) Object.assign(times, { fromMs, tzFrom });
  if (toMs !== undefined) Object.assign(times, { toMs, tzTo });
  return times;
}

function checkOrder(fromMs: number, toMs: number): void {
  if (toMs < fromMs) throw new CalendarRefusal('invalid', 'The end date of the event is earlier than the start date');
}

function optionalFields(params: Params): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key of OPTIONAL_FIELDS) if (params[key] !== undefined) fields[key.toUpperCase()] = params[key];
  return fields;
}

function textParam(params: Params, key: 'name' | 'description', invalid: string): string | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new CalendarRefusal('invalid', invalid);
  return value.trim();
}

export interface NewEntry {
  type: string;
  ownerId: number;
  name: string;
}

/** Adds an entry for `user` (the author); the REST method has checked the required parameters. */
export function createCalendarEvent(portal: Portal, user: PortalUser, entry: NewEntry, params: Params, nowMs: number): CalendarEvent {
  if (!mayEdit(user, entry.type, entry.ownerId)) throw new CalendarRefusal('denied', 'Access denied');
  const times = resolveTimes(params, user);
  if (times.fromMs === undefined || times.toMs === undefined) throw new CalendarRefusal('invalid', 'Invalid date format');
  checkOrder(times.fromMs, times.toMs);
  if (portal.calendar.length >= MAX_CALENDAR_EVENTS) throw new CalendarRefusal('invalid', 'An error occurred while creating the event');
  const now = nowMs;
  const event: CalendarEvent = {
    ID: ++portal.counters.calendar,
    type: entry.type,
    ownerId: entry.ownerId,
    name: entry.name.trim() || UNNAMED,
    description: textParam(params, 'description', 'Invalid value for the parameter "description"') ?? '',
    fromMs: times.fromMs,
    toMs: times.toMs,
    tzFrom: times.tzFrom ?? '',
    tzTo: times.tzTo ?? '',
    skipTime: times.skipTime ?? false,
    createdBy: user.ID,
    createdMs: now,
    modifiedMs: now,
    version: 1,
    fields: optionalFields(params),
  };
  portal.calendar.push(event);
  return event;
}

/**
 * Changes what `params` names (name, description, from/to with their zones, skip_time, optional fields),
 * as `user`; everything else stays. Bumps VERSION and TIMESTAMP_X even when nothing differs, as a save does.
 */
export function updateCalendarEvent(event: CalendarEvent, user: PortalUser, params: Params, nowMs: number): CalendarEvent {
  if (!mayEdit(user, event.type, event.ownerId, event.createdBy)) throw new CalendarRefusal('denied', 'Access denied.');
  const name = textParam(params, 'name', 'Invalid value for the "name" parameter.');
  const description = textParam(params, 'description', 'Invalid value for the "description" parameter.');
  const times = { ...event, ...resolveTimes(params, user, event) };
  checkOrder(times.fromMs, times.toMs);
  if (name !== undefined) event.name = name || UNNAMED;
  if (description !== undefined) event.description = description;
  Object.assign(event, {
    fromMs: times.fromMs,
    toMs: times.toMs,
    tzFrom: times.skipTime ? '' : times.tzFrom,
    tzTo: times.skipTime ? '' : times.tzTo,
    skipTime: times.skipTime,
  });
  Object.assign(event.fields, optionalFields(params));
  event.version++;
  event.modifiedMs = Math.max(nowMs, event.modifiedMs);
  return event;
}

export function deleteCalendarEvent(portal: Portal, event: CalendarEvent, user: PortalUser): void {
  if (!mayEdit(user, event.type, event.ownerId, event.createdBy)) {
    throw new CalendarRefusal('denied', 'An error occurred while deleting the event');
  }
  portal.calendar.splice(portal.calendar.indexOf(event), 1);
}

const atom = (ms: number) => formatInZone(ms, SERVER_TIME_ZONE);

/** The entry as calendar.event.get / getbyid answer (DOCS api-reference/calendar/_includes/calendar_event_fields.md). */
export function presentCalendarEvent(e: CalendarEvent) {
  const when = (ms: number, zone: string) => (e.skipTime ? formatDay(ms) : formatInZone(ms, zone));
  return {
    ID: String(e.ID),
    PARENT_ID: String(e.ID),
    DELETED: 'N',
    CAL_TYPE: e.type,
    OWNER_ID: String(e.ownerId),
    NAME: e.name,
    DATE_FROM: when(e.fromMs, e.tzFrom),
    DATE_TO: when(e.toMs, e.tzTo),
    TZ_FROM: e.tzFrom,
    TZ_TO: e.tzTo,
    TZ_OFFSET_FROM: String(offsetAt(e.tzFrom, e.fromMs)),
    TZ_OFFSET_TO: String(offsetAt(e.tzTo, e.toMs)),
    DATE_FROM_TS_UTC: String(Math.floor(e.fromMs / 1000)),
    DATE_TO_TS_UTC: String(Math.floor(e.toMs / 1000)),
    DT_SKIP_TIME: e.skipTime ? 'Y' : 'N',
    DT_LENGTH: lengthSeconds(e.fromMs, e.toMs, e.skipTime),
    DESCRIPTION: e.description,
    CREATED_BY: String(e.createdBy),
    MEETING_HOST: String(e.createdBy),
    DATE_CREATE: atom(e.createdMs),
    TIMESTAMP_X: atom(e.modifiedMs),
    VERSION: String(e.version),
    SECTION_ID: SECTION_ID,
    SECT_ID: SECTION_ID,
    ...e.fields,
  };
}
