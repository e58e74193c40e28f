/** What cabinet views need besides the data: translation, dates, and where routes live. */
import type { DateFormat } from './format.ts';
import type { Translate } from './i18n.ts';

export interface ItemView {
  id: string;
  name: string;
  notes: string;
  status: 'active' | 'archived';
  startsAt: number | null;
  endsAt: number | null;
  calendarEventId: string | null;
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
}

export interface ListState {
  status: '' | 'active' | 'archived';
  q: string;
}
