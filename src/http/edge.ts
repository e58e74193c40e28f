/**
 * What every request passes through before and after the route table: a request id, the client's
 * address, the BASE_PATH prefix removed (nginx may or may not strip it), baseline security headers,
 * and one JSON access-log line with the path but never the query string (launch and OAuth URLs carry
 * codes and tokens).
 */
import type { Logger } from '../log.ts';

/**
 * What the edge learns about a request and later code quotes: its id (from a well-formed
 * `X-Request-Id`, which nginx can set, or made here) and the client's address. Remembered per Request
 * object, so the error handler, the access log and the routes agree. One per app (createApp).
 */
export interface RequestMeta {
  assignId(request: Request): string;
  /** The request's id, or 'unknown' for a request the edge never saw. */
  id(request: Request): string;
  remember(request: Request, ip: string | undefined): void;
  /** The client's address (from X-Forwarded-For as TRUST_PROXY says), or 'unknown'. */
  clientIp(request: Request): string;
}

const WELL_FORMED_ID = /^[A-Za-z0-9._-]{8,64}$/;

export function createRequestMeta(): RequestMeta {
  const ids = new WeakMap<Request, string>();
  const ips = new WeakMap<Request, string>();
  return {
    assignId(request) {
      const given = request.headers.get('x-request-id');
      const id = given && WELL_FORMED_ID.test(given) ? given : crypto.randomUUID();
      ids.set(request, id);
      return id;
    },
    id: (request) => ids.get(request) ?? 'unknown',
    remember(request, ip) {
      if (ip) ips.set(request, ip);
    },
    clientIp: (request) => ips.get(request) ?? 'unknown',
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
}

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

export function withEdge(handle: Handler, opts: EdgeOptions, peerIp: PeerIp = () => undefined): Handler {
  return async (incoming) => {
    const started = performance.now();
    const target = routable(incoming);
    if (!target) {
      const requestId = opts.meta.assignId(incoming);
      opts.logger.info('request', { request_id: requestId, method: incoming.method, status: 400, reason: 'unparsable URL or Host' });
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
      response = await handle(request);
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
    opts.logger.info('request', {
      request_id: requestId,
      method: request.method,
      path,
      status: response.status,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
      ip,
    });
    return response;
  };
}
