/**
 * Shapes shared by the Bitrix24 client's parts. Field names follow the REST envelope of
 * bitrix24-platform.md §4 where they mirror it (`total`, `next`, `time`).
 */
import type { BitrixError } from './bitrix-error.ts';

/** Request parameters as Bitrix24 reads them: nested objects and arrays become `a[b][0]=…`. */
export type RestParams = Record<string, unknown>;

/** The `time` block of every successful answer; `operating*` appear only in the cloud. */
export interface RestTime {
  start?: number;
  finish?: number;
  duration?: number;
  processing?: number;
  date_start?: string;
  date_finish?: string;
  operating?: number;
  operating_reset_at?: number;
}

export interface RestResult<T = unknown> {
  result: T;
  total?: number;
  next?: number;
  time?: RestTime;
}

/** One leaky bucket's shape: drain per second and how many requests fit before it overflows. */
export interface Limits {
  rate: number;
  burst: number;
}

/** A batch command: `[method, params]` or `{ method, params }`. */
export type BatchCommand = readonly [string, RestParams?] | { method: string; params?: RestParams };

export type BatchOutcome<T = unknown> =
  | { ok: true; result: T; total?: number; next?: number; time?: RestTime }
  | { ok: false; error: BitrixError };

export interface BatchOptions {
  /** Stop at the first failing command (Bitrix24's `halt=1`); later commands report `BATCH_HALTED`. */
  halt?: boolean;
}

export interface ListOptions {
  /**
   * `offset` pages with `start=0,50,…` (counts the total on every page: slow on big tables);
   * `id` pages with `start=-1` ordered by the id field and filtered by `>id` (no counting).
   * Default `offset`, because it keeps the caller's own `order`.
   */
  mode?: 'offset' | 'id';
  /** The id field in the response rows (default `ID`). */
  idField?: string;
  /** The id field's name in `order`/`filter` when it differs from the response (default `idField`). */
  cursorField?: string;
}

/** Knobs with defaults; tests shrink the delays so they run in seconds. */
export interface RetryPolicy {
  /** Attempts after the first for rejections that did not run the method (503 limit, 429, 5xx reads). */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest wait for an operating-limit reset before giving up with `OPERATION_TIME_LIMIT`. */
  maxOperatingWaitMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 5,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxOperatingWaitMs: 60_000,
};

/**
 * What a REST call's outcome was, for metrics: `ok`, or the class of its error by the code table
 * (error-codes.ts). Bounded by construction, whatever code Bitrix24 invents.
 */
export type RestOutcome = 'ok' | 'rate_limited' | 'unauthorized' | 'payment_required' | 'unanswered' | 'error';

/** Where the client waited because of a limit: its own bucket, a method's operating time, a back-off after a 503. */
export type LimitWait = 'bucket' | 'operating' | 'backoff';

/**
 * An optional sink for what the client does (createBitrix's `metrics`; absent: nothing is counted).
 * Calls are synchronous and cheap; the client never waits on them.
 */
export interface BitrixMetrics {
  /** One HTTP request sent to a portal's REST endpoint, with the method it named. */
  restCall(method: string, outcome: RestOutcome): void;
  /** A refresh of stored tokens: new tokens, refused for good (tokens marked dead), or failed unclearly. */
  tokenRefresh(outcome: 'ok' | 'dead' | 'failed'): void;
  /** The client held a call back for `seconds` before sending it. */
  limitWait(reason: LimitWait, seconds: number): void;
  /** Bitrix24 refused a call for a limit. */
  limitAnswer(code: 'QUERY_LIMIT_EXCEEDED' | 'OPERATION_TIME_LIMIT'): void;
}
