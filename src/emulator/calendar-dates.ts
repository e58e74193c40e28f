/**
 * Calendar dates as calendar.event.add / update take them (DOCS api-reference/calendar/calendar-event/
 * calendar-event-add.md, calendar-event-update.md, "Timezone handling features"): an ISO 8601 value with
 * an offset (`2025-03-20T15:00:00+02:00`, `…Z`) is an instant and `timezone_from`/`timezone_to` are
 * ignored; a plain value (`2025-03-20 15:00:00`, `2025-03-20T15:00:00`) is a wall time in `timezone_from`
 * / `timezone_to`, else in the user's own time zone (the server's, UTC, when they have none); a date
 * without time is an all-day date with `skip_time=Y`.
 */
import { timeZoneOffset } from './portal-users.ts';

/** What the server (and so a user without a zone of their own) uses. */
export const SERVER_TIME_ZONE = 'UTC';

const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const DAY_MS = 86_400_000;

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Seconds `zone` is ahead of UTC at the instant `ms`. */
export function offsetAt(zone: string, ms: number): number {
  return zone ? timeZoneOffset(zone, new Date(ms)) : 0;
}

function wallToInstant(fields: number[], zone: string): number {
  const [y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0] = fields;
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  const first = asUtc - offsetAt(zone, asUtc) * 1000;
  // Once more with the offset at the first guess, for wall times next to a DST change.
  return asUtc - offsetAt(zone, first) * 1000;
}

/** An instant (ms) for a timed value, or undefined when it is not a date Bitrix24 accepts. */
export function parseDateTime(value: string, zone: string): number | undefined {
  const text = value.trim();
  if (WITH_OFFSET.test(text)) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  const m = WALL_TIME.exec(text);
  if (!m) return undefined;
  const fields = m.slice(1).map((x) => Number(x ?? 0));
  const ms = wallToInstant(fields, zone);
  return Number.isNaN(ms) ? undefined : ms;
}

/** UTC midnight of the calendar date in `value` (its time part, if any, is dropped), for all-day events. */
export function parseDay(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value.trim());
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(ms) ? undefined : ms;
}

function offsetText(seconds: number): string {
  const sign = seconds < 0 ? '-' : '+';
  const abs = Math.abs(seconds);
  const hh = String(Math.floor(abs / 3600)).padStart(2, '0');
  const mm = String(Math.floor((abs % 3600) / 60)).padStart(2, '0');
  return `${sign}${hh}:${mm}`;
}

/** ISO 8601 wall time of `ms` in `zone` with that zone's offset, e.g. `2026-01-10T10:00:00+03:00`. */
export function formatInZone(ms: number, zone: string): string {
  const offset = offsetAt(zone, ms);
  return `${new Date(ms + offset * 1000).toISOString().slice(0, 19)}${offsetText(offset)}`;
}

/** `YYYY-MM-DD` of an all-day event's date. */
export function formatDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** DT_LENGTH: seconds from start to end; an all-day event counts its last day whole. */
export function lengthSeconds(fromMs: number, toMs: number, skipTime: boolean): number {
  return Math.round((toMs - fromMs + (skipTime ? DAY_MS : 0)) / 1000);
}
