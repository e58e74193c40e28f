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
import { apiDoc } from './openapi.ts';
import { integerQuery, readJsonBody } from './request.ts';
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

const JSON_HEADERS = { 'content-type': 'application/json' };
const utf8 = new TextEncoder();
const LIST_START = utf8.encode('{"items":[');
const COMMA = utf8.encode(',');
const IsoTime = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });
/** `itemJson` as a schema: what the API answers (tests/cabinet/openapi.test.ts checks real answers against it). */
export const ItemSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'Any JSON object the client keeps with the item (up to 16 KB).' }),
    status: Type.Union([Type.Literal('active'), Type.Literal('archived')]),
    starts_at: Type.Union([IsoTime, Type.Null()]),
    ends_at: Type.Union([IsoTime, Type.Null()]),
    calendar_event_id: Type.Union([Type.String(), Type.Null()], { description: "The event in the user's Bitrix24 calendar, once linked." }),
    calendar_sync: Type.Union([Type.Literal('synced'), Type.Literal('pending'), Type.Literal('failed'), Type.Null()], {
      description: "null: not in the calendar; pending: a write is queued; failed: POST /api/items/{id}/calendar retries it.",
    }),
    created_at: IsoTime,
    updated_at: IsoTime,
    version: Type.Integer({ minimum: 1, description: 'Send it back with PUT: a stale one answers 409.' }),
  },
  { $id: 'Item', additionalProperties: false },
);

const EXAMPLE_ITEM = {
  id: '1jd8q3k7m20f3a9c1e5b7d2468',
  name: 'Quarterly report',
  data: { priority: 'high' },
  status: 'active',
  starts_at: '2026-12-01T10:00:00.000Z',
  ends_at: '2026-12-01T11:00:00.000Z',
  calendar_event_id: null,
  calendar_sync: null,
  created_at: '2026-11-20T08:30:00.000Z',
  updated_at: '2026-11-20T08:30:00.000Z',
  version: 1,
};

const ItemPage = Type.Object(
  { items: Type.Array(ItemSchema), next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last.' }) },
  { additionalProperties: false },
);
const ExportSchema = Type.Object({ exported_at: IsoTime, items: Type.Array(ItemSchema) }, { additionalProperties: false });

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
        const page = await items.listJson(actor, {
          status: isStatus(query.status) ? query.status : undefined,
          q: query.q,
          limit: query.limit,
          cursor: query.cursor,
        });
        // The items' JSON as stored with them, joined: the same bytes as encoding `itemJson` of each
        // (tests/store/items.test.ts), without decoding and encoding every field on each request. A
        // page of the stored UTF-8 bytes is sent as it is, never turned into a JavaScript string and
        // back (which cost the list a fifth of its throughput; issue 15).
        const parts: Uint8Array[] = [LIST_START];
        page.items.forEach((i, n) => {
          if (n) parts.push(COMMA);
          parts.push(i instanceof Uint8Array ? i : utf8.encode(typeof i === 'string' ? i : JSON.stringify(itemJson(i))));
        });
        parts.push(utf8.encode(`],"next_cursor":${JSON.stringify(page.nextCursor)}}`));
        return new Response(Buffer.concat(parts), { headers: JSON_HEADERS });
      },
      {
        transform: integerQuery('limit'),
        query: t.Object({
          status: t.Optional(t.Union([t.Literal('active'), t.Literal('archived')], { description: 'Only items in this state.' })),
          q: t.Optional(t.String({ maxLength: 200, description: 'Words the name contains (case-insensitive; ё and е match).' })),
          limit: t.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Page size (default 20).' })),
          cursor: t.Optional(t.String({ maxLength: 200, description: '`next_cursor` of the previous page.' })),
        }),
        detail: apiDoc({
          summary: "The user's items, newest first, a page at a time",
          ok: { 200: { description: 'One page.', schema: ItemPage, example: { items: [EXAMPLE_ITEM], next_cursor: null } } },
          errors: ['invalid'],
          errorExamples: { invalid: { message: 'The request parameters are invalid.', fields: { limit: 'Expected integer to be less or equal to 100' } } },
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
      {
        parse: 'none',
        detail: apiDoc({
          summary: 'Create an item',
          body: {
            schema: CreateBody,
            examples: {
              plain: { summary: 'A name only', value: { name: 'Call the supplier' } },
              dated: { summary: 'With a time and data', value: { name: 'Quarterly report', data: { priority: 'high' }, starts_at: '2026-12-01T13:00:00+03:00', ends_at: '2026-12-01T14:00:00+03:00' } },
            },
          },
          ok: { 201: { description: 'The item as stored.', schema: ItemSchema, example: EXAMPLE_ITEM } },
          errors: ['invalid', 'payload_too_large', 'unsupported_media_type', 'unprocessable'],
          errorExamples: { unprocessable: { message: 'Some fields are invalid.', fields: { ends_at: 'The end must not be before the start.' } } },
        }),
      },
    )
    .get('/api/items/:id', async ({ actor, params }) => itemJson(await items.find(actor, params.id)), {
      detail: apiDoc({
        summary: 'One item',
        ok: { 200: { description: 'The item.', schema: ItemSchema, example: EXAMPLE_ITEM } },
        errors: ['not_found'],
      }),
    })
    .put(
      '/api/items/:id',
      async ({ actor, request, params }) => {
        const body = await readJsonBody(request, UpdateBody);
        return itemJson(await items.update(actor, params.id, body.version, toDraft(body)));
      },
      {
        parse: 'none',
        detail: apiDoc({
          summary: 'Change an item',
          description: 'Fields left out keep their values; `version` must be the one last read (else 409 with what is stored now).',
          body: {
            schema: UpdateBody,
            examples: {
              rename: { summary: 'Rename', value: { name: 'Quarterly report (final)', version: 1 } },
              archive: { summary: 'Archive', value: { status: 'archived', version: 2 } },
            },
          },
          ok: { 200: { description: 'The item as stored now.', schema: ItemSchema, example: { ...EXAMPLE_ITEM, name: 'Quarterly report (final)', version: 2 } } },
          errors: ['invalid', 'not_found', 'conflict', 'payload_too_large', 'unsupported_media_type', 'unprocessable'],
          current: ItemSchema,
          errorExamples: { conflict: { message: 'The item was changed meanwhile.', current: { ...EXAMPLE_ITEM, version: 3 } } },
        }),
      },
    )
    .delete(
      '/api/items/:id',
      async ({ actor, params, set }) => {
        await items.remove(actor, params.id);
        set.status = 204;
        return '';
      },
      {
        detail: apiDoc({
          summary: 'Delete an item',
          description: 'Its calendar event, if any, is deleted from Bitrix24 shortly after.',
          ok: { 204: { description: 'Deleted.' } },
          errors: ['not_found'],
        }),
      },
    )
    .post('/api/items/:id/calendar', async ({ actor, params }) => itemJson(await items.linkCalendar(actor, params.id)), {
      detail: apiDoc({
        summary: "Add the item to the user's Bitrix24 calendar (or retry a failed write)",
        ok: { 200: { description: 'The item, linked to its calendar event.', schema: ItemSchema, example: { ...EXAMPLE_ITEM, calendar_event_id: '1234', calendar_sync: 'synced' } } },
        errors: ['not_found', 'unprocessable', 'payment_required', 'rate_limited', 'upstream', 'unavailable'],
        errorExamples: {
          unprocessable: { message: 'Set a start time to add the item to the calendar.', fields: { starts_at: 'Set a start time to add the item to the calendar.' } },
          rate_limited: { message: 'Bitrix24 is rate limiting this portal; try again shortly' },
        },
      }),
    })
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
    }, {
      detail: apiDoc({
        summary: "All the user's items in one JSON file (streamed)",
        ok: { 200: { description: 'A download (`Content-Disposition: attachment`).', schema: ExportSchema, example: { exported_at: '2026-11-20T09:00:00.000Z', items: [EXAMPLE_ITEM] } } },
        errors: [],
      }),
    });
