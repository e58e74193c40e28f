/**
 * What every request passes through before and after the route table: a request id, the client's
 * address, the BASE_PATH prefix removed (nginx may or may not strip it), baseline security headers,
 * one observation for the metrics, and one access-log line with the route template, the path but
 * never the query string (launch and OAuth URLs carry codes and tokens), and the portal as a hash.
 */
import { sha256Hex } from '../auth/secrets.ts';
import type { Logger } from '../log.ts';
import type { HttpMetrics } from '../metrics/app-metrics.ts';

/**
 * What the edge learns about a request and later code quotes: its id (from a well-formed
 * `X-Request-Id`, which nginx can set, or made here), the client's address, the route template that
 * answered it (the router notes it) and, once someone vouched for it, the portal it acts for. Kept in
 * one record per Request object, so the error handler, the access log, the metrics and the routes
 * agree. One per app (createApp).
 */
export interface RequestMeta {
  assignId(request: Request): string;
  /** The request's id, or 'unknown' for a request the edge never saw. */
  id(request: Request): string;
  remember(request: Request, ip: string | undefined): void;
  /** The client's address (from X-Forwarded-For as TRUST_PROXY says), or 'unknown'. */
  clientIp(request: Request): string;
  /** The route pattern (`/api/items/:id`) that took the request; the router calls it. */
  noteRoute(request: Request, route: string): void;
  /** The noted route pattern, or `unmatched` when no route took it. */
  route(request: Request): string;
  /** The portal a session or a verified launch showed the request acts for (logged as a hash). */
  notePortal(request: Request, memberId: string): void;
  /** The portal's tag for logs: the first 16 hex digits of SHA-256(member_id); undefined when unknown. */
  portal(request: Request): string | undefined;
}

interface RequestInfo {
  id: string;
  ip: string | undefined;
  route: string | undefined;
  portal: string | undefined;
}

const WELL_FORMED_ID = /^[A-Za-z0-9._-]{8,64}$/;
/** Portal tags kept before the cache starts over (each is 16 characters; the set of portals is small). */
const PORTAL_TAGS_KEPT = 10_000;

/** The log's name for a portal: not its member_id, but an operator can compute it from one. */
export const portalTag = (memberId: string): string => sha256Hex(memberId).slice(0, 16);

export function createRequestMeta(): RequestMeta {
  // Where a request's record lives: on the Request object itself, under a key only this meta has
  // (one per app), rather than in a WeakMap that gains an entry per request until the collector
  // clears it.
  const INFO = Symbol('b24app.requestInfo');
  type Noted = Request & { [INFO]?: RequestInfo };
  const tags = new Map<string, string>();
  const infoOf = (request: Request): RequestInfo =>
    // Every field present from the start: one object shape for every request.
    ((request as Noted)[INFO] ??= { id: 'unknown', ip: undefined, route: undefined, portal: undefined });
  const known = (request: Request): RequestInfo | undefined => (request as Noted)[INFO];
  return {
    assignId(request) {
      const given = request.headers.get('x-request-id');
      const id = given && WELL_FORMED_ID.test(given) ? given : crypto.randomUUID();
      infoOf(request).id = id;
      return id;
    },
    id: (request) => known(request)?.id ?? 'unknown',
    remember(request, ip) {
      if (ip) infoOf(request).ip = ip;
    },
    clientIp: (request) => known(request)?.ip ?? 'unknown',
    noteRoute(request, route) {
      const info = known(request);
      if (info) info.route = route;
    },
    route: (request) => known(request)?.route ?? 'unmatched',
    notePortal(request, memberId) {
      const info = known(request);
      if (!info) return;
      let tag = tags.get(memberId);
      if (tag === undefined) {
        if (tags.size >= PORTAL_TAGS_KEPT) tags.clear();
        tag = portalTag(memberId);
        tags.set(memberId, tag);
      }
      info.portal = tag;
    },
    portal: (request) => known(request)?.portal,
  };
}

export interface EdgeOptions {
  basePath: string;
  /** How many proxies' X-Forwarded-For entries to trust (TRUST_PROXY): 0 for none. */
  trustProxy: number;
  logger: Logger;
  meta: RequestMeta;
  /** CSP for HTML responses that did not set their own (error pages): who may frame them. */
  defaultHtmlCsp: string;
  /** Counts every answer by route template, method and status (src/metrics); absent: not counted. */
  metrics?: HttpMetrics;
}

/** The request as the routes see it (BASE_PATH removed) and its path. */
type Inner = (request: Request, path: string) => Promise<Response> | Response;
type Handler = (request: Request) => Promise<Response> | Response;
type PeerIp = (request: Request) => string | undefined;

/** The request as the routes see it (BASE_PATH removed) and its path. */
function stripBasePath(request: Request, parsed: URL, basePath: string): { request: Request; path: string } {
  if (!basePath || (parsed.pathname !== basePath && !parsed.pathname.startsWith(basePath + '/'))) return { request, path: parsed.pathname };
  const url = new URL(parsed);
  url.pathname = url.pathname.slice(basePath.length) || '/';
  return { request: new Request(url, request), path: url.pathname };
}

/**
 * Each proxy appends the address it saw to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for), so
 * only the last `trustedHops` entries were written by our proxies; anything left of them is whatever
 * the client sent. The client is the entry our outermost proxy appended.
 */
function clientIp(request: Request, trustedHops: number, peerIp: PeerIp): string | undefined {
  if (trustedHops > 0) {
    const entries = (request.headers.get('x-forwarded-for') ?? '').split(',', 100).map((s) => s.trim());
    const appended = entries[entries.length - trustedHops];
    if (entries.length >= trustedHops && appended) return appended.slice(0, 64);
  }
  return peerIp(request);
}

function parsedUrl(request: Request): URL | null {
  try {
    return new URL(request.url);
  } catch {
    return null;
  }
}

/**
 * Bun leaves `request.url` relative when the Host header is absent or malformed. Absent is legal in
 * HTTP/1.0 (health checkers send it): route it under a placeholder host, which nothing here reads
 * (absolute URLs come from PUBLIC_URL), as a very short Host is. Present but malformed has nothing
 * sane to route: null, a 400.
 */
function routable(request: Request): { request: Request; url: URL } | null {
  const url = parsedUrl(request);
  if (url && !url.hostname) return null;
  if (!url && (request.headers.has('host') || !request.url.startsWith('/'))) return null;
  // Elysia finds the path from a fixed offset, which a Host shorter than 4 characters misses.
  if (url && url.host.length >= 4) return { request, url };
  const rebuilt = parsedUrl(new Request(`http://host.invalid${url ? url.pathname + url.search : request.url}`));
  return rebuilt ? { request: new Request(rebuilt, request), url: rebuilt } : null;
}

export function withEdge(handle: Inner, opts: EdgeOptions, peerIp: PeerIp = () => undefined): Handler {
  return async (incoming) => {
    const started = performance.now();
    const target = routable(incoming);
    if (!target) {
      const requestId = opts.meta.assignId(incoming);
      opts.metrics?.observe('unmatched', incoming.method, 400, (performance.now() - started) / 1000);
      opts.logger.info('request', { request_id: requestId, method: incoming.method, route: 'unmatched', status: 400, reason: 'unparsable URL or Host' });
      return new Response('Bad request: missing or malformed Host header', {
        status: 400,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': requestId, 'x-content-type-options': 'nosniff' },
      });
    }
    let { request } = target;
    let path = target.url.pathname;
    let response: Response;
    let requestId = '';
    let ip: string | undefined;
    try {
      ({ request, path } = stripBasePath(request, target.url, opts.basePath));
      requestId = opts.meta.assignId(request);
      ip = clientIp(incoming, opts.trustProxy, peerIp); // the peer address belongs to the original request object
      opts.meta.remember(request, ip);
      response = await handle(request, path);
    } catch (error) {
      // The router's own error handler catches route errors; this is the last line of defence.
      requestId ||= opts.meta.assignId(request);
      opts.logger.error('request failed outside the router', { request_id: requestId, error });
      response = new Response(`Internal error (request id ${requestId})`, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }
    const h = response.headers;
    h.set('x-request-id', requestId);
    // Answers about a user's own data are for that user only: never stored by a browser or a proxy.
    if (!h.has('cache-control') && (path.startsWith('/api/') || path.startsWith('/ui/'))) h.set('cache-control', 'no-store');
    if (!h.has('x-content-type-options')) h.set('x-content-type-options', 'nosniff');
    if (!h.has('referrer-policy')) h.set('referrer-policy', 'no-referrer');
    if (!h.has('content-security-policy') && (h.get('content-type') ?? '').startsWith('text/html')) {
      h.set('content-security-policy', opts.defaultHtmlCsp);
    }
    const ms = performance.now() - started;
    const route = opts.meta.route(request);
    opts.metrics?.observe(route, request.method, response.status, ms / 1000);
    opts.logger.info('request', {
      request_id: requestId,
      method: request.method,
      route,
      path,
      status: response.status,
      duration_ms: Math.round(ms * 100) / 100,
      ip,
      portal: opts.meta.portal(request),
    });
    return response;
  };
}
