/**
 * The SQLite file as the whole app opens it (one place for the pragmas, each with its reason) and
 * the migrations applied to it.
 */
import { Database } from 'bun:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrations as builtIn, type Migration } from '../migrations/index.ts';

/**
 * Opens the SQLite file the way the whole app uses it. One place for the pragmas, each with its reason.
 */
export function openDatabase(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  try {
    // First, so that every later statement (even the pragmas below) waits for a lock held by
    // another process (a backup, a second instance, `b24app migrate`) instead of failing at once.
    db.exec('PRAGMA busy_timeout = 5000');
    // Write-ahead log: readers never block the writer and vice versa; an online backup can run
    // while the server writes. Also the first real read of the file: a non-database fails here.
    db.exec('PRAGMA journal_mode = WAL');
    // SQLite leaves foreign keys off by default; our cascades (portal -> its rows) rely on them.
    db.exec('PRAGMA foreign_keys = ON');
    // With WAL, NORMAL is durable against application crashes and only risks the last
    // transactions on power loss, at a fraction of FULL's fsync cost.
    db.exec('PRAGMA synchronous = NORMAL');
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/**
 * Applies the numbered migrations in order, each in its own transaction together with its row in
 * schema_migrations, so a failing migration leaves the database exactly as it was.
 */
export function appliedVersions(db: Database): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  return db
    .query<{ version: number }, []>('SELECT version FROM schema_migrations ORDER BY version')
    .all()
    .map((r) => r.version);
}

/** Returns the migrations it applied (empty when the database was up to date). */
export function migrateSqlite(db: Database, list: Migration[] = builtIn): Migration[] {
  const done = new Set(appliedVersions(db));
  const pending = [...list].sort((a, b) => a.version - b.version).filter((m) => !done.has(m.version));
  const record = db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, CAST(strftime('%s', 'now') AS INTEGER))");
  for (const m of pending) {
    // IMMEDIATE takes the write lock up front, so two processes migrating at once serialise.
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(m.sql);
      record.run(m.version, m.name);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw new Error(`migration ${m.name} failed: ${(e as Error).message}`);
    }
  }
  return pending;
}
