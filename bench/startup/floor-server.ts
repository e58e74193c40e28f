/**
 * The startup benchmark's floor: the least a server on this stack does before it can answer
 * `/health` — Bun.serve, bun:sqlite opening (and, the first time, creating) a database file — built
 * into a single binary the same way as the app (`bun build --compile --minify --bytecode`).
 */
import { Database } from 'bun:sqlite';

const path = (process.env.DATABASE_URL ?? '').replace(/^sqlite:/, '');
const db = new Database(path, { create: true });
db.exec('PRAGMA journal_mode = WAL');
db.exec('CREATE TABLE IF NOT EXISTS health (ok INTEGER NOT NULL) STRICT');
const ok = db.query('SELECT 1 AS ok');
Bun.serve({
  hostname: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT),
  development: false,
  fetch: (request) =>
    new URL(request.url).pathname === '/health' && ok.get() ? Response.json({ status: 'ok' }) : new Response('not found', { status: 404 }),
});
