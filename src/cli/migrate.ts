/** `b24app migrate`: apply pending migrations and say which. */
import { loadConfig } from '../config.ts';
import { openDatabase } from '../store/sqlite/open-database.ts';
import { migrateSqlite } from '../store/sqlite/migrate.ts';
import { StoreOpenError } from '../store/open-store.ts';

export async function runMigrate(env: Record<string, string | undefined>): Promise<void> {
  const { database } = loadConfig(env, 'migrate');
  if (database.kind !== 'sqlite') throw new StoreOpenError('DATABASE_URL postgres:// is not supported by this build yet');
  const db = openDatabase(database.path);
  try {
    const applied = migrateSqlite(db);
    console.log(applied.length ? `applied: ${applied.map((m) => m.name).join(', ')}` : 'database is up to date');
  } finally {
    db.close();
  }
}
