/**
 * `b24app doctor`, the database: reachable, its migrations against this binary's, and whether
 * APP_SECRET opens the stored tokens. Doctor changes no schema: it opens the store without migrating,
 * reads the versions without creating the bookkeeping table, and never creates a SQLite file that is
 * not there (a wrong path or working directory would otherwise look like an empty, healthy database).
 */
import { Database } from 'bun:sqlite';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { createTokenCipher } from '../auth/secrets.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { latestVersion, migrations, postgresMigrations } from '../store/migrations/index.ts';
import { describePostgresFailure } from '../store/open-store.ts';
import { appliedVersions, openPool, redactUrl } from '../store/postgres/database.ts';
import { openPostgresStore } from '../store/postgres/open-store.ts';
import { openSqliteStore } from '../store/sqlite/open-store.ts';
import type { Store } from '../store/store.ts';
import { oneLine, type CheckResult } from './doctor-check.ts';

export interface DatabaseCheckOptions {
  /** APP_SECRET, when it is valid: without it the store is not opened (nothing to decrypt with). */
  appSecret: string | undefined;
  statementTimeoutMs: number;
  timeoutMs: number;
  clock?: Clock;
}

export interface DatabaseChecks {
  results: CheckResult[];
  /** Open, migrated to this binary's version and readable with APP_SECRET; the caller closes it. */
  store: Store | null;
  /** Why `store` is null, for the summary. */
  skipped?: string;
}

/** The versions applied, or what is wrong in one line that names the database (without its password). */
type Versions = { ok: true; where: string; versions: number[] } | { ok: false; problem: string };

function readSqliteVersions(path: string): Versions {
  if (path === ':memory:') return { ok: false, problem: 'sqlite::memory: is an in-memory database: nothing the app stores outlives it' };
  const where = `sqlite:${path}${isAbsolute(path) ? '' : ` (${resolve(path)})`}`;
  if (!existsSync(path)) return { ok: false, problem: `${where} does not exist (serve creates it at start: is the path, or the working directory, the one serve uses?)` };
  let db: Database | null = null;
  try {
    db = new Database(path, { readonly: true, strict: true });
    db.exec('PRAGMA busy_timeout = 5000');
    const table = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    const versions = table ? db.query<{ version: number }, []>('SELECT version FROM schema_migrations').all().map((r) => r.version) : [];
    return { ok: true, where, versions };
  } catch (e) {
    return { ok: false, problem: `${where} cannot be read: ${oneLine(e)}` };
  } finally {
    db?.close();
  }
}

async function readPostgresVersions(url: string, opts: DatabaseCheckOptions): Promise<Versions> {
  const sql = openPool(url, { poolMax: 1, connectTimeoutSec: Math.max(1, Math.ceil(opts.timeoutMs / 1000)), statementTimeoutMs: opts.statementTimeoutMs });
  try {
    return { ok: true, where: redactUrl(url), versions: await appliedVersions(sql) };
  } catch (e) {
    return { ok: false, problem: describePostgresFailure(url, e) };
  } finally {
    await sql.close({ timeout: 0 }).catch(() => undefined);
  }
}

/** all applied / pending (warn) / newer than this binary (fail). */
export function checkMigrations(database: Config['database'], versions: number[]): CheckResult {
  const list = database.kind === 'postgres' ? postgresMigrations : migrations;
  const latest = latestVersion(list);
  const newest = Math.max(0, ...versions);
  const name = 'migrations';
  if (newest > latest) {
    return { status: 'fail', name, detail: `the schema is version ${newest}, newer than this binary knows (${latest}): run the newer b24app` };
  }
  const pending = list.filter((m) => !versions.includes(m.version));
  if (pending.length) {
    return { status: 'warn', name, detail: `pending: ${pending.map((m) => m.name).join(', ')}; run \`b24app migrate\` (serve also applies them at start)` };
  }
  return { status: 'ok', name, detail: `all ${list.length} applied (schema version ${latest})` };
}

export async function checkTokenKey(store: Store): Promise<CheckResult> {
  return (await store.tokens.keyMatches())
    ? { status: 'ok', name: 'token key', detail: 'APP_SECRET opens the stored OAuth tokens' }
    : {
        status: 'fail',
        name: 'token key',
        detail: 'APP_SECRET is not the key the stored OAuth tokens were sealed with: serve refuses to start; put back the APP_SECRET they were sealed with',
      };
}

/** Reachable, migrations, token key; and the store the portal checks read, when all three allow it. */
export async function checkDatabase(database: Config['database'], opts: DatabaseCheckOptions): Promise<DatabaseChecks> {
  const read = database.kind === 'postgres' ? await readPostgresVersions(database.url, opts) : readSqliteVersions(database.path);
  if (!read.ok) return { results: [{ status: 'fail', name: 'database', detail: read.problem }], store: null, skipped: 'the database cannot be read' };
  const results: CheckResult[] = [{ status: 'ok', name: 'database', detail: `${read.where} answers` }, checkMigrations(database, read.versions)];
  if (results[1]!.status !== 'ok') return { results, store: null, skipped: 'the schema is not this binary\'s' };
  if (opts.appSecret === undefined) return { results, store: null, skipped: 'APP_SECRET is not valid' };
  const cipher = createTokenCipher(opts.appSecret);
  const store =
    database.kind === 'postgres'
      ? await openPostgresStore(database.url, {
          cipher,
          clock: opts.clock,
          migrate: false,
          poolMax: 4,
          statementTimeoutMs: opts.statementTimeoutMs,
          connectTimeoutSec: Math.max(1, Math.ceil(opts.timeoutMs / 1000)),
        })
      : await openSqliteStore(database.path, { cipher, clock: opts.clock, migrate: false });
  const key = await checkTokenKey(store).catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
  results.push(key);
  if (key.status !== 'ok') {
    await store.close();
    return { results, store: null, skipped: 'APP_SECRET does not open the stored tokens' };
  }
  return { results, store };
}
