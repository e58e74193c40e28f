/**
 * One store test suite, two backends. `forEachBackend` runs a describe block once on SQLite (a new
 * file per database) and once on PostgreSQL (the local server, TEST_DATABASE_URL; each test file gets
 * its own schema `test_<random>`, dropped afterwards, so files run in parallel safely).
 *
 * PostgreSQL must be reachable: when it is not, every PostgreSQL test FAILS with a message that says
 * so (CI starts the server in .ci/run). Nothing is skipped.
 */
import { afterAll, describe } from 'bun:test';
import { SQL } from 'bun';
import { Database } from 'bun:sqlite';
import { createTokenCipher } from '../../src/auth/secrets.ts';
import type { Clock } from '../../src/clock.ts';
import { migrations as sqliteMigrations, postgresMigrations, type Migration } from '../../src/store/migrations/index.ts';
import { migratePostgres, appliedVersions as pgApplied } from '../../src/store/postgres/database.ts';
import { openPostgresStore } from '../../src/store/postgres/open-store.ts';
import { appliedVersions as sqliteApplied, migrateSqlite, openDatabase } from '../../src/store/sqlite/database.ts';
import { openSqliteStore } from '../../src/store/sqlite/open-store.ts';
import type { Store, TokenCipher } from '../../src/store/store.ts';
import { TEST_APP_SECRET } from '../support/config.ts';
import { tempDir } from '../support/temp.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type BackendName = 'sqlite' | 'postgres';

export interface StoreOptions {
  clock?: Clock;
  cipher?: TokenCipher;
  migrate?: boolean;
}

/** One empty database (no tables yet) on a backend, and what tests need to look inside it. */
export interface TestDb {
  /** Applies `list` (the backend's own migrations by default); the ones it applied. */
  migrate(list?: Migration[]): Promise<Migration[]>;
  applied(): Promise<number[]>;
  tables(): Promise<string[]>;
  /** Raw statements without parameters (a test's own rows, or a look inside). */
  exec(text: string): Promise<void>;
  all<T = Record<string, unknown>>(text: string): Promise<T[]>;
  count(table: string, where?: string): Promise<number>;
  /** A Store over this database (another instance: call it twice). Closed with the harness. */
  open(opts?: StoreOptions): Promise<Store>;
}

export interface Backend {
  name: BackendName;
  /** This backend's migrations. */
  migrations: Migration[];
  /** A new, empty database. */
  freshDb(): Promise<TestDb>;
  /** A new database, migrated, with one Store open over it. */
  freshStore(opts?: StoreOptions): Promise<{ store: Store; db: TestDb }>;
}

const defaultCipher = createTokenCipher(TEST_APP_SECRET);

function sqliteBackend(): Backend & { cleanup(): Promise<void> } {
  const dir = tempDir('b24app-store-');
  const open: { close(): Promise<void> | void }[] = [];
  let n = 0;
  const freshDb = async (): Promise<TestDb> => {
    const path = dir.file(`db-${++n}.db`);
    const raw: Database = openDatabase(path);
    open.push({ close: () => raw.close() });
    return {
      migrate: async (list = sqliteMigrations) => migrateSqlite(raw, list),
      applied: async () => sqliteApplied(raw),
      tables: async () =>
        raw.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r) => r.name),
      exec: async (text) => void raw.exec(text),
      all: async <T>(text: string) => raw.query(text).all() as T[],
      count: async (table, where = 'TRUE') => (raw.query(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }).n,
      open: async (opts = {}) => {
        const store = await openSqliteStore(path, { cipher: opts.cipher ?? defaultCipher, clock: opts.clock, migrate: opts.migrate });
        open.push(store);
        return store;
      },
    };
  };
  return {
    name: 'sqlite',
    migrations: sqliteMigrations,
    freshDb,
    freshStore: async (opts = {}) => {
      const db = await freshDb();
      return { db, store: await db.open(opts) };
    },
    cleanup: async () => {
      for (const c of open.reverse()) await c.close();
      dir.cleanup();
    },
  };
}

function postgresBackend(): Backend & { cleanup(): Promise<void> } {
  const schema = `test_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
  let admin: SQL | null = null;
  const pools: { close(): Promise<void> }[] = [];
  const unreachable = (e: unknown) =>
    new Error(
      `PostgreSQL for the store tests is not reachable at ${TEST_DATABASE_URL} (${(e as Error).message}). ` +
        'CI starts it (.ci/run); locally: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    );
  /** Closes every Store and pool of the previous database. */
  const closeAll = async () => {
    for (const p of pools.splice(0).reverse()) await p.close().catch(() => {});
  };
  const freshDb = async (): Promise<TestDb> => {
    await closeAll();
    try {
      admin ??= new SQL(TEST_DATABASE_URL, { max: 1, connectionTimeout: 5 });
      await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    } catch (e) {
      throw unreachable(e);
    }
    const raw = new SQL(TEST_DATABASE_URL, { max: 2, connection: { search_path: schema } });
    pools.push({ close: () => raw.close({ timeout: 1 }) });
    return {
      migrate: (list = postgresMigrations) => migratePostgres(raw, list),
      applied: () => pgApplied(raw),
      tables: async () =>
        ((await raw`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ${schema} ORDER BY table_name`) as {
          name: string;
        }[]).map((r) => r.name),
      exec: async (text) => void (await raw.unsafe(text)),
      all: async <T>(text: string) => [...((await raw.unsafe(text)) as T[])],
      count: async (table, where = 'TRUE') => Number((await raw.unsafe(`SELECT count(*) AS n FROM ${table} WHERE ${where}`))[0].n),
      open: async (opts = {}) => {
        const store = await openPostgresStore(TEST_DATABASE_URL, {
          cipher: opts.cipher ?? defaultCipher,
          clock: opts.clock,
          migrate: opts.migrate,
          schema,
          poolMax: 3,
        });
        pools.push(store);
        return store;
      },
    };
  };
  return {
    name: 'postgres',
    migrations: postgresMigrations,
    freshDb,
    freshStore: async (opts = {}) => {
      const db = await freshDb();
      return { db, store: await db.open(opts) };
    },
    cleanup: async () => {
      await closeAll();
      if (admin) {
        await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
        await admin.close();
      }
    },
  };
}

/** Runs `suite` once per backend, each in its own describe block named after it. */
export function forEachBackend(title: string, suite: (backend: Backend) => void): void {
  for (const make of [sqliteBackend, postgresBackend]) {
    const backend = make();
    describe(`${title} [${backend.name}]`, () => {
      afterAll(() => backend.cleanup());
      suite(backend);
    });
  }
}

/** A portal as a launch or install would record it. */
export const portalInput = (memberId: string, domain = `${memberId}.bitrix24.com`) => ({
  memberId,
  domain,
  clientEndpoint: `https://${domain}/rest/`,
  serverEndpoint: 'https://oauth.bitrix.info/rest/',
  appStatus: 'L',
  scope: 'user,calendar',
});

/** An installed portal with users 7 and 8. */
export async function seedPortal(store: Store, memberId = 'm1') {
  const portal = await store.portals.upsert(portalInput(memberId), 'installed');
  for (const userId of [7, 8]) {
    await store.users.upsert(portal.id, userId, { name: `U${userId}`, isAdmin: userId === 7, lang: 'en', photoUrl: null, timeZone: null });
  }
  return portal;
}

/** A movable clock in unix seconds. */
export function testClock(start = 1_700_000_000) {
  let t = start;
  return { now: () => t, nowMs: () => t * 1000, advance: (s: number) => (t += s), set: (s: number) => (t = s) };
}
