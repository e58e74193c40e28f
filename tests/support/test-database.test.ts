/**
 * The integration tests' database helper on the backend the environment picks (TEST_STORE): the
 * backend really is that one, and `sql` answers the same plain rows on both.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { dollarPlaceholders, freshTestDatabase, testBackend, type TestDatabase } from './test-database.ts';

describe(`test database [${testBackend()}]`, () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it('is the backend TEST_STORE names, and its DATABASE_URL says so', async () => {
    const db = await freshTestDatabase();
    dbs.push(db);
    const chosen = process.env.TEST_STORE;
    const want = chosen ? (/^postgres|^pg$/i.test(chosen) ? 'postgres' : 'sqlite') : /^postgres/.test(process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || '') ? 'postgres' : 'sqlite';
    expect(db.backend).toBe(want);
    expect(db.url.startsWith(want === 'postgres' ? 'postgres://' : 'sqlite:')).toBe(true);
    if (want === 'postgres') expect(db.url).toContain('search_path=test_stack_');
  });

  it('answers rows as SQLite does on both: numbers, 0/1 booleans, ? placeholders', async () => {
    const db = await freshTestDatabase();
    dbs.push(db);
    const store = await db.open();
    try {
      const portal = await store.portals.upsert(
        { memberId: 'm-rows', domain: 'rows.example', clientEndpoint: 'https://rows.example/rest/', serverEndpoint: 'https://oauth.bitrix.info/rest/', appStatus: 'L', scope: '' },
        'installed',
      );
      await store.users.upsert(portal.id, 7, { name: 'U7', isAdmin: true, lang: 'en', photoUrl: null, timeZone: null });
      expect(await db.one('SELECT id, member_id FROM portals WHERE member_id = ?', ['m-rows'])).toEqual({ id: portal.id, member_id: 'm-rows' });
      expect(await db.one('SELECT is_admin, user_id FROM users WHERE portal_id = ? AND name = ?', [portal.id, 'U7'])).toEqual({ is_admin: 1, user_id: 7 });
      expect(await db.one("SELECT count(*) AS n FROM portals WHERE member_id <> 'a?b'")).toEqual({ n: 1 });
      expect(await db.sql('DELETE FROM users WHERE portal_id = ?', [portal.id])).toEqual([]);
      expect(await db.one('SELECT count(*) AS n FROM users')).toEqual({ n: 0 });
    } finally {
      await store.close();
    }
  });

  it('turns ? into $n outside quotes only', () => {
    expect(dollarPlaceholders(`SELECT '?' AS "a?", x FROM t WHERE a = ? AND b = ?`)).toBe(`SELECT '?' AS "a?", x FROM t WHERE a = $1 AND b = $2`);
  });
});
