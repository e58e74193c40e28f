/**
 * `GET|POST /_emulator/clock`: the emulator's time (clock.ts). POST `{advance_s: N}` moves it forward N
 * seconds (a non-negative integer, at most 20 years); both answer `{now, offset_s}` in unix seconds.
 */
import { jsonResponse } from './html.ts';
import type { World } from './world.ts';

/** 20 years of 365.25 days: enough to outlive any token, small enough to stay an exact date. */
export const MAX_ADVANCE_SECONDS = 20 * 36_525 * 864;

function clockView(world: World) {
  return { now: world.clock.nowSeconds(), offset_s: world.clock.offsetSeconds() };
}

function readSeconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= MAX_ADVANCE_SECONDS ? n : undefined;
}

export function handleClockControl(world: World, method: string, body: Record<string, unknown>): Response {
  if (method === 'GET') return jsonResponse(clockView(world));
  if (method !== 'POST') return jsonResponse({ error: 'method_not_allowed' }, 405);
  const seconds = readSeconds(body.advance_s);
  if (seconds === undefined) {
    return jsonResponse({ error: `advance_s must be an integer from 0 to ${MAX_ADVANCE_SECONDS} (seconds)` }, 400);
  }
  world.clock.advance(seconds);
  return jsonResponse(clockView(world));
}
