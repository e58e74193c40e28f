/**
 * The REST envelopes of a Bitrix24 portal (CORE restexception.php, CRestUtil::sendHeaders):
 * success `{result, next?, total?, time}`, error `{error, error_description}` with 400 by default,
 * and CORS headers on every answer, including errors.
 */
import type { OperatingUsage } from './operating-limit.ts';

export class RestError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(`${code}: ${description}`);
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, error_description: this.description, ...this.extra };
  }
}

export const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'origin, content-type, accept, authorization',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
};

export interface RestTime {
  start: number;
  finish: number;
  duration: number;
  processing: number;
  date_start: string;
  date_finish: string;
  operating: number;
  operating_reset_at: number;
}

/** ISO 8601 with a numeric offset, as PHP's DATE_ATOM prints it. */
function atom(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/**
 * The `time` block: its dates (start, finish, date_*) on the emulator's clock, its durations measured in
 * real time (a clock moved forward during a call does not make the call look long).
 */
export function buildTime(startMs: number, durationSeconds: number, processingSeconds: number, usage: OperatingUsage): RestTime {
  const finishMs = startMs + durationSeconds * 1000;
  return {
    start: startMs / 1000,
    finish: finishMs / 1000,
    duration: durationSeconds,
    processing: processingSeconds,
    date_start: atom(startMs),
    date_finish: atom(finishMs),
    operating: usage.operating,
    operating_reset_at: usage.operating_reset_at,
  };
}

/** What a method returns: the result plus optional list navigation that CORE lifts to the top level. */
export interface MethodOutcome {
  result: unknown;
  next?: number;
  total?: number;
}

export function restJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...CORS_HEADERS, ...headers },
  });
}

export function restError(error: RestError): Response {
  return restJson(error.toJSON(), error.status);
}

export function restSuccess(outcome: MethodOutcome, time: RestTime): Response {
  const body: Record<string, unknown> = { result: outcome.result };
  if (outcome.next !== undefined) body.next = outcome.next;
  if (outcome.total !== undefined) body.total = outcome.total;
  body.time = time;
  return restJson(body, 200);
}

export function preflight(): Response {
  return new Response(null, { status: 200, headers: { ...CORS_HEADERS, 'Access-Control-Max-Age': '86400' } });
}
