import { afterAll, describe, expect, it } from 'bun:test';
import { appliedVersions, migrateSqlite, openDatabase } from '../../src/store/sqlite/database.ts';
import { migrations } from '../../src/store/migrations/index.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

const tables = (db: ReturnType<typeof openDatabase>) =>
  db
    .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => r.name);

describe('migrations', () => {
  it('creates the schema of architecture §5 on a fresh database', () => {
    const db = openDatabase(dir.file('fresh.db'));
    const applied = migrateSqlite(db);
    expect(applied.map((m) => m.version)).toEqual(migrations.map((m) => m.version));
    expect(tables(db)).toEqual(['calendar_jobs', 'items', 'oauth_states', 'offline_event_batches', 'portal_tokens', 'portals', 'removed_portals', 'schema_migrations', 'sessions', 'users']);
    db.close();
  });

  it('is a no-op when run again', () => {
    const db = openDatabase(dir.file('fresh.db'));
    const before = db.query('SELECT * FROM schema_migrations').all();
    expect(migrateSqlite(db)).toEqual([]);
    expect(db.query('SELECT * FROM schema_migrations').all()).toEqual(before);
    db.close();
  });

  it('leaves the database unchanged when a migration fails halfway', () => {
    const db = openDatabase(dir.file('failing.db'));
    migrateSqlite(db);
    const broken = {
      version: 999,
      name: '999_broken',
      sql: "CREATE TABLE extra (id INTEGER PRIMARY KEY) STRICT; INSERT INTO portals (member_id) VALUES ('x');",
    };
    expect(() => migrateSqlite(db, [...migrations, broken])).toThrow('migration 999_broken failed');
    expect(tables(db)).not.toContain('extra');
    expect(appliedVersions(db)).toEqual(migrations.map((m) => m.version));
    db.close();
  });

  it('004 re-folds names stored before it, so search for «отчет» finds «Отчёт»', async () => {
    const { foldForSearch } = await import('../../src/domain/items.ts');
    const db = openDatabase(dir.file('fold.db'));
    migrateSqlite(db, migrations.filter((m) => m.version < 4));
    db.run("INSERT INTO portals (id, member_id, domain, client_endpoint, server_endpoint, app_status, scope, status, created_at, updated_at) VALUES (1, 'm', 'd', 'c', 's', 'P', '', 'installed', 0, 0)");
    const names = ['Отчёт за ЁЛКИ', 'Отче\u0308т decomposed', 'plain Latin', 'Ещё'];
    const insert = db.query("INSERT INTO items (id, portal_id, owner_id, name, name_fold, status, created_at, updated_at) VALUES (?, 1, 1, ?, ?, 'active', 0, 0)");
    names.forEach((name, i) => insert.run(`id${i}`, name, name.toLowerCase()));
    migrateSqlite(db);
    const folds = db.query<{ name: string; name_fold: string }, []>('SELECT name, name_fold FROM items ORDER BY id').all();
    expect(folds.map((r) => r.name_fold)).toEqual(names.map(foldForSearch));
    expect(folds.map((r) => r.name_fold)).toEqual(['отчет за елки', 'отчет decomposed', 'plain latin', 'еще']);
    db.close();
  });

  it('opens with the documented pragmas', () => {
    const db = openDatabase(dir.file('pragmas.db'));
    expect(db.query<{ journal_mode: string }, []>('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
    expect(db.query<{ foreign_keys: number }, []>('PRAGMA foreign_keys').get()?.foreign_keys).toBe(1);
    expect(db.query<{ synchronous: number }, []>('PRAGMA synchronous').get()?.synchronous).toBe(1);
    expect(db.query<{ timeout: number }, []>('PRAGMA busy_timeout').get()?.timeout).toBe(5000);
    db.close();
  });
});

describe('portal repository', () => {
  it('moves a renamed portal to its new endpoint and domain, keeping its identity', async () => {
    const { openSqliteStore } = await import('../../src/store/sqlite/open-store.ts');
    const { createTokenCipher } = await import('../../src/auth/secrets.ts');
    const store = await openSqliteStore(dir.file('moved.db'), { cipher: createTokenCipher('k'.repeat(32)) });
    const p = await store.portals.upsert(
      { memberId: 'm1', domain: 'old.bitrix24.com', clientEndpoint: 'https://old.bitrix24.com/rest/', serverEndpoint: 'https://oauth.bitrix.info/rest/', appStatus: 'P', scope: '' },
      'installed',
    );
    await store.portals.moveEndpoint('https://old.bitrix24.com/rest/', 'https://new.bitrix24.com/rest/', 'new.bitrix24.com');
    const moved = (await store.portals.findById(p.id))!;
    expect([moved.memberId, moved.domain, moved.clientEndpoint]).toEqual(['m1', 'new.bitrix24.com', 'https://new.bitrix24.com/rest/']);
    await store.close();
  });
});
