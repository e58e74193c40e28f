/**
 * Opens the SQLite file the way the whole app uses it. One place for the pragmas, each with its reason.
 */
import { Database } from 'bun:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export function openDatabase(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  try {
    // First, so that every later statement (even the pragmas below) waits for a lock held by
    // another process (a backup, a second instance, `b24app migrate`) instead of failing at once.
    db.exec('PRAGMA busy_timeout = 5000');
    // Write-ahead log: readers never block the writer and vice versa; an online backup can run
    // while the server writes. Also the first real read of the file: a non-database fails here.
    db.exec('PRAGMA journal_mode = WAL');
    // SQLite leaves foreign keys off by default; our cascades (portal -> its rows) rely on them.
    db.exec('PRAGMA foreign_keys = ON');
    // With WAL, NORMAL is durable against application crashes and only risks the last
    // transactions on power loss, at a fraction of FULL's fsync cost.
    db.exec('PRAGMA synchronous = NORMAL');
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}
