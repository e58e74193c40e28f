/**
 * What every request passes through before and after the route table: a request id, the BASE_PATH
 * prefix removed (nginx may or may not strip it), baseline security headers, and one JSON access-log
 * line with the path but never the query string (launch and OAuth URLs carry codes and tokens).
 */
import type { Logger } from '../log.ts';
import { assignRequestId, rememberClientIp } from './request-meta.ts';

export interface EdgeOptions {
  basePath: string;
  trustProxy: boolean;
  logger: Logger;
  /** CSP for HTML responses that did not set their own (error pages): who may frame them. */
  defaultHtmlCsp: string;
}

type Handler = (request: Request) => Promise<Response> | Response;
type PeerIp = (request: Request) => string | undefined;

function stripBasePath(request: Request, basePath: string): Request {
  if (!basePath) return request;
  const url = new URL(request.url);
  if (url.pathname !== basePath && !url.pathname.startsWith(basePath + '/')) return request;
  url.pathname = url.pathname.slice(basePath.length) || '/';
  return new Request(url, request);
}

function clientIp(request: Request, trustProxy: boolean, peerIp: PeerIp): string | undefined {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for');
    if (forwarded) return forwarded.split(',')[0]!.trim();
  }
  return peerIp(request);
}

export function withEdge(handle: Handler, opts: EdgeOptions, peerIp: PeerIp = () => undefined): Handler {
  return async (incoming) => {
    const started = performance.now();
    const request = stripBasePath(incoming, opts.basePath);
    const requestId = assignRequestId(request);
    const ip = clientIp(incoming, opts.trustProxy, peerIp);
    rememberClientIp(request, ip);
    let response: Response;
    try {
      response = await handle(request);
    } catch (error) {
      // The router's own error handler catches route errors; this is the last line of defence.
      opts.logger.error('request failed outside the router', { request_id: requestId, error });
      response = new Response('Internal error', { status: 500 });
    }
    const h = response.headers;
    h.set('x-request-id', requestId);
    if (!h.has('x-content-type-options')) h.set('x-content-type-options', 'nosniff');
    if (!h.has('referrer-policy')) h.set('referrer-policy', 'no-referrer');
    if (!h.has('content-security-policy') && (h.get('content-type') ?? '').startsWith('text/html')) {
      h.set('content-security-policy', opts.defaultHtmlCsp);
    }
    opts.logger.info('request', {
      request_id: requestId,
      method: request.method,
      path: new URL(request.url).pathname,
      status: response.status,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
      ip,
    });
    return response;
  };
}
