/**
 * The PostgreSQL connection pool as the whole app opens it (Bun's built-in client: nothing to ship
 * beside the binary) and the migrations applied to it.
 */
// Bun.SQL, not `import { SQL } from 'bun'`: the import alone costs a SQLite-only start about 8 ms.
import type { SQL } from 'bun';
import { latestVersion, postgresMigrations as builtIn, type Migration } from '../migrations/index.ts';

export interface PostgresOptions {
  /** Connections in the pool (DATABASE_POOL_MAX). */
  poolMax?: number;
  /** Longest a statement may run, in milliseconds (DATABASE_STATEMENT_TIMEOUT_MS); 0: no limit. */
  statementTimeoutMs?: number;
  /** The schema the app's tables live in (search_path); the database's default when absent. */
  schema?: string;
  /** Seconds to wait for a connection. */
  connectTimeoutSec?: number;
}

/**
 * A pool on `url`. TLS comes from the URL's `sslmode` (Bun reads it: disable, prefer, require,
 * verify-ca, verify-full), as do sslrootcert and the like. Opens no connection until the first query.
 */
export function openPool(url: string, opts: PostgresOptions = {}): SQL {
  const connection: Record<string, string> = {
    application_name: 'b24app',
    statement_timeout: String(opts.statementTimeoutMs ?? 5000),
  };
  if (opts.schema) connection.search_path = opts.schema;
  return new Bun.SQL(url, {
    max: opts.poolMax ?? 10,
    connectionTimeout: opts.connectTimeoutSec ?? 10,
    idleTimeout: 60,
    connection,
  });
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'DATABASE_URL';
  }
}

/** Which migrations this database has, in order (creating the bookkeeping table if it is new). */
export async function appliedVersions(sql: SQL): Promise<number[]> {
  const rows: { version: number }[] = await sql`SELECT version FROM schema_migrations ORDER BY version`.catch(async (e: unknown) => {
    if ((e as { errno?: string }).errno !== '42P01') throw e; // undefined_table: a new database
    return [];
  });
  return rows.map((r) => Number(r.version));
}

export class SchemaTooNewError extends Error {}

/**
 * Applies the numbered migrations in order, each in its own transaction together with its row in
 * schema_migrations, so a failing migration leaves the database exactly as it was. Each transaction
 * first takes an advisory lock (one per schema): two instances migrating at once serialise, and the
 * second finds the version applied and skips it. Returns the migrations it applied.
 */
export async function migratePostgres(sql: SQL, list: Migration[] = builtIn): Promise<Migration[]> {
  const applied: Migration[] = [];
  const known = latestVersion(list);
  const sorted = [...list].sort((a, b) => a.version - b.version);
  // The check before the first lock: a database newer than this binary is refused untouched.
  const before = await appliedVersions(sql);
  const newest = Math.max(0, ...before);
  if (newest > known) throw new SchemaTooNewError(`the database schema is version ${newest}, newer than this binary knows (${known}); run the newer b24app`);
  if (sorted.every((m) => before.includes(m.version))) return applied;
  for (const m of sorted) {
    if (before.includes(m.version)) continue;
    try {
      const did = await sql.begin(async (tx) => {
        // A migration may rewrite a big table or wait for another instance: no statement timeout.
        await tx`SET LOCAL statement_timeout = 0`;
        await tx`SELECT pg_advisory_xact_lock(hashtext('b24app.migrate:' || current_schema()))`;
        await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
          version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`;
        const [row] = await tx`SELECT 1 AS done FROM schema_migrations WHERE version = ${m.version}`;
        if (row) return false; // another instance applied it while we waited for the lock
        await tx.unsafe(m.sql);
        await tx`INSERT INTO schema_migrations (version, name, applied_at)
                 VALUES (${m.version}, ${m.name}, extract(epoch FROM now())::bigint)`;
        return true;
      });
      if (did) applied.push(m);
    } catch (e) {
      throw new Error(`migration ${m.name} failed: ${(e as Error).message}`);
    }
  }
  return applied;
}
