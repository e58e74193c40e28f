/**
 * A portal's `/rest/` endpoint, in CORE's order: CORS preflight, injected latency, the leaky bucket
 * (every request counts once, batch included), the token (401 NO_AUTH_FOUND / invalid_token /
 * expired_token), the method (404), its scope, the operating limit (429), then the call itself.
 */
import { appMethods } from './methods/app-methods.ts';
import { batchMethods } from './methods/batch-method.ts';
import { calendarMethods } from './methods/calendar-methods.ts';
import { eventMethods } from './methods/event-methods.ts';
import { offlineEventMethods } from './methods/offline-event-methods.ts';
import { placementMethods } from './methods/placement-methods.ts';
import { userMethods } from './methods/user-methods.ts';
import { sleep } from './ids.ts';
import type { CallContext, MethodTable } from './rest-method.ts';
import { asString, methodFromPath, readRestParams, type Params } from './rest-request.ts';
import { buildTime, preflight, restError, RestError, restSuccess, type MethodOutcome, type RestTime } from './rest-response.ts';
import { findUser, log, type Portal, type World } from './world.ts';

const METHODS: MethodTable = {
  ...userMethods,
  ...appMethods,
  ...eventMethods,
  ...offlineEventMethods,
  ...placementMethods,
  ...calendarMethods,
  ...batchMethods,
};


function hasScope(tokenScope: string[], needed: string[] | undefined): boolean {
  return needed === undefined || needed.some((s) => tokenScope.includes(s));
}

async function invoke(
  base: Omit<CallContext, 'invoke'>,
  method: string,
  params: Params,
  startMs: number,
): Promise<{ outcome: MethodOutcome; time: RestTime }> {
  const spec = METHODS[method];
  if (!spec) throw new RestError('ERROR_METHOD_NOT_FOUND', 'Method not found!', 404);
  if (!hasScope(base.token.scope, spec.scope)) {
    throw new RestError('insufficient_scope', 'The request requires higher privileges than provided by the access token', 401);
  }
  const key = `${base.install.app.client_id}|${method}`;
  if (base.portal.operating.isBlocked(key)) {
    base.world.stats.bump('operation_limited', base.portal.member_id);
    throw new RestError('OPERATION_TIME_LIMIT', 'Method is blocked due to operation time limit.', 429);
  }
  const processingStart = Date.now();
  const ctx: CallContext = { ...base, invoke: (m, p) => invoke(base, m, p, Date.now()) };
  try {
    const outcome = await spec.handler(ctx, params);
    // The batch envelope itself is not counted; its sub-calls are (DOCS limits.md).
    const seconds = (Date.now() - startMs) / 1000;
    const usage = spec.notInBatch ? base.portal.operating.usage(key) : base.portal.operating.record(key, seconds);
    return { outcome, time: buildTime(startMs, processingStart, usage) };
  } catch (err) {
    if (!spec.notInBatch) base.portal.operating.record(key, (Date.now() - startMs) / 1000);
    throw err;
  }
}

function authenticate(world: World, portal: Portal, auth: string | undefined): Omit<CallContext, 'invoke' | 'hit' | 'authConnector'> {
  if (!auth) throw new RestError('NO_AUTH_FOUND', 'Wrong authorization data', 401);
  const check = world.tokens.checkAccess(auth);
  if (!check.ok) {
    if (check.reason === 'expired') throw new RestError('expired_token', 'The access token provided has expired.', 401);
    throw new RestError('invalid_token', 'Unable to get application by token', 401);
  }
  const token = check.token;
  const install = portal.installs.get(token.client_id);
  const user = findUser(portal, token.user_id);
  if (token.member_id !== portal.member_id || !install || !user) {
    throw new RestError('invalid_token', 'Unable to get application by token', 401);
  }
  if (!user.ACTIVE) throw new RestError('authorization_error', 'Unable to authorize user', 401);
  return { world, portal, install, token, user };
}

export async function handleRest(world: World, portal: Portal, req: Request, url: URL): Promise<Response> {
  if (req.method === 'OPTIONS') return preflight();
  const startMs = Date.now();
  world.stats.bump('rest_calls', portal.member_id);
  if (world.options.latencyMs > 0) await sleep(world.options.latencyMs);
  try {
    if (!portal.bucket.take()) {
      world.stats.bump('rate_limited', portal.member_id);
      throw new RestError('QUERY_LIMIT_EXCEEDED', 'Too many requests', 503);
    }
    const method = methodFromPath(url.pathname);
    const { params, auth } = await readRestParams(req, url);
    const base = { ...authenticate(world, portal, auth), hit: ++portal.counters.hit, authConnector: asString(params.auth_connector) ?? '' };
    if (!method) throw new RestError('ERROR_METHOD_NOT_FOUND', 'Method not found!', 404);
    const { outcome, time } = await invoke(base, method, params, startMs);
    return restSuccess(outcome, time);
  } catch (err) {
    if (err instanceof RestError) return restError(err);
    log(world, 'rest method failed', { path: url.pathname, error: err instanceof Error ? err.message : String(err) });
    return restError(new RestError('INTERNAL_SERVER_ERROR', 'Internal server error', 500));
  }
}
