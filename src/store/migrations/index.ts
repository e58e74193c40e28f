/**
 * The numbered migrations, embedded in the binary as text. Append only: a released migration is
 * never edited; a change of schema is a new file with the next number.
 */
import initial from './001_initial.sql' with { type: 'text' };
import refreshLease from './002_refresh_lease.sql' with { type: 'text' };
import lifecycle from './003_lifecycle.sql' with { type: 'text' };
import searchFoldYo from './004_search_fold_yo.sql' with { type: 'text' };
import calendarQueue from './005_calendar_queue.sql' with { type: 'text' };
import instances from './006_instances.sql' with { type: 'text' };
import installHealth from './007_install_health.sql' with { type: 'text' };
import itemApiJson from './008_item_api_json.sql' with { type: 'text' };
import tokenRefusal from './009_token_refusal.sql' with { type: 'text' };
import pgInitial from './postgres/001_initial.sql' with { type: 'text' };
import pgRefreshLease from './postgres/002_refresh_lease.sql' with { type: 'text' };
import pgLifecycle from './postgres/003_lifecycle.sql' with { type: 'text' };
import pgSearchFoldYo from './postgres/004_search_fold_yo.sql' with { type: 'text' };
import pgCalendarQueue from './postgres/005_calendar_queue.sql' with { type: 'text' };
import pgInstances from './postgres/006_instances.sql' with { type: 'text' };
import pgInstallHealth from './postgres/007_install_health.sql' with { type: 'text' };
import pgItemApiJson from './postgres/008_item_api_json.sql' with { type: 'text' };
import pgTokenRefusal from './postgres/009_token_refusal.sql' with { type: 'text' };

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
  { version: 6, name: '006_instances', sql: instances },
  { version: 7, name: '007_install_health', sql: installHealth },
  { version: 8, name: '008_item_api_json', sql: itemApiJson },
  { version: 9, name: '009_token_refusal', sql: tokenRefusal },
];

/**
 * The same versions for PostgreSQL (postgres/), each meaning what SQLite's file of that number means:
 * a database at version N has the same tables and columns on either backend.
 */
export const postgresMigrations: Migration[] = [
  { version: 1, name: '001_initial', sql: pgInitial },
  { version: 2, name: '002_refresh_lease', sql: pgRefreshLease },
  { version: 3, name: '003_lifecycle', sql: pgLifecycle },
  { version: 4, name: '004_search_fold_yo', sql: pgSearchFoldYo },
  { version: 5, name: '005_calendar_queue', sql: pgCalendarQueue },
  { version: 6, name: '006_instances', sql: pgInstances },
  { version: 7, name: '007_install_health', sql: pgInstallHealth },
  { version: 8, name: '008_item_api_json', sql: pgItemApiJson },
  { version: 9, name: '009_token_refusal', sql: pgTokenRefusal },
];

export const latestVersion = (list: Migration[] = migrations): number => Math.max(0, ...list.map((m) => m.version));
