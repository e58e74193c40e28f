/**
 * The floors the list is compared with (issue 15), on a database file the app wrote: the least work
 * that answers `GET /api/items?limit=50` on this stack — hash the bearer token, find its live session
 * row, join the 50 rows' API JSON the app keeps ready in `items.api_json`. No framework, no access log,
 * no sliding expiry.
 * - `strings`: the JSON read as strings and joined (the issue's floor, the goal's baseline);
 * - `bytes`: the JSON read as bytes and joined as one buffer, as the app does: faster on this stack.
 * Used by bare-server.ts (a process of its own) and same-process.ts (beside the app).
 */
import type { Database } from 'bun:sqlite';

const HEADERS = { 'content-type': 'application/json' };
const LIST_START = Buffer.from('{"items":[');
const COMMA = Buffer.from(',');
const LIST_END = Buffer.from('],"next_cursor":null}');
const PAGE = 'FROM items WHERE portal_id = ? AND owner_id = ? ORDER BY created_at DESC, id DESC LIMIT 51';

export function createFloors(db: Database): { strings(request: Request): Response; bytes(request: Request): Response } {
  const session = db.query<{ portal_id: number; user_id: number }, [string, number]>(
    'SELECT portal_id, user_id FROM sessions WHERE id_hash = ? AND expires_at > ? AND closed = 0',
  );
  const readyJson = db.query<{ api_json: string }, [number, number]>(`SELECT api_json ${PAGE}`);
  const readyBytes = db.query<[Uint8Array], [number, number]>(`SELECT CAST(api_json AS BLOB) ${PAGE}`);
  const sessionOf = (request: Request) => {
    const token = (request.headers.get('authorization') ?? '').slice('Bearer '.length);
    return session.get(new Bun.CryptoHasher('sha256').update(token).digest('hex'), Math.floor(Date.now() / 1000));
  };
  const unauthorized = () => new Response('{"error":"unauthorized"}', { status: 401, headers: HEADERS });
  return {
    strings(request) {
      const s = sessionOf(request);
      if (!s) return unauthorized();
      const rows = readyJson.all(s.portal_id, s.user_id);
      let body = '{"items":[';
      for (let i = 0; i < rows.length && i < 50; i++) body += (i ? ',' : '') + rows[i]!.api_json;
      return new Response(`${body}],"next_cursor":null}`, { headers: HEADERS });
    },
    bytes(request) {
      const s = sessionOf(request);
      if (!s) return unauthorized();
      const rows = readyBytes.values(s.portal_id, s.user_id) as [Uint8Array][];
      const parts: Uint8Array[] = [LIST_START];
      for (let i = 0; i < rows.length && i < 50; i++) {
        if (i) parts.push(COMMA);
        parts.push(rows[i]![0]);
      }
      parts.push(LIST_END);
      return new Response(Buffer.concat(parts), { headers: HEADERS });
    },
  };
}
