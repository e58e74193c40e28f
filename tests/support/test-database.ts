/**
 * The app's database in integration tests, on the backend the environment picks:
 *
 * - `TEST_STORE=postgres`, or a `postgres://` `TEST_DATABASE_URL`: a fresh schema `test_stack_<random>`
 *   on that server (default postgres://postgres@127.0.0.1:5432/test, the store suite's), dropped when
 *   the test is done with it. The app reaches it through a DATABASE_URL that carries
 *   `?search_path=<schema>`, so a `serve` child process or a worker opens the same tables.
 * - otherwise (`TEST_STORE=sqlite` or nothing): a fresh SQLite file, as always.
 *
 * Tests that look at rows directly use `sql(text, params)`: `?` placeholders on both backends (turned
 * into `$1, $2, …` for PostgreSQL), and rows as SQLite answers them — BIGINTs as numbers, booleans as
 * 0/1 — so one assertion holds on both. Write SQL both dialects accept (`NOT closed`, not `closed = 0`).
 */
import { SQL } from 'bun';
import { Database } from 'bun:sqlite';
import { createTokenCipher } from '../../src/auth/secrets.ts';
import type { Clock } from '../../src/clock.ts';
import { openPostgresStore } from '../../src/store/postgres/open-store.ts';
import { openSqliteStore } from '../../src/store/sqlite/open-store.ts';
import type { Store, TokenCipher } from '../../src/store/store.ts';
import { TEST_APP_SECRET } from './config.ts';
import { tempDir } from './temp.ts';

export type TestBackend = 'sqlite' | 'postgres';

const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

const isPostgresUrl = (url: string | undefined): url is string => /^postgres(ql)?:\/\//.test(url ?? '');

/**
 * The PostgreSQL server integration tests use: TEST_DATABASE_URL, else a postgres:// DATABASE_URL (the
 * app's own variable, as `DATABASE_URL=postgres://… npm test` reads naturally), else the local server.
 * Tests only ever create and drop schemas of their own (`test_<random>`) there.
 */
export const testPostgresUrl = (): string => {
  if (isPostgresUrl(process.env.TEST_DATABASE_URL)) return process.env.TEST_DATABASE_URL;
  if (isPostgresUrl(process.env.DATABASE_URL)) return process.env.DATABASE_URL;
  return DEFAULT_PG_URL;
};

/** The backend the environment picks for integration tests (see the module comment). */
export function testBackend(): TestBackend {
  const chosen = (process.env.TEST_STORE ?? '').toLowerCase();
  if (chosen === 'postgres' || chosen === 'postgresql' || chosen === 'pg') return 'postgres';
  if (chosen === 'sqlite') return 'sqlite';
  if (chosen) throw new Error(`TEST_STORE must be sqlite or postgres, not ${JSON.stringify(process.env.TEST_STORE)}`);
  return isPostgresUrl(process.env.TEST_DATABASE_URL) || isPostgresUrl(process.env.DATABASE_URL) ? 'postgres' : 'sqlite';
}

export type Row = Record<string, any>;

export interface TestDatabase {
  backend: TestBackend;
  /** The app's DATABASE_URL for this database (sqlite:PATH, or postgres://…?search_path=SCHEMA). */
  url: string;
  /** The SQLite file (SQLite only). */
  path?: string;
  /** A Store over this database (migrated on open). The caller closes it (or the server does). */
  open(opts?: { cipher?: TokenCipher; clock?: Clock; poolMax?: number }): Promise<Store>;
  /** Rows of a statement with `?` placeholders, as plain objects; [] for a statement without rows. */
  sql<T = Row>(text: string, params?: unknown[]): Promise<T[]>;
  /** The first row, or null. */
  one<T = Row>(text: string, params?: unknown[]): Promise<T | null>;
  /** Closes the row reader and removes the database (the schema, or the file when `ownsDir`). */
  drop(): Promise<void>;
}

/** `?` → `$1, $2, …`, leaving quoted strings and identifiers alone. */
export function dollarPlaceholders(text: string): string {
  let n = 0;
  let out = '';
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '?') {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}

/** A PostgreSQL row as SQLite would answer it: BIGINTs (read as bigint) as numbers, booleans as 0/1. */
function sqliteShaped(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? (v ? 1 : 0) : v;
  }
  return out;
}

const defaultCipher = () => createTokenCipher(TEST_APP_SECRET);

/**
 * A fresh, empty database on the chosen backend (or the one named). SQLite: `sqlitePath`, default a file
 * in a new temporary folder that `drop` removes.
 */
export async function freshTestDatabase(opts: { backend?: TestBackend; sqlitePath?: string } = {}): Promise<TestDatabase> {
  const backend = opts.backend ?? testBackend();
  return backend === 'postgres' ? freshPostgres() : freshSqlite(opts.sqlitePath);
}

function freshSqlite(sqlitePath?: string): TestDatabase {
  const dir = sqlitePath ? null : tempDir('b24app-db-');
  const path = sqlitePath ?? dir!.file('app.db');
  // The rows are read on the connection of the Store opened last (the app's own, as tests always did):
  // writes a test makes land in the same connection, with no second writer to wait on.
  // With no Store in this process (the app is a child process), each read opens the file and closes it.
  let storeDb: Database | null = null;
  const sql = async <T>(text: string, params: unknown[] = []) => {
    if (storeDb) return storeDb.query(text).all(...(params as any[])) as T[];
    const db = new Database(path);
    try {
      return db.query(text).all(...(params as any[])) as T[];
    } finally {
      db.close();
    }
  };
  return {
    backend: 'sqlite',
    url: `sqlite:${path}`,
    path,
    async open(o = {}) {
      const store = await openSqliteStore(path, { cipher: o.cipher ?? defaultCipher(), clock: o.clock });
      storeDb = store.db;
      return store;
    },
    sql,
    one: async <T>(text: string, params: unknown[] = []) => ((await sql<T>(text, params))[0] ?? null) as T | null,
    async drop() {
      dir?.cleanup();
    },
  };
}

async function freshPostgres(): Promise<TestDatabase> {
  const base = testPostgresUrl();
  const schema = `test_stack_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
  // Connections are few on a shared server (other suites run beside these): the schema is created and
  // dropped on a connection of its own that is closed at once, the reader has one, the Store a few.
  const admin = async (text: string) => {
    const conn = new SQL(base, { max: 1, connectionTimeout: 5 });
    try {
      await conn.unsafe(text);
    } finally {
      await conn.close().catch(() => {});
    }
  };
  try {
    await admin(`CREATE SCHEMA ${schema}`);
  } catch (e) {
    throw new Error(
      `TEST_STORE=postgres: PostgreSQL is not reachable at ${base} (${(e as Error).message}). ` +
        'Locally: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    );
  }
  const u = new URL(base);
  u.searchParams.set('search_path', schema);
  const url = u.toString();
  // The row reader: its own small pool, int8 read as bigint so that numbers come back as numbers.
  const reader = new SQL({ url: base, max: 1, idleTimeout: 5, bigint: true, connection: { search_path: schema } });
  const sql = async <T>(text: string, params: unknown[] = []) =>
    [...((await reader.unsafe(dollarPlaceholders(text), params)) as Row[])].map(sqliteShaped) as T[];
  return {
    backend: 'postgres',
    url,
    open: (o = {}) => openPostgresStore(base, { cipher: o.cipher ?? defaultCipher(), clock: o.clock, schema, poolMax: o.poolMax ?? 3 }),
    sql,
    one: async <T>(text: string, params: unknown[] = []) => ((await sql<T>(text, params))[0] ?? null) as T | null,
    async drop() {
      await reader.close({ timeout: 1 }).catch(() => {});
      await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    },
  };
}
