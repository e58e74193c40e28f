/**
 * Child process of the cabinet benchmark: the floor to compare against. A bare `Bun.serve` and a
 * prepared `bun:sqlite` statement return the same 50 rows as `GET /api/items?limit=50`, in the same
 * JSON shape, from the same database file — no framework, no session, no access log.
 *   bun bench/cabinet/bare-server.ts <sqlite file> <portal id> <user id>
 * Prints `{"url": …}` and serves until SIGTERM.
 */
import { Database } from 'bun:sqlite';

const [dbPath, portalId, userId] = process.argv.slice(2);
if (!dbPath || !portalId || !userId) throw new Error('usage: bare-server.ts <sqlite file> <portal id> <user id>');

const db = new Database(dbPath, { readonly: true });
db.exec('PRAGMA busy_timeout = 5000');
const page = db.query<Record<string, any>, [number, number]>(
  'SELECT * FROM items WHERE portal_id = ? AND owner_id = ? ORDER BY created_at DESC, id DESC LIMIT 51',
);
const iso = (s: number | null) => (s === null ? null : new Date(s * 1000).toISOString());

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch() {
    const rows = page.all(Number(portalId), Number(userId));
    const items = rows.slice(0, 50).map((r) => ({
      id: r.id,
      name: r.name,
      data: r.data === null ? null : JSON.parse(r.data),
      status: r.status,
      starts_at: iso(r.starts_at),
      ends_at: iso(r.ends_at),
      calendar_event_id: r.calendar_event_id,
      created_at: iso(r.created_at),
      updated_at: iso(r.updated_at),
      version: r.version,
    }));
    return Response.json({ items, next_cursor: null });
  },
});

console.log(JSON.stringify({ url: `http://127.0.0.1:${server.port}` }));
process.on('SIGTERM', () => {
  server.stop(true);
  db.close();
  process.exit(0);
});
