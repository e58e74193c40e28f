/**
 * GET /openapi.json: a valid OpenAPI 3.1 document (checked by a validator library, and every schema
 * in it compiled by Ajv as JSON Schema 2020-12), describing every /api/* route of the app's own route
 * table (the list comes from the router, not from this file), with examples that satisfy their schemas
 * — and answers of the real API, success and error, that satisfy the schemas the document gives for
 * their status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openCabinet, type Cabinet, type CabinetUser, type Reply } from './cabinet-harness.ts';

type Doc = {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};
type Media = { schema: object; example?: unknown; examples?: Record<string, { value: unknown }> };
type Operation = {
  summary?: string;
  security?: unknown[];
  parameters?: { name: string; in: string; required: boolean; schema: object }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
};

let cab: Cabinet;
let admin: CabinetUser;
let user: CabinetUser;
let doc: Doc;
let first: Response;

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
/**
 * Schemas of the document, compiled with its components: each component is added as
 * `component:<name>`, and `#/components/schemas/<name>` references are pointed there.
 */
const compiled = new Map<object, ReturnType<typeof ajv.compile>>();
const rebase = (schema: unknown) => JSON.parse(JSON.stringify(schema).replace(/"#\/components\/schemas\/([A-Za-z0-9]+)"/g, '"component:$1"'));
function validatorFor(schema: object) {
  let v = compiled.get(schema);
  if (!v) {
    for (const [name, component] of Object.entries(doc.components.schemas)) {
      if (!ajv.getSchema(`component:${name}`)) ajv.addSchema({ ...rebase(component), $id: `component:${name}` });
    }
    v = ajv.compile(rebase(schema));
    compiled.set(schema, v);
  }
  return v;
}
const problems = (schema: object, value: unknown): string[] => {
  const v = validatorFor(schema);
  return v(value) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
};

/** The app's API routes, from its route table. */
const apiRoutes = () =>
  (cab.stack.server.app.router.routes as { method: string; path: string }[])
    .filter((r) => r.path.startsWith('/api/') && !['HEAD', 'OPTIONS'].includes(r.method))
    .map((r) => ({ method: r.method.toLowerCase(), path: r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}') }));

beforeAll(async () => {
  cab = await openCabinet();
  const portal = await cab.newPortal();
  admin = await cab.signIn(portal, 1);
  user = await cab.signIn(portal, 2);
  first = await fetch(`${cab.stack.appUrl}/openapi.json`);
  doc = (await first.clone().json()) as Doc;
});
afterAll(() => cab.stop());

describe('GET /openapi.json', () => {
  it('answers without a session, cacheable, with a validator that gives 304', async () => {
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(first.headers.get('cache-control')).toBe('public, max-age=3600');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[a-z0-9]+"$/);
    const again = await fetch(`${cab.stack.appUrl}/openapi.json`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('names nothing of the deployment but its public URL', async () => {
    expect(doc.servers).toEqual([{ url: cab.stack.appUrl }]);
    const text = JSON.stringify(doc);
    for (const secret of [cab.stack.clientId, cab.stack.clientSecret, cab.stack.emulator.url, cab.stack.database.url]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/\/tmp\/|sqlite:|postgres:\/\//);
  });

  it('describes every /api/* route of the route table, and nothing else', () => {
    const routes = apiRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(10);
    const described = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method, path })));
    expect(described.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`))).toEqual(
      routes.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`)),
    );
    for (const { method, path } of routes) {
      const op = doc.paths[path]![method]!;
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.summary, where).toBeTruthy();
      expect(op.responses.default, `${where} has no described answers`).toBeUndefined();
      expect(Object.keys(op.responses).some((s) => s.startsWith('2')), `${where} has no success answer`).toBe(true);
      // Path parameters are declared; routes behind a session say so with 401; unsafe ones read JSON bodies.
      for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
        expect(op.parameters?.some((p) => p.in === 'path' && p.name === name && p.required), `${where} {${name}}`).toBe(true);
      }
      if (op.security?.length !== 0) expect(op.responses['401'], `${where} 401`).toBeDefined();
      expect(op.responses['500'], `${where} 500`).toBeDefined();
      for (const [status, r] of Object.entries(op.responses)) {
        if (Number(status) >= 400) expect(r.content?.['application/json']?.schema, `${where} ${status}`).toBeDefined();
      }
    }
    // The list's page size is read as text and checked as a number by the route (integerQuery): the
    // document says what is checked.
    const limit = doc.paths['/api/items']!.get!.parameters?.find((p) => p.name === 'limit');
    expect(limit).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100 } });
  });

  it('has the error shape, the bearer scheme, and the statuses where they happen', () => {
    expect(doc.components.securitySchemes).toEqual({ session: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    const error = doc.components.schemas.Error as { properties: { error: { properties: Record<string, unknown>; required: string[] } } };
    expect(Object.keys(error.properties.error.properties).sort()).toEqual(['code', 'current', 'fields', 'message', 'request_id']);
    expect(error.properties.error.required.sort()).toEqual(['code', 'message']);
    const statuses = (method: string, path: string) => Object.keys(doc.paths[path]![method]!.responses);
    expect(doc.paths['/api/session']!.post!.security).toEqual([]);
    expect(statuses('post', '/api/session')).toEqual(expect.arrayContaining(['200', '401', '422', '429', '503']));
    expect(statuses('put', '/api/items/{id}')).toEqual(expect.arrayContaining(['200', '401', '403', '404', '409', '422']));
    expect(statuses('post', '/api/items')).toEqual(expect.arrayContaining(['201', '401', '403', '413', '415', '422']));
    expect(statuses('delete', '/api/items/{id}')).toEqual(expect.arrayContaining(['204', '404']));
    expect(statuses('get', '/api/items')).toEqual(expect.arrayContaining(['200', '400', '401']));
    expect(statuses('get', '/api/admin/health')).toEqual(expect.arrayContaining(['200', '401', '404']));
  });

  it('compiles every schema as JSON Schema 2020-12, and every example satisfies its schema', () => {
    let examples = 0;
    const bad: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const media: [string, Media][] = [
          ...Object.entries(op.requestBody?.content ?? {}).map(([t, m]) => [`body ${t}`, m] as [string, Media]),
          ...Object.entries(op.responses).flatMap(([status, r]) => Object.entries(r.content ?? {}).map(([t, m]) => [`${status} ${t}`, m] as [string, Media])),
        ];
        for (const p of op.parameters ?? []) validatorFor(p.schema);
        for (const [where, m] of media) {
          const values = [...(m.example === undefined ? [] : [m.example]), ...Object.values(m.examples ?? {}).map((e) => e.value)];
          expect(values.length, `${method.toUpperCase()} ${path} ${where} has no example`).toBeGreaterThan(0);
          for (const value of values) {
            examples++;
            for (const p of problems(m.schema, value)) bad.push(`${method.toUpperCase()} ${path} ${where}: ${p}`);
          }
        }
      }
    }
    expect(bad).toEqual([]);
    expect(examples).toBeGreaterThan(40);
  });
});

describe('the API answers as its description says', () => {
  /** The answer must be a documented status of the operation, and its body satisfy that status's schema. */
  const conforms = (method: string, path: string, r: Reply, status: number) => {
    const op = doc.paths[path]?.[method.toLowerCase()];
    const where = `${method} ${path} -> ${r.status}`;
    expect(r.status, `${where}: ${r.text.slice(0, 200)}`).toBe(status);
    expect(op, where).toBeDefined();
    const response = op!.responses[String(r.status)];
    expect(response, `${where} is not documented`).toBeDefined();
    const media = response!.content?.['application/json'];
    if (!media) return expect(r.text, where).toBe('');
    expect(r.headers.get('content-type') ?? '', where).toContain('application/json');
    expect(problems(media.schema, JSON.parse(r.text)), where).toEqual([]);
  };

  it('for sessions and the current user', async () => {
    const body = { AUTH_ID: user.launch.form.AUTH_ID, DOMAIN: user.portal.domain, member_id: user.portal.member_id };
    const post = (b: unknown, type = 'application/json') => cab.raw('POST', '/api/session', { headers: { 'content-type': type }, body: JSON.stringify(b) });
    conforms('POST', '/api/session', await post(body), 200);
    conforms('POST', '/api/session', await post({ ...body, AUTH_ID: 'forged-token-that-bitrix24-never-issued' }), 401);
    conforms('POST', '/api/session', await post({ ...body, AUTH_ID: 7 }), 422);
    conforms('POST', '/api/session', await post(body, 'text/plain'), 415);
    conforms('GET', '/api/users/current', await user.api('GET', '/api/users/current'), 200);
    conforms('GET', '/api/users/current', await cab.raw('GET', '/api/users/current'), 401);
  });

  it('for items, their errors and the export', async () => {
    const created = await user.api('POST', '/api/items', { name: 'Report', data: { a: 1 }, starts_at: '2030-01-15T10:00:00Z' });
    conforms('POST', '/api/items', created, 201);
    const id = created.json.id as string;
    conforms('POST', '/api/items', await user.api('POST', '/api/items', { name: '' }), 422);
    conforms('POST', '/api/items', await user.api('POST', '/api/items', '{"name":'), 400);
    conforms('GET', '/api/items', await user.api('GET', '/api/items?limit=1'), 200);
    conforms('GET', '/api/items', await user.api('GET', '/api/items?limit=1000'), 400);
    conforms('GET', '/api/items/{id}', await user.api('GET', `/api/items/${id}`), 200);
    conforms('GET', '/api/items/{id}', await admin.api('GET', `/api/items/${id}`), 404);
    conforms('PUT', '/api/items/{id}', await user.api('PUT', `/api/items/${id}`, { name: 'Report 2', version: 1 }), 200);
    const conflict = await user.api('PUT', `/api/items/${id}`, { name: 'Stale', version: 1 });
    conforms('PUT', '/api/items/{id}', conflict, 409);
    conforms('POST', '/api/items/{id}/calendar', await user.api('POST', `/api/items/${id}/calendar`), 200);
    conforms('GET', '/api/export', await user.api('GET', '/api/export'), 200);
    conforms('DELETE', '/api/items/{id}', await user.api('DELETE', `/api/items/${id}`), 204);
    conforms('DELETE', '/api/items/{id}', await user.api('DELETE', `/api/items/${id}`), 404);
  });

  it('for the admin routes', async () => {
    conforms('GET', '/api/admin/health', await admin.api('GET', '/api/admin/health'), 200);
    conforms('GET', '/api/admin/health', await user.api('GET', '/api/admin/health'), 404);
    conforms('GET', '/api/admin/calendar-jobs', await admin.api('GET', '/api/admin/calendar-jobs'), 200);
    conforms('GET', '/api/admin/calendar-jobs', await user.api('GET', '/api/admin/calendar-jobs'), 404);
  });
});
