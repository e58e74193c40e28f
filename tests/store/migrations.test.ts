import { expect, it } from 'bun:test';
import { foldForSearch } from '../../src/domain/items.ts';
import { latestVersion } from '../../src/store/migrations/index.ts';
import { forEachBackend, portalInput } from './backends.ts';

/** Every version this binary knows, and one it does not. */
const ALL = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const FUTURE = ALL.length + 1;

const SCHEMA = ['calendar_jobs', 'items', 'job_locks', 'leaky_buckets', 'oauth_states', 'offline_event_batches', 'portal_tokens', 'portals', 'removed_portals', 'schema_migrations', 'sessions', 'users'];

forEachBackend('migrations', (backend) => {
  it('numbers the same versions on both backends (001-009)', () => {
    expect(backend.migrations.map((m) => [m.version, m.name])).toEqual([
      [1, '001_initial'],
      [2, '002_refresh_lease'],
      [3, '003_lifecycle'],
      [4, '004_search_fold_yo'],
      [5, '005_calendar_queue'],
      [6, '006_instances'],
      [7, '007_install_health'],
      [8, '008_item_api_json'],
      [9, '009_token_refusal'],
    ]);
  });

  it('creates the schema of architecture §5 on a fresh database, each version recorded', async () => {
    const db = await backend.freshDb();
    const applied = await db.migrate();
    expect(applied.map((m) => m.version)).toEqual(ALL);
    expect(await db.tables()).toEqual(SCHEMA);
    expect(await db.applied()).toEqual(ALL);
    const rows = await db.all<{ version: number; name: string; applied_at: number }>('SELECT version, name, applied_at FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => [Number(r.version), r.name])).toEqual(backend.migrations.map((m) => [m.version, m.name]));
    for (const r of rows) expect(Math.abs(Number(r.applied_at) - Date.now() / 1000)).toBeLessThan(3600);
  });

  it('is a no-op when run again: nothing applied, the records unchanged', async () => {
    const db = await backend.freshDb();
    await db.migrate();
    const before = await db.all('SELECT * FROM schema_migrations ORDER BY version');
    expect(await db.migrate()).toEqual([]);
    expect(await db.all('SELECT * FROM schema_migrations ORDER BY version')).toEqual(before);
  });

  it('leaves the database unchanged when a migration fails halfway', async () => {
    const db = await backend.freshDb();
    await db.migrate();
    const broken = { version: 999, name: '999_broken', sql: "CREATE TABLE extra (id INTEGER PRIMARY KEY); INSERT INTO portals (member_id) VALUES ('x');" };
    await expect(db.migrate([...backend.migrations, broken])).rejects.toThrow('migration 999_broken failed');
    expect(await db.tables()).not.toContain('extra');
    expect(await db.applied()).toEqual(ALL);
  });

  it('applies only what is missing, in order, on a database at an older version', async () => {
    const db = await backend.freshDb();
    expect((await db.migrate(backend.migrations.filter((m) => m.version <= 2))).map((m) => m.version)).toEqual([1, 2]);
    expect((await db.migrate()).map((m) => m.version)).toEqual(ALL.slice(2));
  });

  it('serialises two instances migrating at once: every version applied exactly once', async () => {
    const db = await backend.freshDb();
    const [a, b] = await Promise.all([db.open(), db.open()]);
    expect(await db.applied()).toEqual(ALL);
    expect((await a.readiness()).ok).toBe(true);
    expect((await b.readiness()).ok).toBe(true);
  });

  it('004 re-folds names stored before it, so search for «отчет» finds «Отчёт»', async () => {
    const db = await backend.freshDb();
    await db.migrate(backend.migrations.filter((m) => m.version < 4));
    await db.exec("INSERT INTO portals (id, member_id, domain, client_endpoint, server_endpoint, app_status, scope, status, created_at, updated_at) VALUES (1, 'm', 'd', 'c', 's', 'P', '', 'installed', 0, 0)");
    const names = ['Отчёт за ЁЛКИ', 'Отче\u0308т decomposed', 'plain Latin', 'Ещё'];
    const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;
    for (const [i, name] of names.entries()) {
      await db.exec(`INSERT INTO items (id, portal_id, owner_id, name, name_fold, status, created_at, updated_at) VALUES ('id${i}', 1, 1, ${quote(name)}, ${quote(name.toLowerCase())}, 'active', 0, 0)`);
    }
    await db.migrate();
    const folds = await db.all<{ name_fold: string }>('SELECT name_fold FROM items ORDER BY id');
    expect(folds.map((r) => r.name_fold)).toEqual(names.map(foldForSearch));
    expect(folds.map((r) => r.name_fold)).toEqual(['отчет за елки', 'отчет decomposed', 'plain latin', 'еще']);
  });

  it('005 marks items linked before it as in step', async () => {
    const db = await backend.freshDb();
    await db.migrate(backend.migrations.filter((m) => m.version < 5));
    await db.exec("INSERT INTO portals (id, member_id, domain, client_endpoint, server_endpoint, app_status, scope, status, created_at, updated_at) VALUES (1, 'm', 'd', 'c', 's', 'P', '', 'installed', 0, 0)");
    await db.exec("INSERT INTO items (id, portal_id, owner_id, name, name_fold, status, calendar_event_id, created_at, updated_at) VALUES ('a', 1, 1, 'A', 'a', 'active', '42', 0, 0), ('b', 1, 1, 'B', 'b', 'active', NULL, 0, 0)");
    await db.migrate();
    expect(await db.all('SELECT id, calendar_sync FROM items ORDER BY id')).toEqual([
      { id: 'a', calendar_sync: 'synced' },
      { id: 'b', calendar_sync: null },
    ]);
  });

  it('opening the store migrates, and readiness reports the schema version', async () => {
    const { store } = await backend.freshStore();
    expect(await store.readiness()).toEqual({ ok: true, detail: `schema ${latestVersion()}` });
  });

  it('readiness is false on a database behind the binary (opened without migrating)', async () => {
    const db = await backend.freshDb();
    await db.migrate();
    await db.exec(`DELETE FROM schema_migrations WHERE version = ${latestVersion()}`);
    const store = await db.open({ migrate: false });
    expect(await store.readiness()).toEqual({ ok: false, detail: `schema ${latestVersion() - 1} < ${latestVersion()}` });
  });

  it('refuses to open a database whose schema is newer than the binary, and changes nothing', async () => {
    const db = await backend.freshDb();
    await db.migrate();
    await db.exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${FUTURE}, 'from_the_future', 0)`);
    await expect(db.open()).rejects.toThrow(`schema is version ${FUTURE}, newer than this binary knows (${ALL.length})`);
    await expect(db.open({ migrate: false })).rejects.toThrow('newer than this binary');
    expect(await db.applied()).toEqual([...ALL, FUTURE]);
  });

  it('a store opened on a migrated database works (a portal round-trips)', async () => {
    const { store } = await backend.freshStore();
    const p = await store.portals.upsert(portalInput('m1'), 'installed');
    expect((await store.portals.findById(p.id))?.memberId).toBe('m1');
  });
});
