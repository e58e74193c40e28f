/** `b24app migrate` and `b24app backup`: the commands that work on the database itself. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../config.ts';
import { describePostgresFailure, StoreOpenError } from '../store/open-store.ts';
import { migratePostgres, openPool } from '../store/postgres/database.ts';
import { migrateSqlite, openDatabase } from '../store/sqlite/database.ts';

/** `b24app migrate`: apply pending migrations and say which. */
export async function runMigrate(env: Record<string, string | undefined>): Promise<void> {
  const config = loadConfig(env, 'migrate');
  const { database } = config;
  if (database.kind === 'postgres') {
    const sql = openPool(database.url, { poolMax: 1, statementTimeoutMs: config.databaseStatementTimeoutMs });
    try {
      const applied = await migratePostgres(sql).catch((e: unknown) => {
        throw new StoreOpenError(`DATABASE_URL ${describePostgresFailure(database.url, e)}`);
      });
      console.log(applied.length ? `applied: ${applied.map((m) => m.name).join(', ')}` : 'database is up to date');
    } finally {
      await sql.close({ timeout: 5 });
    }
    return;
  }
  const db = openDatabase(database.path);
  try {
    const applied = migrateSqlite(db);
    console.log(applied.length ? `applied: ${applied.map((m) => m.name).join(', ')}` : 'database is up to date');
  } finally {
    db.close();
  }
}

/**
 * `b24app backup <file>`: a consistent copy of the live SQLite database. VACUUM INTO reads one
 * snapshot inside a read transaction, so it is safe while the server writes (WAL lets both run).
 */
export function backupSqlite(sourcePath: string, target: string): void {
  if (existsSync(target)) throw new Error(`backup target ${target} already exists; choose a new file`);
  const db = openDatabase(sourcePath);
  try {
    db.query('VACUUM INTO ?').run(resolve(target));
  } finally {
    db.close();
  }
}

export async function runBackup(env: Record<string, string | undefined>, target: string | undefined): Promise<void> {
  if (!target) throw new Error('usage: b24app backup <file>');
  const { database } = loadConfig(env, 'backup');
  if (database.kind !== 'sqlite') {
    throw new StoreOpenError(
      `backup copies a SQLite file; for PostgreSQL use its own tool, which takes a consistent snapshot while the app runs: pg_dump --format=custom --file=${target} "$DATABASE_URL"`,
    );
  }
  backupSqlite(database.path, target);
  console.log(`backup written to ${target}`);
}
