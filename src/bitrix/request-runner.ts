/**
 * Runs one REST call to completion: waits its turn in the portal's bucket and operating budget, sends
 * it, and decides what each failure means by the error-code table (error-codes.ts):
 *
 * - `renew token` (401 `expired_token`/`invalid_token`): renew the token (single-flight, see
 *   token-keeper) and resend, once. The server refused before running the method: no duplicate.
 * - `retry` after a back-off (503 `QUERY_LIMIT_EXCEEDED`): the server's bucket is fuller than ours
 *   (other apps on the same IP): mark ours full and retry after a jittered back-off.
 * - `retry` after the operating reset (429 `OPERATION_TIME_LIMIT`): hold the method until its reset,
 *   if that is within reach.
 * - `transient` (timeouts, dropped connections) and any 5xx: retried only when the call is safe to
 *   repeat (reads); for a write the method may have run, so the error goes to the caller, who knows
 *   whether to try again.
 * Every retry counts against `maxRetries`; the single token renewal does not.
 */
import { BitrixError } from './bitrix-error.ts';
import { codeRow, isTransient } from './error-codes.ts';
import type { PortalLimiter } from './portal-limiter.ts';
import type { RestTransport } from './rest-transport.ts';
import type { BitrixMetrics, RestOutcome, RestParams, RestResult, RetryPolicy } from './types.ts';
import type { Logger } from '../log.ts';

export interface TokenSource {
  token(): Promise<string>;
  /** Absent for launch checks: a token we do not store cannot be refreshed. */
  renew?(rejected: string): Promise<string>;
}

export interface RunOptions {
  /** May the call be sent twice if an answer is lost? True for reads. */
  safeToRepeat: boolean;
  /** Fewer retries than the policy's, for a caller that must answer fast and can ask again later. */
  maxRetries?: number;
}

export interface RequestRunner {
  run<T>(base: string, method: string, params: RestParams, auth: TokenSource, opts: RunOptions): Promise<RestResult<T>>;
}

export interface RunnerDeps {
  transport: RestTransport;
  limiter: PortalLimiter;
  retry: RetryPolicy;
  logger?: Logger;
  metrics?: BitrixMetrics;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** The class of a failed call by the code table: limits, then no verdict, then what the caller is told. */
export function outcomeOf(e: unknown): RestOutcome {
  if (!(e instanceof BitrixError)) return 'error';
  const row = codeRow(e.code);
  if (row.appError === 'rate_limited') return 'rate_limited';
  if (row.unanswered || isTransient(e.code, e.status)) return 'unanswered';
  if (row.appError === 'unauthorized' || row.appError === 'payment_required') return row.appError;
  return 'error';
}

export function createRequestRunner(deps: RunnerDeps): RequestRunner {
  const sleep = deps.sleep ?? ((ms: number) => Bun.sleep(ms));
  const random = deps.random ?? Math.random;
  const { retry, metrics } = deps;

  // Full jitter (AWS architecture blog): spreads the herd that a shared 503 creates.
  const backoff = (attempt: number) => {
    const cap = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt);
    return Math.round(cap / 2 + (random() * cap) / 2);
  };

  return {
    async run<T>(base: string, method: string, params: RestParams, auth: TokenSource, opts: RunOptions): Promise<RestResult<T>> {
      const limits = deps.limiter.forBase(base);
      let token = await auth.token();
      let renewed = false;
      let attempt = 0;
      for (;;) {
        const hold = await limits.operating.delayFor(method);
        if (hold > retry.maxOperatingWaitMs) {
          throw new BitrixError('OPERATION_TIME_LIMIT', `method is blocked for another ${Math.ceil(hold / 1000)} s`, 429, method, true);
        }
        if (hold > 0) {
          metrics?.limitWait('operating', hold / 1000);
          await sleep(hold);
        }
        const waited = await limits.bucket.take();
        if (waited > 0) metrics?.limitWait('bucket', waited / 1000);
        try {
          const res = await deps.transport.send<T>(base, method, params, token);
          metrics?.restCall(method, 'ok');
          limits.operating.record(method, res.time);
          return res;
        } catch (e) {
          metrics?.restCall(method, outcomeOf(e));
          if (!(e instanceof BitrixError)) throw e;
          if (e.code === 'QUERY_LIMIT_EXCEEDED' || e.code === 'OPERATION_TIME_LIMIT') metrics?.limitAnswer(e.code);
          const { action, wait } = codeRow(e.code);
          if (action === 'renew token' && auth.renew && !renewed) {
            renewed = true;
            token = await auth.renew(token);
            continue;
          }
          if (attempt >= Math.min(retry.maxRetries, opts.maxRetries ?? Infinity)) throw e;
          if (wait === 'back off') {
            limits.bucket.fill();
            deps.logger?.debug('bitrix limit hit; backing off', { method, attempt });
            const pause = backoff(attempt++);
            metrics?.limitWait('backoff', pause / 1000);
            await sleep(pause);
            continue;
          }
          if (wait === 'operating reset') {
            const waitMs = limits.operating.blocked(method);
            if (waitMs > retry.maxOperatingWaitMs || opts.maxRetries === 0) throw e;
            deps.logger?.warn('bitrix operating limit hit; waiting for reset', { method, waitMs });
            attempt++;
            continue; // the budget holds the method at the top of the loop
          }
          if (isTransient(e.code, e.status) && opts.safeToRepeat) {
            deps.logger?.debug('bitrix transient failure; retrying read', { method, code: e.code, attempt });
            await sleep(backoff(attempt++));
            continue;
          }
          throw e;
        }
      }
    },
  };
}
