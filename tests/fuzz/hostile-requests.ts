/**
 * A seeded generator of hostile requests over the app's whole route table. The same seed gives the
 * same requests in the same order, so any failure is reproduced with `FUZZ_SEED=<seed>`; the label
 * names the class of input, so a failure report groups by what went wrong rather than by URL.
 *
 * Requests marked `raw` go over a bare socket (see raw-http.ts): bad `Host` headers, literal `..`,
 * odd methods and broken framing, which `fetch` would refuse or repair.
 */
import { badBody, type BodyShape } from './hostile-bodies.ts';

export interface Known {
  /** A genuine session token (from a real launch through the emulator). */
  token: string;
  /** Ids of items that session owns. */
  itemIds: string[];
  /** Current hashed asset paths, e.g. /public/htmx.abc123.js. */
  assetPaths: string[];
}

export interface FuzzRequest {
  /** The class of input, e.g. `json:deep-array`; failures are grouped by it. */
  label: string;
  /** The route template this request aims at (for the coverage check). */
  route: string;
  method: string;
  /** Path and query, exactly as sent. */
  target: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Send over a bare socket, byte for byte (the whole request in `body`, target/headers ignored). */
  raw?: boolean;
  /** Raw only: end our side after writing (the body is shorter than announced). */
  halfClose?: boolean;
}

/** The route table of src/app.ts, as METHOD template. */
export const ROUTES = [
  'GET /', 'POST /', 'GET /install', 'POST /install', 'POST /events', 'GET /auth/bitrix24',
  'POST /api/session', 'GET /api/users/current',
  'GET /api/items', 'POST /api/items', 'GET /api/items/:id', 'PUT /api/items/:id', 'DELETE /api/items/:id',
  'POST /api/items/:id/calendar', 'GET /api/export',
  'GET /ui/items', 'GET /ui/items/new', 'POST /ui/items', 'GET /ui/items/:id', 'GET /ui/items/:id/edit',
  'PUT /ui/items/:id', 'POST /ui/items/:id/archive', 'POST /ui/items/:id/restore', 'POST /ui/items/:id/calendar',
  'DELETE /ui/items/:id', 'GET /public/:file', 'GET /health', 'GET /ready',
] as const;

/** mulberry32: small, fast, and the same sequence on every machine for a given seed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}
export type Rng = ReturnType<typeof prng>;

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];
const ODD_IDS = ['0', '-1', '..', '%2e%2e', 'x'.repeat(300), '%00', '%F0%9F%92%A9', '1e999', '%E2%80%AE', "'%20OR%201=1--", '%ED%A0%80'];
const ODD_QUERIES = [
  '?%', '?%zz=1', '?a=%E0%80%AF', '?&&&==&=', `?q=${'x'.repeat(5000)}`, '?limit=-1', '?limit=1e309', '?limit=abc', '?limit=0',
  '?cursor=%00%00', '?cursor=not-a-cursor', '?status[]=active', '?status=ARCHIVED', `?${'a=1&'.repeat(2000)}`,
  '?q=%ED%A0%80', '?q=%E2%80%AE%D7%A9%D7%9C%D7%95%D7%9D', '?LANG=%00', '?LANG=../../etc', '?DOMAIN=%0d%0aSet-Cookie:x=1',
  '?domain=a.bitrix24.com:99999', '?domain=evil.example', '?domain=', `?domain=${'a.'.repeat(200)}com`, '?domain=[::1]',
  '?code=x&state=y', '?code=&state=', '?code=x&state=y&domain=a&member_id=b&server_domain=c', '?__proto__[x]=1', '?constructor[prototype][x]=1',
];

function concretePath(rng: Rng, template: string, known: Known): string {
  return template
    .replace(':id', () => (rng.next() < 0.5 && known.itemIds.length ? rng.pick(known.itemIds) : rng.pick(ODD_IDS)))
    .replace(':file', () => (rng.next() < 0.4 ? rng.pick(known.assetPaths).slice('/public/'.length) : rng.pick(['x.js', 'htmx.js', '%2e%2e%2fpackage.json', '..%5csrc%5cmain.ts', 'a'.repeat(2000), '%00.css', 'app.0000000000.css'])));
}

function credentials(rng: Rng, known: Known): Record<string, string> {
  const r = rng.next();
  if (r < 0.45) return { authorization: `Bearer ${known.token}` };
  if (r < 0.55) return { cookie: `b24app_session=${known.token}`, ...(rng.next() < 0.5 ? { origin: 'https://evil.example' } : { 'sec-fetch-site': 'same-origin' }) };
  if (r < 0.65) return { authorization: rng.pick(['Bearer', 'Bearer ' + 'A'.repeat(5000), 'Basic Zm9vOmJhcg==', 'bearer ' + known.token, `Bearer  ${known.token}`, 'Bearer ' + known.token.toLowerCase()]) };
  if (r < 0.7) return { cookie: ';'.repeat(4000) + `b24app_session=${'x'.repeat(30)}` };
  return {};
}

function flavour(rng: Rng): Record<string, string> {
  const h: Record<string, string> = {};
  if (rng.next() < 0.3) h['hx-request'] = 'true';
  if (rng.next() < 0.3) h.accept = rng.pick(['text/html', 'application/json', '*/*', 'text/html;q=0, application/json', '']);
  if (rng.next() < 0.1) h['x-request-id'] = rng.pick(['../../etc', 'x'.repeat(500), 'ok-request-id-123']);
  if (rng.next() < 0.1) h['x-forwarded-for'] = rng.pick(['1.2.3.4, 5.6.7.8', 'garbage', '', '::1']);
  if (rng.next() < 0.1) h['accept-language'] = rng.pick(['ru', '*', 'x'.repeat(1000), 'zz-ZZ;q=abc']);
  return h;
}

function shaped(rng: Rng, route: string, known: Known, shape: BodyShape): FuzzRequest {
  const [routeMethod, template] = route.split(' ') as [string, string];
  const method = rng.next() < 0.85 ? routeMethod : rng.pick(METHODS);
  // The OAuth route reads nothing but its query: give it odd queries most of the time.
  const queries = template === '/auth/bitrix24' ? ODD_QUERIES.filter((q) => /domain|code|state/.test(q)) : ODD_QUERIES;
  const query = rng.next() < (template === '/auth/bitrix24' ? 0.8 : 0.25) ? rng.pick(queries) : '';
  // The server runs with TRUST_PROXY (as behind nginx): a fresh client address per request keeps the
  // failed-attempt limiter from answering 429 before the parsers behind it see the input.
  const client = { 'x-forwarded-for': `198.18.${rng.int(256)}.${rng.int(256)}` };
  const headers = { ...client, ...credentials(rng, known), ...flavour(rng), ...shape.headers };
  const bodyless = method === 'GET' || method === 'HEAD';
  // Without a body, what is odd about the request is its query (or nothing but the method).
  const what = bodyless ? `query:${query.length > 60 ? query.slice(0, 40) + '…' : query || 'none'}` : shape.label;
  return { label: `${what}${method !== routeMethod ? ' (wrong method)' : ''}`, route, method, target: concretePath(rng, template, known) + query, headers, ...(bodyless ? {} : { body: shape.body }) };
}

/** Requests fetch cannot make: bad Host headers, literal traversal, odd methods, broken framing. */
export function rawCases(port: number, path: string, auth: string, odd: string): [label: string, bytes: string][] {
  return [
    ['host:empty', `GET ${path} HTTP/1.1\r\nHost:\r\n${auth}Connection: close\r\n\r\n`],
    ['host:space', `GET ${path} HTTP/1.1\r\nHost: a b\r\n${auth}Connection: close\r\n\r\n`],
    ['host:missing-http1.0', `GET ${path} HTTP/1.0\r\n${auth}\r\n`],
    ['host:missing-http1.1', `GET ${path} HTTP/1.1\r\n${auth}Connection: close\r\n\r\n`],
    ['host:twice', `GET ${path} HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n`],
    ['host:bracket', `GET ${path} HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n`],
    ['host:unicode', `GET ${path} HTTP/1.1\r\nHost: \xe4\xbd\xa0\xe5\xa5\xbd:${port}\r\nConnection: close\r\n\r\n`],
    ['host:port-overflow', `GET ${path} HTTP/1.1\r\nHost: localhost:999999\r\nConnection: close\r\n\r\n`],
    ['host:userinfo', `GET ${path} HTTP/1.1\r\nHost: user:pw@localhost\r\nConnection: close\r\n\r\n`],
    ['target:absolute-form', `GET http://evil.example${path} HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`],
    ['target:asterisk', `OPTIONS * HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`],
    ['target:no-slash', `GET health HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`],
    ['traversal:literal', `GET /public/../../src/main.ts HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`],
    ['traversal:encoded', `GET /public/..%2f..%2fpackage.json HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`],
    ['traversal:backslash', `GET /public/..\\..\\src\\main.ts HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`],
    ['traversal:double-slash', `GET //public//..//..//etc/passwd HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`],
    ['method:odd', `${odd} ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`],
    ['framing:short-body', `POST ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\nConnection: close\r\n\r\na=1`],
    ['framing:bad-chunk', `POST ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`],
    ['framing:cl-and-te', `POST ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`],
    ['header:nul', `GET ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nX-A: a\x00b\r\nConnection: close\r\n\r\n`],
    ['header:many', `GET ${path} HTTP/1.1\r\nHost: localhost:${port}\r\n${Array.from({ length: 1000 }, (_, i) => `X-H${i}: ${i}\r\n`).join('')}Connection: close\r\n\r\n`],
    ['header:huge-cookie', `GET ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nCookie: ${'a=1; '.repeat(3000)}b24app_session=x\r\nConnection: close\r\n\r\n`],
    ['header:obs-fold', `GET ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n`],
    ['request:garbage', `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03${'\xff'.repeat(64)}\r\n\r\n`],
  ];
}

/** A body shorter than its Content-Length: we hang up rather than wait for the server's idle timeout. */
export const halfCloses = (label: string) => label === 'framing:short-body';

export const RAW_PATHS = ['/health', '/', '/api/items', '/install', '/ui/items', '/ready', '/auth/bitrix24?domain=x'];

function rawRequest(rng: Rng, port: number, known: Known): FuzzRequest {
  const path = rng.pick([...RAW_PATHS, known.assetPaths[0]!]);
  const auth = rng.next() < 0.5 ? `Authorization: Bearer ${known.token}\r\n` : '';
  const odd = rng.pick(['TRACE', 'PROPFIND', 'FOO', 'CONNECT', 'get']);
  const [label, bytes] = rng.pick(rawCases(port, path, auth, odd));
  return { label: `raw ${label}`, route: 'raw', method: 'RAW', target: path, headers: {}, body: bytes, raw: true, halfClose: halfCloses(label) };
}

/**
 * `count` requests for the given seed, made one at a time (bodies reach 1 MB): every route first
 * (coverage), then random routes and shapes, one in eight over a bare socket.
 */
export function* generateRequests(seed: number, count: number, port: number, known: Known): Generator<FuzzRequest> {
  const rng = prng(seed);
  for (let i = 0; i < count; i++) {
    if (i >= ROUTES.length && rng.next() < 0.12) {
      yield rawRequest(rng, port, known);
      continue;
    }
    const route = i < ROUTES.length ? ROUTES[i]! : rng.pick(ROUTES);
    yield shaped(rng, route, known, badBody(rng, route));
  }
}
