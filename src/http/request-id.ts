/**
 * Request ids: taken from a well-formed `X-Request-Id` (nginx can set one) or made here, and
 * remembered per Request object so the error handler and the access log quote the same id.
 */
const ids = new WeakMap<Request, string>();
const WELL_FORMED = /^[A-Za-z0-9._-]{8,64}$/;

export function assignRequestId(request: Request): string {
  const given = request.headers.get('x-request-id');
  const id = given && WELL_FORMED.test(given) ? given : crypto.randomUUID();
  ids.set(request, id);
  return id;
}

export const requestIdOf = (request: Request): string => ids.get(request) ?? 'unknown';
