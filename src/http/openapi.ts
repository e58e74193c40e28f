/**
 * GET /openapi.json (contract): OpenAPI 3.1 for the JSON API, built from the route table itself.
 *
 * Each `/api/*` route states its own description next to its handler, in Elysia's `detail` hook
 * (`apiDoc` below): the request body is the very TypeBox schema its handler reads with
 * `readJsonBody`, and query and path parameters are the route's Elysia hooks. This file walks
 * `router.routes`, turns `:id` into `{id}`, lifts schemas that carry an `$id` into components, and
 * adds what every route shares: the error shape of errors.ts and the bearer scheme of
 * `POST /api/session`. A route without a description still appears (with its parameters), and the
 * tests fail on it (tests/cabinet/openapi.test.ts).
 *
 * Public and cacheable; nothing in it depends on the environment but the server URL (PUBLIC_URL).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { Elysia, type DocumentDecoration } from 'elysia';
import pkg from '../../package.json' with { type: 'json' };
import { statusOf, type ErrorCode } from '../domain/errors.ts';

/** Codes in `error.code`: the AppError codes, and the 405 the error handler answers itself. */
const ERROR_CODES = [...(Object.keys(statusOf) as ErrorCode[]), 'method_not_allowed'] as const;

/** The body of every error answer (src/http/errors.ts). */
export const errorSchema = (current: TSchema = Type.Unknown()) =>
  Type.Object(
    {
      error: Type.Object(
        {
          code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
          /** English, safe to show. */
          message: Type.String(),
          fields: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Per-field messages (400, 422), by field name.' })),
          current: Type.Optional(current),
          request_id: Type.Optional(Type.String({ description: 'Only on 500: quote it to the operator, it is in the access log.' })),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  );

type ErrorExample = { message: string; fields?: Record<string, string>; current?: unknown; request_id?: string };

/** A typical answer for each code (the messages the app sends; routes may give their own). */
const ERROR_EXAMPLES: Record<ErrorCode, ErrorExample> = {
  invalid: { message: 'The body is not valid JSON.' },
  unauthorized: { message: 'Your session has expired. Reopen the app from Bitrix24.' },
  not_installed: { message: 'The app is not installed on this portal. An administrator can install it again from Bitrix24.' },
  forbidden: { message: 'Cross-site request refused.' },
  not_found: { message: 'Nothing here.' },
  conflict: { message: 'The item was changed meanwhile.' },
  payload_too_large: { message: 'The body is larger than 64 KB.' },
  unsupported_media_type: { message: 'Send the body as application/json.' },
  unprocessable: { message: 'Some fields are invalid.', fields: { name: 'Enter a name.' } },
  rate_limited: { message: 'Too many failed attempts to open the app. Wait a minute and open it from Bitrix24 again.' },
  payment_required: { message: "The app's subscription on this portal has expired; a portal administrator can renew it." },
  upstream: { message: 'Bitrix24 call calendar.event.add failed (ERROR_CORE).' },
  unavailable: { message: 'Bitrix24 is not answering right now. Try again in a moment.' },
  internal: { message: 'Something went wrong. Please try again.', request_id: '6f1c2a9e-3b1d-4c55-9a57-0c1e2f3a4b5c' },
};

/** What each status means to an API client (the codes it carries are listed after it). */
const STATUS_TEXT: Record<number, string> = {
  400: 'The request could not be read (malformed JSON, invalid query parameters).',
  401: 'No valid session: get one from `POST /api/session` (`not_installed`: the app was removed from the portal; a new session will not help).',
  402: "The app's subscription on the portal has expired.",
  403: 'A cookie-authenticated unsafe request from another site (send the bearer token instead).',
  404: 'No such item for this user (another user\'s item is not found either), or not an administrator.',
  409: 'The item was changed since `version`: `current` holds what is stored now.',
  413: 'The body is larger than 64 KB.',
  415: 'The body is not `application/json`.',
  422: 'The body is well-formed JSON but some fields are invalid: `fields` says which and why.',
  429: 'Too many failed attempts from this client, or Bitrix24 is limiting the portal: wait and retry.',
  500: 'A bug: the answer carries a `request_id` to quote.',
  502: 'Bitrix24 answered with an error.',
  503: 'Bitrix24 did not answer (`Retry-After` says when to try again).',
};

type Example = { summary?: string; value: unknown };

export interface ApiDoc {
  summary: string;
  description?: string;
  /** Answered without a session (POST /api/session); every other route needs the bearer token. */
  public?: boolean;
  /** The JSON body the handler reads: the same schema object it passes to readJsonBody. */
  body?: { schema: TSchema; examples: Record<string, Example> };
  /** Success answers by status; no schema: an empty body (204). */
  ok: Record<number, { description: string; schema?: TSchema; example?: unknown; contentType?: string }>;
  /** The error codes this route answers with (401 and 500 are added for routes behind a session). */
  errors: ErrorCode[];
  /** A route's own example for a code (e.g. the 409 with its `current` item). */
  errorExamples?: Partial<Record<ErrorCode, ErrorExample>>;
  /** The schema of `current` in this route's errors (409). */
  current?: TSchema;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** One error status of a route: the shared Error schema (or one with this route's `current`), an example per code. */
function errorResponse(status: number, codes: ErrorCode[], doc?: Pick<ApiDoc, 'errorExamples' | 'current'>): unknown {
  const examples = Object.fromEntries(
    codes.map((code) => [code, { summary: code, value: { error: { code, ...(doc?.errorExamples?.[code] ?? ERROR_EXAMPLES[code]) } } }]),
  );
  return {
    description: `${STATUS_TEXT[status] ?? ''} Codes: ${codes.map((c) => `\`${c}\``).join(', ')}.`.trim(),
    ...(status === 503 ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait.' } } } : {}),
    content: { 'application/json': { schema: doc?.current ? errorSchema(doc.current) : { $ref: '#/components/schemas/Error' }, examples } },
  };
}

/**
 * The `detail` of an API route: a complete OpenAPI operation (minus the parameters, which come from
 * the route's query and params hooks). The TypeBox schemas stay objects here; the document
 * serializes them.
 */
export function apiDoc(doc: ApiDoc): DocumentDecoration {
  const codes = new Set<ErrorCode>(doc.errors);
  if (!doc.public) codes.add('unauthorized').add('not_installed');
  codes.add('internal');
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(statusOf[code], [...(byStatus.get(statusOf[code]) ?? []), code]);

  const responses: Record<string, unknown> = {};
  for (const [status, ok] of Object.entries(doc.ok)) {
    const type = ok.contentType ?? 'application/json';
    responses[status] = ok.schema
      ? { description: ok.description, content: { [type]: { schema: ok.schema, ...(ok.example === undefined ? {} : { example: ok.example }) } } }
      : { description: ok.description };
  }
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) responses[status] = errorResponse(status, list, doc);
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    ...(doc.public ? { security: [] } : {}),
    ...(doc.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: doc.body.schema, examples: doc.body.examples } } } }
      : {}),
    responses,
  } as DocumentDecoration;
}

interface RouteLike {
  method: string;
  path: string;
  hooks?: { query?: unknown; params?: unknown; detail?: DocumentDecoration } & Record<string, unknown>;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * A TypeBox schema (or anything holding some) as plain JSON: symbols and undefined dropped, and every
 * subschema with an `$id` moved into `components` and referenced (named by its `$id`).
 */
function toJson(value: unknown, components: Record<string, Json>): Json {
  if (Array.isArray(value)) return value.map((v) => toJson(v, components));
  if (value === null || typeof value !== 'object') return value as Json;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined && typeof v !== 'function') out[k] = toJson(v, components);
  const id = out.$id;
  if (typeof id === 'string' && /^[A-Za-z][A-Za-z0-9]*$/.test(id)) {
    delete out.$id;
    components[id] ??= out;
    return { $ref: `#/components/schemas/${id}` };
  }
  return out;
}

/**
 * A query value arrives as text: Elysia's numeric types accept the digits as a string too
 * (`anyOf: [{type: string, format: integer}, {type: integer}]`); the parameter is the number.
 */
function wireSchema(schema: Record<string, Json>): Record<string, Json> {
  const any = schema.anyOf;
  if (Array.isArray(any) && any.length === 2) {
    const numeric = any.find((s) => typeof s === 'object' && s && !Array.isArray(s) && (s.type === 'integer' || s.type === 'number'));
    if (numeric && any.some((s) => typeof s === 'object' && s && !Array.isArray(s) && s.type === 'string' && typeof s.format === 'string')) {
      const { anyOf: _, ...rest } = schema;
      return { ...rest, ...(numeric as Record<string, Json>) };
    }
  }
  return schema;
}

function parameters(route: RouteLike, components: Record<string, Json>): Json[] {
  const list: Json[] = [];
  const params = toJson(route.hooks?.params, components) as { properties?: Record<string, Json> } | null;
  for (const name of [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!)) {
    list.push({ name, in: 'path', required: true, schema: params?.properties?.[name] ?? { type: 'string', maxLength: 64 } });
  }
  const query = toJson(route.hooks?.query, components) as { properties?: Record<string, Record<string, Json>>; required?: string[] } | null;
  for (const [name, schema] of Object.entries(query?.properties ?? {})) {
    const { description, ...rest } = wireSchema(schema);
    list.push({ name, in: 'query', required: (query?.required ?? []).includes(name), schema: rest, ...(description ? { description } : {}) });
  }
  return list;
}

export interface OpenApiOptions {
  /** PUBLIC_URL: the only thing in the document that depends on the deployment. */
  publicUrl: string;
}

/** The OpenAPI document of every `/api/*` route in `routes` (HEAD and OPTIONS left out). */
export function openApiDocument(routes: readonly RouteLike[], opts: OpenApiOptions): Record<string, Json> {
  const components: Record<string, Json> = {};
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    if (!route.path.startsWith('/api/') || !['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method)) continue;
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const { hide: _, ...detail } = (route.hooks?.detail ?? {}) as DocumentDecoration;
    const operation = toJson(detail, components) as Record<string, Json>;
    const params = parameters(route, components);
    if (!operation.responses) operation.responses = { default: { description: 'Not described yet.' } };
    if (UNSAFE.has(route.method) && !operation.security && operation.responses) {
      // Cookie-authenticated unsafe requests from another site are refused (session.ts).
      (operation.responses as Record<string, Json>)['403'] ??= toJson(errorResponse(403, ['forbidden']), components);
    }
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: `${route.method.toLowerCase()}${path.replace(/\{([^}]+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...operation,
      ...(params.length ? { parameters: params } : {}),
    };
  }
  components.Error = toJson(errorSchema(), components);
  return {
    openapi: '3.1.0',
    info: {
      title: 'b24app JSON API',
      version: pkg.version,
      description:
        "A portal user's items, as the cabinet shows them. Every operation acts as the session's user on the session's portal only. " +
        'Get a session with `POST /api/session` (the BX24 auth of a page framed by Bitrix24) and send it as `Authorization: Bearer <token>`. ' +
        'Errors are `{"error": {"code", "message", "fields"?, "current"?, "request_id"?}}`; the `code` is stable, the message is English text.',
    },
    servers: [{ url: opts.publicUrl }],
    security: [{ session: [] }],
    paths: paths as Record<string, Json>,
    components: {
      schemas: components,
      securitySchemes: {
        session: { type: 'http', scheme: 'bearer', description: 'The `token` from `POST /api/session` (sliding expiry; renew with a new POST when a call answers 401 `unauthorized`).' },
      },
    },
  };
}

/**
 * GET /openapi.json: built once, on the first request (the route table is complete by then), and
 * served with a validator so clients and proxies may cache it.
 */
export function openApiRoutes(routes: () => readonly RouteLike[], opts: OpenApiOptions) {
  let built: { body: string; etag: string } | null = null;
  const document = () => {
    if (!built) {
      const body = JSON.stringify(openApiDocument(routes(), opts), null, 2);
      built = { body, etag: `"${Bun.hash(body).toString(36)}"` };
    }
    return built;
  };
  return new Elysia({ name: 'openapi', seed: opts.publicUrl }).get('/openapi.json', ({ request }) => {
    const { body, etag } = document();
    const headers = { etag, 'cache-control': 'public, max-age=3600', 'access-control-allow-origin': '*' };
    if (request.headers.get('if-none-match') === etag) return new Response(null, { status: 304, headers });
    return new Response(body, { headers: { ...headers, 'content-type': 'application/json; charset=utf-8' } });
  });
}
