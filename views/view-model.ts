/** What cabinet views need besides the data: translation, dates, where routes live, and field messages. */
import type { DateFormat } from './format.ts';
import { DATA_MAX_BYTES, NAME_MAX, type FieldIssue } from '../src/domain/items.ts';
import type { MessageKey, Translate } from './i18n.ts';

export interface ItemView {
  id: string;
  /** The Bitrix24 user whose calendar holds the item's event (the item's owner). */
  ownerId: number;
  name: string;
  notes: string;
  status: 'active' | 'archived';
  startsAt: number | null;
  endsAt: number | null;
  calendarEventId: string | null;
  calendarSync: 'synced' | 'pending' | 'failed' | null;
  updatedAt: number;
  version: number;
}

export interface ViewContext {
  t: Translate;
  lang: string;
  dates: DateFormat;
  /** BASE_PATH-prefixed path of a route. */
  url: (path: string) => string;
  /** The zone is the user's own from Bitrix24 (else the browser's, or UTC until the browser said). */
  zoneFromBitrix?: boolean;
  /**
   * The portal's browser origin (`https://mycompany.bitrix24.com`), for links into Bitrix24; absent when
   * unknown, and then nothing links there.
   */
  portalOrigin?: string | null;
}

/**
 * Where Bitrix24 shows an event of a user's calendar: a path on the portal, for BX24.openPath (which
 * takes paths starting with `/` on the same portal) and, after the portal's origin, for a plain link.
 */
export const calendarEventPath = (ownerId: number, eventId: string): string =>
  `/company/personal/user/${encodeURIComponent(String(ownerId))}/calendar/?EVENT_ID=${encodeURIComponent(eventId)}`;

export interface ListState {
  status: '' | 'active' | 'archived';
  q: string;
}

/**
 * Field problems as people read them. The domain reports a code per field (domain/items.ts
 * FieldIssue); this turns codes into dictionary text in the reader's language: the cabinet's forms
 * in the user's, the JSON API's 422 in English. A value that is not a known code (Elysia's own schema
 * messages) is passed through as it is.
 */
const simple: Record<Exclude<FieldIssue, 'name_too_long' | 'data_too_large'>, MessageKey> = {
  name_required: 'fieldNameRequired',
  name_control_characters: 'fieldNameControl',
  data_not_object: 'fieldDataNotObject',
  status_invalid: 'fieldStatusInvalid',
  end_before_start: 'fieldEndBeforeStart',
  start_required_for_end: 'fieldStartForEnd',
  start_required_for_calendar: 'fieldStartForCalendar',
  not_a_date: 'fieldNotADate',
  item_limit_reached: 'fieldItemLimit',
};

export function fieldMessage(t: Translate, lang: string, issue: string): string {
  if (issue === 'name_too_long') return t.plural('fieldNameTooLong', NAME_MAX);
  if (issue === 'data_too_large') {
    const size = new Intl.NumberFormat(lang === 'ru' ? 'ru' : 'en', { style: 'unit', unit: 'kilobyte', unitDisplay: 'short' }).format(DATA_MAX_BYTES / 1024);
    return t('fieldDataTooLarge', { size });
  }
  const key = simple[issue as keyof typeof simple];
  return key ? t(key) : issue;
}

export function fieldMessages(t: Translate, lang: string, fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).map(([field, issue]) => [field, fieldMessage(t, lang, issue)]));
}
