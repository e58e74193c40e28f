/**
 * One HTTP exchange with a portal's REST endpoint, nothing more: no retries, no limits, no refresh.
 * Sends a JSON POST with `auth` in the body (as the official JS SDK does; the token stays out of URLs
 * and therefore out of access logs), bounded by a timeout, and turns the answer into a `RestResult` or
 * a `BitrixError`. A renamed portal answers 302 (bitrix24-platform.md §4): the POST is re-sent once to
 * the new host, never followed as a GET, and the caller is told so it can update the stored endpoint.
 */
import { BitrixError, LocalCode, scrubSecrets } from './bitrix-error.ts';
import { codeRow } from './error-codes.ts';
import type { RestParams, RestResult } from './types.ts';

export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export interface RestTransport {
  send<T>(base: string, method: string, params: RestParams, accessToken: string): Promise<RestResult<T>>;
}

export interface TransportOptions {
  fetch: FetchFn;
  timeoutMs: number;
  /** Called when a portal moved; `newBase` keeps the old path and scheme. */
  onMoved?: (oldBase: string, newBase: string) => void;
}

export function createRestTransport(opts: TransportOptions): RestTransport {
  const post = async (url: string, body: string, method: string): Promise<Response> => {
    try {
      return await opts.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      throw new BitrixError(timedOut ? LocalCode.timeout : LocalCode.network, timedOut ? `no answer within ${opts.timeoutMs} ms` : 'connection failed', 0, method);
    }
  };

  return {
    async send<T>(base: string, method: string, params: RestParams, accessToken: string): Promise<RestResult<T>> {
      const body = JSON.stringify({ ...params, auth: accessToken });
      let res = await post(`${base}${method}`, body, method);
      if (isRedirect(res.status)) {
        const moved = movedBase(base, res.headers.get('location'));
        if (!moved) throw new BitrixError(LocalCode.badResponse, `redirect ${res.status} to an unusable location`, res.status, method);
        opts.onMoved?.(base, moved);
        res = await post(`${moved}${method}`, body, method);
      }
      return parseAnswer<T>(res, method, accessToken);
    },
  };
}

async function parseAnswer<T>(res: Response, method: string, accessToken: string): Promise<RestResult<T>> {
  let text: string;
  try {
    text = await res.text();
  } catch {
    throw new BitrixError(LocalCode.network, 'connection dropped while reading the answer', res.status, method);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BitrixError(LocalCode.badResponse, `non-JSON answer (HTTP ${res.status})`, res.status, method);
  }
  if (!json || typeof json !== 'object') throw new BitrixError(LocalCode.badResponse, `unexpected answer (HTTP ${res.status})`, res.status, method);
  const env = json as Record<string, unknown>;
  if ('error' in env) {
    const code = typeof env.error === 'string' && env.error ? env.error : 'ERROR_UNSPECIFIED';
    const description = scrubSecrets(String(env.error_description ?? ''), [accessToken]);
    // Codes with which Bitrix24 refuses before running the method (the table's `notExecuted`): a retry is no duplicate.
    throw new BitrixError(code, description, res.status, method, codeRow(code).notExecuted === true);
  }
  if (res.status >= 400 || !('result' in env)) {
    throw new BitrixError(LocalCode.badResponse, `answer without result (HTTP ${res.status})`, res.status, method);
  }
  const out: RestResult<T> = { result: env.result as T };
  if (typeof env.total === 'number') out.total = env.total;
  if (typeof env.next === 'number') out.next = env.next;
  if (env.time && typeof env.time === 'object') out.time = env.time as RestResult['time'];
  return out;
}

const isRedirect = (s: number) => s === 301 || s === 302 || s === 307 || s === 308;

/** The new host with the old scheme and path: a redirect may move the portal, not downgrade or re-path it. */
function movedBase(base: string, location: string | null): string | null {
  if (!location) return null;
  try {
    const old = new URL(base);
    const next = new URL(location, base);
    if (next.protocol !== old.protocol || next.username || next.password) return null;
    return `${old.protocol}//${next.host}${old.pathname}`;
  } catch {
    return null;
  }
}
