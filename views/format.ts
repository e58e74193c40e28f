/** Dates for people: in the user's language and Bitrix24 time zone (UTC when the portal has none). */

const validZone = (tz: string | null): string => {
  if (!tz) return 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz;
  } catch {
    return 'UTC';
  }
};

export interface DateFormat {
  /** "27 Nov 2026, 10:00" style text. */
  dateTime(seconds: number): string;
  /** A start and an optional end as one range ("27 Nov 2026, 10:00 – 11:30"), without repeating the day. */
  range(start: number, end: number | null): string;
  /** The zone as people read it ("UTC", "GMT+3"), shown beside times. */
  zoneLabel: string;
  /** The value of an <input type="datetime-local"> in the user's zone. */
  inputValue(seconds: number | null): string;
  /** An <input type="datetime-local"> value read in this zone: unix seconds, null when empty, undefined when not a date. */
  parseInput(value: string): number | null | undefined;
  zone: string;
}

/**
 * Intl.DateTimeFormat objects cost ~0.1 ms each to build, more than rendering a page of rows, so one
 * DateFormat per (language, zone) is kept by the app's DateFormats (built once in createApp). Both
 * are bounded sets (two languages, the IANA zones), and an unknown zone falls back to UTC before it
 * becomes a key. `nowMs` names the moment whose zone abbreviation is shown (summer or winter time).
 */
export interface DateFormats {
  of(lang: string, timeZone: string | null): DateFormat;
}

export function createDateFormats(nowMs: () => number): DateFormats {
  const formats = new Map<string, DateFormat>();
  const partsFormats = new Map<string, Intl.DateTimeFormat>();
  /** Numeric parts in `zone` (`zone` is already a valid zone). */
  const partsFormat = (zone: string): Intl.DateTimeFormat => {
    let f = partsFormats.get(zone);
    if (!f) {
      f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
      if (partsFormats.size < 2000) partsFormats.set(zone, f);
    }
    return f;
  };
  return {
    of(lang, timeZone) {
      const key = `${lang === 'ru' ? 'ru' : 'en'}|${timeZone ?? ''}`;
      let format = formats.get(key);
      if (!format) {
        format = buildDateFormat(lang, timeZone, partsFormat, nowMs());
        if (formats.size < 2000) formats.set(key, format);
      }
      return format;
    },
  };
}

function buildDateFormat(lang: string, timeZone: string | null, partsFormat: (zone: string) => Intl.DateTimeFormat, atMs: number): DateFormat {
  const zone = validZone(timeZone);
  const text = new Intl.DateTimeFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: zone });
  const parts = partsFormat(zone);
  const zoneLabel =
    new Intl.DateTimeFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', { timeZone: zone, timeZoneName: 'short' }).formatToParts(new Date(atMs)).find((p) => p.type === 'timeZoneName')?.value ?? zone;
  return {
    zone,
    zoneLabel,
    dateTime: (s) => text.format(new Date(s * 1000)),
    range: (start, end) => (end === null || end === start ? text.format(new Date(start * 1000)) : text.formatRange(new Date(start * 1000), new Date(end * 1000))),
    inputValue(s) {
      if (s === null) return '';
      const p = Object.fromEntries(parts.formatToParts(new Date(s * 1000)).map((x) => [x.type, x.value]));
      return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
    },
    parseInput: (value) => parseLocalInput(value, parts),
  };
}

/** "2026-11-27T10:00" read in the zone of `parts` -> unix seconds; null for empty, undefined for garbage. */
function parseLocalInput(value: string, parts: Intl.DateTimeFormat): number | null | undefined {
  if (!value) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!m) return undefined;
  const asUtc = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!);
  if (!Number.isFinite(asUtc)) return undefined;
  // Date.UTC rolls over (month 13, 31 February, 25:00); a date that does not read back is not a date.
  const back = new Date(asUtc);
  if (back.getUTCMonth() !== +m[2]! - 1 || back.getUTCDate() !== +m[3]! || back.getUTCHours() !== +m[4]! || back.getUTCMinutes() !== +m[5]!) return undefined;
  // The zone's offset at that moment: format the UTC guess in the zone and measure the difference.
  const offsetAt = (ms: number) => {
    const p = Object.fromEntries(parts.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    return Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!) - ms;
  };
  const first = asUtc - offsetAt(asUtc);
  return Math.floor((asUtc - offsetAt(first)) / 1000);
}
