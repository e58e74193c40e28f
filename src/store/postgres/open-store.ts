/**
 * The PostgreSQL Store: a pool over Bun's built-in client, migrations applied on open (serialised
 * between instances by an advisory lock), repositories over parameterised statements. Several
 * instances may share one database.
 */
import type { SQL } from 'bun';
import { systemClock, type Clock } from '../../clock.ts';
import { latestVersion } from '../migrations/index.ts';
import type { Store, TokenCipher } from '../store.ts';
import { createCalendarQueue } from './calendar-queue.ts';
import { appliedVersions, migratePostgres, openPool, SchemaTooNewError, type PostgresOptions } from './database.ts';
import { createItemRepo } from './items.ts';
import { createJobLockRepo, createLeakyBucketRepo } from './instances.ts';
import { createPortalRepo } from './portals.ts';
import { createOAuthStateRepo, createSessionRepo } from './sessions.ts';
import { createTokenRepo } from './tokens.ts';
import { createUserRepo } from './users.ts';

export interface PostgresStore extends Store {
  readonly sql: SQL;
}

export async function openPostgresStore(
  url: string,
  opts: PostgresOptions & { cipher: TokenCipher; clock?: Clock; migrate?: boolean },
): Promise<PostgresStore> {
  const sql = openPool(url, opts);
  const latest = latestVersion();
  try {
    if (opts.migrate !== false) {
      await migratePostgres(sql);
    } else {
      const newest = Math.max(0, ...(await appliedVersions(sql)));
      if (newest > latest) throw new SchemaTooNewError(`the database schema is version ${newest}, newer than this binary knows (${latest}); run the newer b24app`);
    }
  } catch (e) {
    await sql.close({ timeout: 0 }).catch(() => {});
    throw e;
  }
  const clock = opts.clock ?? systemClock;
  return {
    sql,
    portals: createPortalRepo(sql, clock),
    tokens: createTokenRepo(sql, opts.cipher, clock),
    users: createUserRepo(sql, clock),
    sessions: createSessionRepo(sql),
    items: createItemRepo(sql),
    calendarQueue: createCalendarQueue(sql),
    oauthStates: createOAuthStateRepo(sql),
    jobLocks: createJobLockRepo(sql),
    leakyBuckets: createLeakyBucketRepo(sql),
    async readiness() {
      try {
        const [row] = await sql`SELECT max(version) AS v FROM schema_migrations`;
        const v = Number(row?.v ?? 0);
        return v >= latest ? { ok: true, detail: `schema ${v}` } : { ok: false, detail: `schema ${v} < ${latest}` };
      } catch (e) {
        return { ok: false, detail: (e as Error).message };
      }
    },
    async close() {
      await sql.close({ timeout: 5 });
    },
  };
}
