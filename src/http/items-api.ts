/**
 * The JSON API for the cabinet (docs/architecture.md, contract). Authenticated by the app session;
 * every operation acts as (portal, user) of that session only. A 409 carries the stored item in
 * this API's shape (errors.ts renders it with `itemJson`).
 */
import { Type } from '@sinclair/typebox';
import { Elysia, t } from 'elysia';
import type { Sessions } from '../auth/sessions.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../domain/errors.ts';
import type { ItemService } from '../domain/item-service.ts';
import { isStatus, parseInstant, toIso, type ItemDraft } from '../domain/items.ts';
import type { Item } from '../domain/types.ts';
import type { RequestMeta } from './edge.ts';
import { readJsonBody } from './request.ts';
import { sessionGuard } from './session.ts';

/** The JSON API's view of an item: snake_case, ISO 8601 times, no internal keys. */
export const itemJson = (i: Item) => ({
  id: i.id,
  name: i.name,
  data: i.data,
  status: i.status,
  starts_at: toIso(i.startsAt),
  ends_at: toIso(i.endsAt),
  calendar_event_id: i.calendarEventId,
  /** null (not in the calendar), 'synced', 'pending' (a write is queued), 'failed' (POST …/calendar retries). */
  calendar_sync: i.calendarSync,
  created_at: toIso(i.createdAt),
  updated_at: toIso(i.updatedAt),
  version: i.version,
});

const Instant = t.Union([t.String({ maxLength: 40 }), t.Null()]);
const ItemFields = {
  name: t.String({ maxLength: 2000 }),
  data: t.Optional(t.Union([t.Record(t.String(), t.Unknown()), t.Null()])),
  status: t.Optional(t.Union([t.Literal('active'), t.Literal('archived')])),
  starts_at: t.Optional(Instant),
  ends_at: t.Optional(Instant),
};
const CreateBody = t.Object(ItemFields, { additionalProperties: false });
const UpdateBody = t.Object(
  // TypeBox's own Integer: Elysia's `t.Integer` also admits numeric strings (it is made for query strings).
  { ...ItemFields, name: t.Optional(ItemFields.name), version: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

/** ISO strings -> unix seconds, with a 422 that names the field when one is not a date. */
function toDraft(body: { name?: string; data?: unknown; status?: string; starts_at?: string | null; ends_at?: string | null }): Partial<ItemDraft> {
  const fields: Record<string, string> = {};
  const instant = (key: 'starts_at' | 'ends_at') => {
    if (!(key in body)) return undefined;
    const v = parseInstant(body[key]);
    if (v === undefined) fields[key] = 'Use an ISO 8601 date and time with a time zone (Z or an offset), e.g. 2026-12-01T10:00:00Z or 2026-12-01T13:00:00+03:00.';
    return v ?? null;
  };
  const draft: Partial<ItemDraft> = { name: body.name, data: body.data, status: body.status, startsAt: instant('starts_at'), endsAt: instant('ends_at') };
  if (Object.keys(fields).length) throw new AppError('unprocessable', 'Some fields are invalid.', { fields });
  return draft;
}

export const itemsApiRoutes = (items: ItemService, sessions: Sessions, appOrigin: string, clock: Clock, meta?: RequestMeta) =>
  new Elysia({ name: 'items-api' })
    .use(sessionGuard(sessions, appOrigin, meta))
    .get(
      '/api/items',
      async ({ actor, query }) => {
        const page = await items.list(actor, {
          status: isStatus(query.status) ? query.status : undefined,
          q: query.q,
          limit: query.limit,
          cursor: query.cursor,
        });
        return { items: page.items.map(itemJson), next_cursor: page.nextCursor };
      },
      {
        query: t.Object({
          status: t.Optional(t.Union([t.Literal('active'), t.Literal('archived')])),
          q: t.Optional(t.String({ maxLength: 200 })),
          limit: t.Optional(t.Integer({ minimum: 1, maximum: 100 })),
          cursor: t.Optional(t.String({ maxLength: 200 })),
        }),
      },
    )
    .post(
      '/api/items',
      async ({ actor, request, set }) => {
        const body = await readJsonBody(request, CreateBody);
        set.status = 201;
        return itemJson(await items.create(actor, { ...toDraft(body), name: body.name }));
      },
      { parse: 'none' },
    )
    .get('/api/items/:id', async ({ actor, params }) => itemJson(await items.find(actor, params.id)))
    .put(
      '/api/items/:id',
      async ({ actor, request, params }) => {
        const body = await readJsonBody(request, UpdateBody);
        return itemJson(await items.update(actor, params.id, body.version, toDraft(body)));
      },
      { parse: 'none' },
    )
    .delete('/api/items/:id', async ({ actor, params, set }) => {
      await items.remove(actor, params.id);
      set.status = 204;
      return '';
    })
    .post('/api/items/:id/calendar', async ({ actor, params }) => itemJson(await items.linkCalendar(actor, params.id)))
    .get('/api/export', ({ actor }) => {
      // Streamed a page at a time: a large export never sits whole in memory.
      const pages = items.exportAll(actor);
      const encoder = new TextEncoder();
      let first = true;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(`{\n  "exported_at": ${JSON.stringify(toIso(clock.now()))},\n  "items": [`));
        },
        async pull(controller) {
          const next = await pages.next();
          if (next.done) {
            controller.enqueue(encoder.encode(first ? ']\n}\n' : '\n  ]\n}\n'));
            controller.close();
            return;
          }
          const json = JSON.stringify(itemJson(next.value), null, 2).replace(/\n/g, '\n    ');
          controller.enqueue(encoder.encode(`${first ? '' : ','}\n    ${json}`));
          first = false;
        },
      });
      return new Response(body, {
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-disposition': 'attachment; filename="items.json"',
          'cache-control': 'no-store',
        },
      });
    });
