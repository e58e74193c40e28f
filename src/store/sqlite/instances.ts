/**
 * What instances sharing one SQLite file (several processes) must do once: job locks and shared leaky
 * buckets (store.ts explains both). Times are the database's: julianday('now') in unix ms, one value
 * per statement. Writes serialise on SQLite's write lock, so each statement is atomic across processes.
 */
import type { Database } from 'bun:sqlite';
import { runUnderLock } from '../job-lock-renewal.ts';
import type { JobLockRepo, LeakyBucketRepo } from '../store.ts';

const NOW_MS = `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;

export function createJobLockRepo(db: Database): JobLockRepo {
  const acquire = db.query<{ holder: string }, [string, string, number]>(
    `INSERT INTO job_locks (name, holder, until_ms) VALUES (?1, ?2, ${NOW_MS} + ?3)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
       WHERE job_locks.until_ms <= ${NOW_MS}
     RETURNING holder`,
  );
  const renew = db.query<unknown, [string, string, number]>(`UPDATE job_locks SET until_ms = ${NOW_MS} + ?3 WHERE name = ?1 AND holder = ?2`);
  const release = db.query<unknown, [string, string]>('DELETE FROM job_locks WHERE name = ?1 AND holder = ?2');
  const statements = {
    acquire: async (name: string, holder: string, ttlMs: number) => acquire.get(name, holder, ttlMs)?.holder === holder,
    renew: async (name: string, holder: string, ttlMs: number) => void renew.run(name, holder, ttlMs),
    release: async (name: string, holder: string) => void release.run(name, holder),
  };
  return { tryRunExclusive: (name, ttlSec, fn) => runUnderLock(statements, name, ttlSec, fn) };
}

export function createLeakyBucketRepo(db: Database): LeakyBucketRepo {
  // ?2 rate per second, ?3 added, ?4 the floor after adding.
  const add = db.query<{ level: number }, [string, number, number, number]>(
    `INSERT INTO leaky_buckets (key, level, at_ms) VALUES (?1, max(?3, ?4), ${NOW_MS})
     ON CONFLICT (key) DO UPDATE SET
       level = max(max(0.0, level - max(0, excluded.at_ms - at_ms) * ?2 / 1000.0) + ?3, ?4),
       at_ms = max(at_ms, excluded.at_ms)
     RETURNING level`,
  );
  const level = db.query<{ level: number }, [string, number]>(
    `SELECT max(0.0, level - max(0, ${NOW_MS} - at_ms) * ?2 / 1000.0) AS level FROM leaky_buckets WHERE key = ?1`,
  );
  const dropIdle = db.query<unknown, [string, number]>(`DELETE FROM leaky_buckets WHERE substr(key, 1, length(?1)) = ?1 AND at_ms < ${NOW_MS} - ?2`);
  const dropOldest = db.query<unknown, [string, number]>(
    `DELETE FROM leaky_buckets WHERE key IN (
       SELECT key FROM leaky_buckets WHERE substr(key, 1, length(?1)) = ?1 ORDER BY at_ms DESC LIMIT -1 OFFSET ?2)`,
  );
  return {
    add: async (key, rate, n, atLeast = 0) => add.get(key, rate, n, atLeast)!.level,
    level: async (key, rate) => level.get(key, rate)?.level ?? 0,
    sweep: async (prefix, idleSec, maxRows) => dropIdle.run(prefix, idleSec * 1000).changes + dropOldest.run(prefix, maxRows).changes,
  };
}
