/**
 * The SQLite Store: one database file, migrations applied on open, repositories over prepared
 * statements. bun:sqlite is synchronous; the async Store methods keep callers backend-neutral.
 */
import type { Database } from 'bun:sqlite';
import { systemClock, type Clock } from '../../clock.ts';
import type { TokenCipher } from '../store.ts';
import { latestVersion } from '../migrations/index.ts';
import type { Store } from '../store.ts';
import { appliedVersions, migrateSqlite, openDatabase } from './database.ts';
import { createCalendarQueue } from './calendar-queue.ts';
import { createItemRepo } from './items.ts';
import { createJobLockRepo, createLeakyBucketRepo } from './instances.ts';
import { createOAuthStateRepo } from './sessions.ts';
import { createPortalRepo } from './portals.ts';
import { createSessionRepo } from './sessions.ts';
import { createTokenRepo } from './tokens.ts';
import { createUserRepo } from './users.ts';

export interface SqliteStore extends Store {
  readonly db: Database;
}

export async function openSqliteStore(
  path: string,
  opts: { cipher: TokenCipher; migrate?: boolean; clock?: Clock },
): Promise<SqliteStore> {
  const db = openDatabase(path);
  const latest = latestVersion();
  try {
    if (opts.migrate !== false) migrateSqlite(db);
    const newest = Math.max(0, ...appliedVersions(db));
    if (newest > latest) throw new Error(`the database schema is version ${newest}, newer than this binary knows (${latest}); run the newer b24app`);
  } catch (e) {
    db.close();
    throw e;
  }
  const clock = opts.clock ?? systemClock;
  return {
    db,
    portals: createPortalRepo(db, clock),
    tokens: createTokenRepo(db, opts.cipher, clock),
    users: createUserRepo(db, clock),
    sessions: createSessionRepo(db),
    items: createItemRepo(db),
    calendarQueue: createCalendarQueue(db),
    oauthStates: createOAuthStateRepo(db),
    jobLocks: createJobLockRepo(db),
    leakyBuckets: createLeakyBucketRepo(db),
    async readiness() {
      try {
        const row = db.query<{ v: number | null }, []>('SELECT max(version) AS v FROM schema_migrations').get();
        const v = row?.v ?? 0;
        return v >= latest ? { ok: true, detail: `schema ${v}` } : { ok: false, detail: `schema ${v} < ${latest}` };
      } catch (e) {
        return { ok: false, detail: (e as Error).message };
      }
    },
    async close() {
      db.close();
    },
  };
}
