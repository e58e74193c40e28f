/**
 * What the edge learns about a request and later code quotes: its id (from a well-formed
 * `X-Request-Id`, which nginx can set, or made here) and the client's address. Remembered per
 * Request object, so the error handler, the access log and the routes agree.
 */
const ids = new WeakMap<Request, string>();
const ips = new WeakMap<Request, string>();
const WELL_FORMED = /^[A-Za-z0-9._-]{8,64}$/;

export function assignRequestId(request: Request): string {
  const given = request.headers.get('x-request-id');
  const id = given && WELL_FORMED.test(given) ? given : crypto.randomUUID();
  ids.set(request, id);
  return id;
}

export const requestIdOf = (request: Request): string => ids.get(request) ?? 'unknown';

export function rememberClientIp(request: Request, ip: string | undefined): void {
  if (ip) ips.set(request, ip);
}

/** The client's address (from X-Forwarded-For as TRUST_PROXY says, see edge.ts), or 'unknown'. */
export const clientIpOf = (request: Request): string => ips.get(request) ?? 'unknown';
