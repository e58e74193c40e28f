/**
 * A portal's `/rest/` endpoint, in CORE's order: CORS preflight, injected latency, the leaky bucket
 * (every request counts once, batch included), the token (401 NO_AUTH_FOUND / invalid_token /
 * expired_token; 401 PAYMENT_REQUIRED for a lapsed paid app, billing.ts), the method (404), its scope,
 * the operating limit (429), then the call itself.
 */
import { paymentLapsed } from './billing.ts';
import { realTime } from './clock.ts';
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
import { findUser, log, type Installation, type Portal, type World } from './world.ts';

const METHODS: MethodTable = {
  ...userMethods,
  ...appMethods,
  ...eventMethods,
  ...offlineEventMethods,
  ...placementMethods,
  ...calendarMethods,
  ...batchMethods,
};


/** When a call started: on the emulator's clock for the dates it reports, in real time for its duration. */
interface CallStart {
  atMs: number;
  realMs: number;
}

const startNow = (world: World): CallStart => ({ atMs: world.clock.now(), realMs: realTime() });

/**
 * Methods a lapsed app may still call: `app.info`, so that it can learn why everything else is refused
 * (app-info.md documents PAYMENT_EXPIRED=Y with negative DAYS "after the paid period expires").
 */
const OPEN_WHEN_LAPSED = new Set(['app.info']);

function hasScope(tokenScope: string[], needed: string[] | undefined): boolean {
  return needed === undefined || needed.some((s) => tokenScope.includes(s));
}

async function invoke(
  base: Omit<CallContext, 'invoke'>,
  method: string,
  params: Params,
  started: CallStart,
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
  const processingStartMs = realTime();
  const ctx: CallContext = { ...base, invoke: (m, p) => invoke(base, m, p, startNow(base.world)) };
  try {
    const outcome = await spec.handler(ctx, params);
    // The batch envelope itself is not counted; its sub-calls are (DOCS limits.md).
    const seconds = (realTime() - started.realMs) / 1000;
    const usage = spec.notInBatch ? base.portal.operating.usage(key) : base.portal.operating.record(key, seconds);
    return { outcome, time: buildTime(started.atMs, seconds, (realTime() - processingStartMs) / 1000, usage) };
  } catch (err) {
    if (!spec.notInBatch) base.portal.operating.record(key, (realTime() - started.realMs) / 1000);
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

/**
 * A lapsed paid app's calls are refused as the token check refuses them: the portal asks the OAuth
 * server about every token (CORE rest/lib/oauth/auth.php), which issues nothing once "the trial or paid
 * period of the application has expired" (DOCS settings/oauth/error-codes.md: PAYMENT_REQUIRED), and an
 * error from that check reaches the app with HTTP 401 (CORE OAuthException). Local and free apps never lapse.
 */
function checkPayment(world: World, portal: Portal, install: Installation, method: string | undefined): void {
  if (method !== undefined && OPEN_WHEN_LAPSED.has(method)) return;
  if (paymentLapsed(world, portal, install.app)) throw new RestError('PAYMENT_REQUIRED', 'Payment required', 401);
}

export async function handleRest(world: World, portal: Portal, req: Request, url: URL): Promise<Response> {
  if (req.method === 'OPTIONS') return preflight();
  const started = startNow(world);
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
    checkPayment(world, portal, base.install, method);
    if (!method) throw new RestError('ERROR_METHOD_NOT_FOUND', 'Method not found!', 404);
    const { outcome, time } = await invoke(base, method, params, started);
    return restSuccess(outcome, time);
  } catch (err) {
    if (err instanceof RestError) return restError(err);
    log(world, 'rest method failed', { path: url.pathname, error: err instanceof Error ? err.message : String(err) });
    return restError(new RestError('INTERNAL_SERVER_ERROR', 'Internal server error', 500));
  }
}
