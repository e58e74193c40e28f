/**
 * `$result[key][field][0]` references (bitrix24-platform.md §4 Batch). Bitrix24 resolves them only
 * within one batch request; we send at most 50 commands per request, so a reference to a command in an
 * earlier chunk is resolved here, with the server's rules: a parameter that is exactly one reference
 * gets the raw value, a reference inside a longer text is replaced by its text, and an unknown path is
 * left as it is. References to commands in the same chunk are left for the server.
 */
import type { RestParams } from './types.ts';

const REFERENCE = /\$result\[([^\]]+)\]((?:\[[^\]]*\])*)/g;
const WHOLE = /^\$result\[([^\]]+)\]((?:\[[^\]]*\])*)$/;

/** Results of commands already run, by key; absent keys are unknown (not run, or failed). */
export type KnownResults = ReadonlyMap<string, unknown>;

export function resolveReferences(params: RestParams, known: KnownResults): RestParams {
  if (known.size === 0) return params;
  return resolveValue(params, known) as RestParams;
}

function resolveValue(value: unknown, known: KnownResults): unknown {
  if (typeof value === 'string') return resolveString(value, known);
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, known));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveValue(v, known);
    return out;
  }
  return value;
}

function resolveString(s: string, known: KnownResults): unknown {
  if (!s.includes('$result[')) return s;
  const whole = WHOLE.exec(s);
  if (whole) {
    const found = lookup(known, whole[1] ?? '', whole[2] ?? '');
    return found.ok ? found.value : s;
  }
  return s.replace(REFERENCE, (match, key: string, path: string) => {
    const found = lookup(known, key, path);
    if (!found.ok || (found.value !== null && typeof found.value === 'object')) return match;
    return String(found.value ?? '');
  });
}

function lookup(known: KnownResults, key: string, path: string): { ok: true; value: unknown } | { ok: false } {
  if (!known.has(key)) return { ok: false };
  let cur: unknown = known.get(key);
  for (const m of path.matchAll(/\[([^\]]*)\]/g)) {
    const seg = m[1] ?? '';
    if (cur === null || typeof cur !== 'object' || !(seg in (cur as object))) return { ok: false };
    cur = (cur as Record<string, unknown>)[seg];
  }
  return { ok: true, value: cur };
}
