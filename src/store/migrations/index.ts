/**
 * The numbered migrations, embedded in the binary as text. Append only: a released migration is
 * never edited; a change of schema is a new file with the next number.
 */
import initial from './001_initial.sql' with { type: 'text' };
import refreshLease from './002_refresh_lease.sql' with { type: 'text' };
import lifecycle from './003_lifecycle.sql' with { type: 'text' };
import searchFoldYo from './004_search_fold_yo.sql' with { type: 'text' };
import calendarQueue from './005_calendar_queue.sql' with { type: 'text' };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  { version: 1, name: '001_initial', sql: initial },
  { version: 2, name: '002_refresh_lease', sql: refreshLease },
  { version: 3, name: '003_lifecycle', sql: lifecycle },
  { version: 4, name: '004_search_fold_yo', sql: searchFoldYo },
  { version: 5, name: '005_calendar_queue', sql: calendarQueue },
];

export const latestVersion = (list: Migration[] = migrations): number => Math.max(0, ...list.map((m) => m.version));
