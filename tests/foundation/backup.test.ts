import { afterAll, describe, expect, it } from 'bun:test';
import { Database } from 'bun:sqlite';
import { backupSqlite } from '../../src/cli/store-commands.ts';
import { migrateSqlite, openDatabase } from '../../src/store/sqlite/database.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('backup', () => {
  it('copies a database under concurrent writes from another process, with every committed row', async () => {
    const source = dir.file('live.db');
    const db = openDatabase(source);
    migrateSqlite(db);
    db.exec(
      "INSERT INTO portals (member_id, domain, client_endpoint, server_endpoint, status, created_at, updated_at) VALUES ('m', 'd', 'c', 's', 'installed', 0, 0)",
    );
    // A writer in its own process commits rows one by one and prints each committed id.
    const writer = Bun.spawn(
      [
        process.execPath,
        '-e',
        `import { Database } from 'bun:sqlite';
         const db = new Database(${JSON.stringify(source)});
         db.exec('PRAGMA busy_timeout = 5000');
         const ins = db.query("INSERT INTO items (id, portal_id, owner_id, name, name_fold, status, created_at, updated_at) VALUES (?, 1, 1, 'n', 'n', 'active', 0, 0)");
         for (let i = 0; i < 4000; i++) { ins.run('item-' + String(i).padStart(5, '0')); if (i % 100 === 0) console.log(i); }
         console.log('done');`,
      ],
      { stdout: 'pipe' },
    );
    const reader = writer.stdout.getReader();
    await reader.read(); // the writer is running
    const copies = [dir.file('copy-1.db'), dir.file('copy-2.db'), dir.file('copy-3.db')];
    const countItems = db.query<{ n: number }, []>('SELECT count(*) AS n FROM items');
    // Rows committed before each backup started: every one of them must be in that copy.
    const committedBefore: number[] = [];
    for (const target of copies) {
      committedBefore.push(countItems.get()!.n);
      backupSqlite(source, target);
    }
    expect(await writer.exited).toBe(0);

    let previous = 0;
    for (const [i, target] of copies.entries()) {
      const copy = new Database(target, { readonly: true });
      expect(copy.query<{ r: string }, []>('PRAGMA integrity_check').get()?.r ?? 'ok').toBe('ok');
      const ids = copy.query<{ id: string }, []>('SELECT id FROM items ORDER BY id').all().map((r) => r.id);
      // A consistent snapshot: a gap-free prefix of the writer's sequence, never a torn state.
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => 'item-' + String(i).padStart(5, '0')));
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.length).toBeGreaterThanOrEqual(committedBefore[i]!);
      expect(ids.length).toBeGreaterThanOrEqual(previous);
      previous = ids.length;
      expect(copy.query<{ n: number }, []>('SELECT count(*) AS n FROM portals').get()?.n).toBe(1);
      copy.close();
    }
    db.close();
  });

  it('refuses to overwrite an existing file', () => {
    const source = dir.file('small.db');
    migrateSqlite(openDatabase(source));
    backupSqlite(source, dir.file('once.db'));
    expect(() => backupSqlite(source, dir.file('once.db'))).toThrow('already exists');
  });
});
