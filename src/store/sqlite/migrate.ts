/**
 * Applies the numbered migrations in order, each in its own transaction together with its row in
 * schema_migrations, so a failing migration leaves the database exactly as it was.
 */
import type { Database } from 'bun:sqlite';
import { migrations as builtIn, type Migration } from '../migrations/index.ts';

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
