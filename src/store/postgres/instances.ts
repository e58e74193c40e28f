/**
 * What instances sharing one PostgreSQL database must do once: job locks and shared leaky buckets
 * (store.ts explains both). Times are the server's (clock_timestamp() in unix ms), so instances on
 * hosts with different clocks agree. Each statement is atomic: an INSERT … ON CONFLICT DO UPDATE
 * takes the row's lock, so concurrent writers of one key queue and each sees the other's level.
 */
import type { SQL } from 'bun';
import { runUnderLock } from '../job-lock-renewal.ts';
import type { JobLockRepo, LeakyBucketRepo } from '../store.ts';

export function createJobLockRepo(sql: SQL): JobLockRepo {
  const statements = {
    acquire: async (name: string, holder: string, ttlMs: number) => {
      const rows = await sql`
        INSERT INTO job_locks (name, holder, until_ms)
        VALUES (${name}, ${holder}, (extract(epoch FROM clock_timestamp()) * 1000)::bigint + ${ttlMs})
        ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, until_ms = EXCLUDED.until_ms
          WHERE job_locks.until_ms <= (extract(epoch FROM clock_timestamp()) * 1000)::bigint
        RETURNING holder`;
      return rows[0]?.holder === holder;
    },
    renew: async (name: string, holder: string, ttlMs: number) => {
      await sql`UPDATE job_locks SET until_ms = (extract(epoch FROM clock_timestamp()) * 1000)::bigint + ${ttlMs}
                WHERE name = ${name} AND holder = ${holder}`;
    },
    release: async (name: string, holder: string) => {
      await sql`DELETE FROM job_locks WHERE name = ${name} AND holder = ${holder}`;
    },
  };
  return { tryRunExclusive: (name, ttlSec, fn) => runUnderLock(statements, name, ttlSec, fn) };
}

export function createLeakyBucketRepo(sql: SQL): LeakyBucketRepo {
  return {
    async add(key, rate, n, atLeast = 0) {
      const [row] = await sql`
        INSERT INTO leaky_buckets AS b (key, level, at_ms)
        VALUES (${key}, GREATEST(${n}::float8, ${atLeast}::float8), (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
        ON CONFLICT (key) DO UPDATE SET
          level = GREATEST(GREATEST(0, b.level - GREATEST(0, EXCLUDED.at_ms - b.at_ms) * ${rate}::float8 / 1000) + ${n}::float8, ${atLeast}::float8),
          at_ms = GREATEST(b.at_ms, EXCLUDED.at_ms)
        RETURNING level`;
      return Number(row.level);
    },
    async level(key, rate) {
      const [row] = await sql`
        SELECT GREATEST(0, level - GREATEST(0, (extract(epoch FROM clock_timestamp()) * 1000)::bigint - at_ms) * ${rate}::float8 / 1000) AS level
        FROM leaky_buckets WHERE key = ${key}`;
      return row ? Number(row.level) : 0;
    },
    async sweep(prefix, idleSec, maxRows) {
      const idle = await sql`DELETE FROM leaky_buckets WHERE left(key, length(${prefix})) = ${prefix}
                             AND at_ms < (extract(epoch FROM clock_timestamp()) * 1000)::bigint - ${idleSec * 1000}`;
      const over = await sql`DELETE FROM leaky_buckets WHERE key IN (
                               SELECT key FROM leaky_buckets WHERE left(key, length(${prefix})) = ${prefix}
                               ORDER BY at_ms DESC OFFSET ${maxRows})`;
      return idle.count + over.count;
    },
  };
}
