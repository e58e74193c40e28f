/**
 * Child process of the cabinet benchmark: the floors to compare against, from the same database file.
 * - `/floor` and `/floor-bytes`: the two floors of floors.ts (the JSON kept ready, joined as strings or
 *   as bytes).
 * - `/`: the same 50 rows mapped field by field (JSON.parse, toISOString, JSON.stringify) without a
 *   session: what the app did before it kept the JSON ready.
 * - `/fragment` renders the first page of the list with the same view components as `/ui/items`, so
 *   the app's fragment is compared with the same rendering minus everything around it.
 *   bun bench/cabinet/bare-server.ts <sqlite file> <portal id> <user id>
 * Prints `{"url": …}` and serves until SIGTERM.
 */
import { Database } from 'bun:sqlite';
import { createFloors } from './floors.ts';
import { encodeCursor } from '../../src/domain/items.ts';
import { createDateFormats } from '../../views/format.ts';
import { translator } from '../../views/i18n.ts';
import { EmptyState, ItemPage } from '../../views/item-list.tsx';
import type { ViewContext } from '../../views/view-model.ts';

const [dbPath, portalId, userId] = process.argv.slice(2);
if (!dbPath || !portalId || !userId) throw new Error('usage: bare-server.ts <sqlite file> <portal id> <user id>');

const db = new Database(dbPath, { readonly: true });
db.exec('PRAGMA busy_timeout = 5000');
const page = db.query<Record<string, any>, [number, number]>(
  'SELECT * FROM items WHERE portal_id = ? AND owner_id = ? ORDER BY created_at DESC, id DESC LIMIT 51',
);
const floors = createFloors(db);

const iso = (s: number | null) => (s === null ? null : new Date(s * 1000).toISOString());

const view: ViewContext = { t: translator('en'), lang: 'en', dates: createDateFormats(() => Date.now()).of('en', null), url: (p) => p };

function fragment(): Response {
  const rows = page.all(Number(portalId), Number(userId)).slice(0, 21);
  const shown = rows.slice(0, 20);
  const items = shown.map((r) => {
    const data = r.data === null ? null : JSON.parse(r.data);
    return {
      id: r.id,
      ownerId: r.owner_id,
      name: r.name,
      notes: typeof data?.notes === 'string' ? data.notes : '',
      status: r.status,
      startsAt: r.starts_at,
      endsAt: r.ends_at,
      calendarEventId: r.calendar_event_id,
      calendarSync: r.calendar_sync,
      updatedAt: r.updated_at,
      version: r.version,
    };
  });
  const last = shown[shown.length - 1];
  const nextCursor = rows.length > 20 && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null;
  const html = (EmptyState({ v: view, searching: false }) as string) + (ItemPage({ items, nextCursor, state: { q: '', status: '' }, v: view }) as string);
  return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } });
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/floor') return floors.strings(request);
    if (path === '/floor-bytes') return floors.bytes(request);
    if (path === '/fragment') return fragment();
    const rows = page.all(Number(portalId), Number(userId));
    const items = rows.slice(0, 50).map((r) => ({
      id: r.id,
      name: r.name,
      data: r.data === null ? null : JSON.parse(r.data),
      status: r.status,
      starts_at: iso(r.starts_at),
      ends_at: iso(r.ends_at),
      calendar_event_id: r.calendar_event_id,
      calendar_sync: r.calendar_sync,
      created_at: iso(r.created_at),
      updated_at: iso(r.updated_at),
      version: r.version,
    }));
    return Response.json({ items, next_cursor: null });
  },
});

console.log(JSON.stringify({ url: `http://127.0.0.1:${server.port}`, pid: process.pid }));
process.on('SIGTERM', () => {
  server.stop(true);
  db.close();
  process.exit(0);
});
