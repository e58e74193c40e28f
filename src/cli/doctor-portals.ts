/**
 * `b24app doctor`, over the network: the events handler URL answers from here, and per installed
 * portal the app tokens are alive and the event bindings the app needs are in place. One REST call
 * each (`app.info`, `event.get`), one attempt, a short timeout; the calls go through the app's own
 * client, so tokens that are due are refreshed as serve would (safely across processes) and a
 * refresh Bitrix24 refuses marks them dead, as serve would too.
 */
import { missingBindings, type BoundEvent } from '../auth/portal-install.ts';
import { BitrixError, codeRow, isUnanswered, LocalCode, type Bitrix } from '../bitrix/index.ts';
import type { Portal } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { guarded, oneLine, type CheckResult, type FetchFn } from './doctor-check.ts';

/** Portals checked in one run, by id: a run over thousands would take minutes and spend their REST budget. */
export const PORTAL_LIMIT = 50;
/** Portals checked at once (each is its own host). */
const CONCURRENCY = 4;

/** A network failure in one line: the cause's code when there is one, never a stack. */
function describeNetworkError(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; code?: string };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  // Bun appends advice on its own debugging option to fetch errors: not the operator's business.
  const message = oneLine((err.message ?? String(e)).replace(/\.? For more information, pass `verbose: true`[^\n]*/, ''));
  return err.code && !message.includes(err.code) ? `${message} (${err.code})` : message;
}

/**
 * Bitrix24 posts events to PUBLIC_URL/events: `GET PUBLIC_URL/health` answering as b24app does proves
 * that URL reaches this app (DNS, TLS, the proxy, BASE_PATH), as far as it can be seen from here.
 */
export async function checkHandlerUrl(publicUrl: string, fetchFn: FetchFn, timeoutMs: number): Promise<CheckResult> {
  const name = 'handler URL';
  const events = `${publicUrl}/events`;
  let res: Response;
  try {
    res = await fetchFn(`${publicUrl}/health`, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    return { status: 'fail', name, detail: `${events} is not reachable from here: GET /health: ${describeNetworkError(e, timeoutMs)}` };
  }
  const body = await res.text().catch(() => '');
  if (res.status >= 300 && res.status < 400) {
    return { status: 'fail', name, detail: `${events}: GET /health answered ${res.status} to ${res.headers.get('location') ?? '?'}; set PUBLIC_URL to where it leads` };
  }
  if (res.status !== 200) return { status: 'fail', name, detail: `${events}: GET /health answered ${res.status}` };
  let ours = false;
  try {
    ours = (JSON.parse(body) as { status?: unknown }).status === 'ok';
  } catch {
    // not JSON: not b24app
  }
  if (!ours) return { status: 'fail', name, detail: `${events}: GET /health answered 200, but not as b24app does: does PUBLIC_URL (or BASE_PATH) lead to this app?` };
  return { status: 'ok', name, detail: `${events} reaches the app (GET /health answered 200)` };
}

const REAUTHORIZE = 'needs re-authorization: an administrator opens the app';

/** Why the app tokens failed, in the operator's words. */
function tokenFailure(portal: Portal, e: BitrixError): CheckResult {
  const name = 'app tokens';
  const at = portal.domain;
  if (e.code === LocalCode.noTokens) return { status: 'fail', name, detail: `${at}: none stored; ${REAUTHORIZE}` };
  if (e.code === LocalCode.tokensDead) {
    const why = e.refusal
      ? codeRow(e.refusal).appGone
        ? `Bitrix24 refused the refresh with ${e.refusal}: the app was removed from the portal, or BITRIX24_CLIENT_SECRET is wrong`
        : `Bitrix24 refused the refresh with ${e.refusal}`
      : 'the refresh token was refused earlier';
    const claim = portal.uninstallClaim ? '; an uninstall event is waiting for confirmation' : '';
    return { status: 'fail', name, detail: `${at}: ${REAUTHORIZE} (${why}${claim})` };
  }
  if (isUnanswered(e) && codeRow(e.code).appError === 'rate_limited') {
    return { status: 'warn', name, detail: `${at}: not checked, the portal is rate limiting (${e.code}); run again later` };
  }
  if (isUnanswered(e)) return { status: 'fail', name, detail: `${at}: Bitrix24 did not answer app.info (${e.code}${e.status ? `, HTTP ${e.status}` : ''}: ${e.description})` };
  return { status: 'fail', name, detail: `${at}: app.info failed: ${e.code}${e.description ? ` (${e.description.slice(0, 200)})` : ''}` };
}

interface AppInfo {
  STATUS?: string;
  INSTALLED?: boolean;
  PAYMENT_EXPIRED?: string;
}

export async function checkAppTokens(bitrix: Bitrix, portal: Portal): Promise<CheckResult> {
  const name = 'app tokens';
  let info: AppInfo;
  try {
    info = (await bitrix.client(portal, { kind: 'app' }, { maxRetries: 0 }).call<AppInfo>('app.info')).result ?? {};
  } catch (e) {
    if (e instanceof BitrixError) return tokenFailure(portal, e);
    throw e;
  }
  const status = info.STATUS ? `status ${info.STATUS}` : 'no status';
  if (info.PAYMENT_EXPIRED === 'Y') return { status: 'warn', name, detail: `${portal.domain}: live, but the subscription has expired (app.info: ${status}, PAYMENT_EXPIRED)` };
  if (info.INSTALLED === false) return { status: 'warn', name, detail: `${portal.domain}: live, but the install was not finished (app.info: INSTALLED false)` };
  return { status: 'ok', name, detail: `${portal.domain}: live (app.info answered: ${status})` };
}

/** `event.get` against NEEDED_BINDINGS, matched as the installer matches them. */
export async function checkBindings(bitrix: Bitrix, portal: Portal, eventsUrl: string): Promise<CheckResult> {
  const name = 'bindings';
  let bound: BoundEvent[];
  try {
    const answer = await bitrix.client(portal, { kind: 'app' }, { maxRetries: 0 }).call<BoundEvent[]>('event.get');
    bound = Array.isArray(answer.result) ? answer.result : [];
  } catch (e) {
    if (e instanceof BitrixError) return { status: 'fail', name, detail: `${portal.domain}: event.get failed: ${e.code}` };
    throw e;
  }
  const missing = missingBindings(bound, eventsUrl);
  if (!missing.length) return { status: 'ok', name, detail: `${portal.domain}: every needed event is bound to ${eventsUrl}` };
  const names = missing.map((b) => (b.offline ? `${b.event} (offline)` : b.event));
  const elsewhere = [...new Set(bound.filter((b) => Number(b.offline) !== 1 && typeof b.handler === 'string' && b.handler !== eventsUrl).map((b) => b.handler as string))];
  const note = elsewhere.length ? `; handlers bound elsewhere: ${elsewhere.slice(0, 3).join(', ')}` : '';
  // Without ONAPPUNINSTALL an uninstall goes unnoticed; the others only slow the calendar's sync.
  const status = missing.some((b) => b.event === 'ONAPPUNINSTALL' && !b.offline) ? 'fail' : 'warn';
  return { status, name, detail: `${portal.domain}: missing: ${names.join(', ')}${note}` };
}

/** The first `limit` installed portals by id, each its tokens then its bindings, yielded in portal order. */
export async function* checkPortals(store: Store, bitrix: Bitrix, eventsUrl: string, limit = PORTAL_LIMIT): AsyncGenerator<CheckResult> {
  const portals = await store.portals.listInstalled(0, limit + 1);
  const count = portals.length > limit ? `more than ${limit} installed; checking the first ${limit} (by id)` : `${portals.length} installed`;
  yield { status: 'ok', name: 'portals', detail: portals.length ? count : 'none installed yet' };
  const checked = portals.slice(0, limit);
  for (let i = 0; i < checked.length; i += CONCURRENCY) {
    const rounds = await Promise.all(
      checked.slice(i, i + CONCURRENCY).map(async (portal) => {
        const tokens = await guarded('app tokens', () => checkAppTokens(bitrix, portal));
        // Dead or unreachable tokens would fail event.get the same way: one line says it.
        if (tokens.status === 'fail') return [tokens];
        return [tokens, await guarded('bindings', () => checkBindings(bitrix, portal, eventsUrl))];
      }),
    );
    yield* rounds.flat();
  }
}
