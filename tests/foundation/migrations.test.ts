// The migrations themselves (schema, idempotence, failure, 004's re-fold, concurrency) are store-port
// tests that run on both backends: tests/store/migrations.test.ts. What stays here is SQLite's own.
import { afterAll, describe, expect, it } from 'bun:test';
import { openDatabase } from '../../src/store/sqlite/database.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('SQLite database file', () => {
  it('opens with the documented pragmas', () => {
    const db = openDatabase(dir.file('pragmas.db'));
    expect(db.query<{ journal_mode: string }, []>('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
    expect(db.query<{ foreign_keys: number }, []>('PRAGMA foreign_keys').get()?.foreign_keys).toBe(1);
    expect(db.query<{ synchronous: number }, []>('PRAGMA synchronous').get()?.synchronous).toBe(1);
    expect(db.query<{ timeout: number }, []>('PRAGMA busy_timeout').get()?.timeout).toBe(5000);
    db.close();
  });
});
