/**
 * PHP's view of form data, which is what Bitrix24 speaks: `filter[>ID]=5&select[]=ID` becomes nested
 * arrays on the way in (CRestUtil::getRequestData uses PHP's parser), and outgoing events are built with
 * http_build_query, i.e. bracket keys and string values.
 */

export type PhpValue = string | PhpValue[] | { [key: string]: PhpValue };

type Node = Map<string, Node | string>;

/** Splits `a[b][]` into `['a', 'b', '']`; a key with unbalanced brackets is taken literally, as PHP does. */
function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const parts = [key.slice(0, open)];
  const rest = key.slice(open);
  const re = /\[([^\]]*)\]/gy;
  let consumed = 0;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    parts.push(m[1] ?? '');
    consumed = re.lastIndex;
  }
  return consumed === 0 ? [key] : parts;
}

function nextIndex(node: Node): string {
  let max = -1;
  for (const k of node.keys()) if (/^(0|[1-9]\d*)$/.test(k)) max = Math.max(max, Number(k));
  return String(max + 1);
}

/** PHP arrays with keys 0..n-1 in order serialise as lists; anything else as an object. */
function finalize(node: Node): PhpValue {
  const keys = [...node.keys()];
  const isList = keys.every((k, i) => k === String(i));
  const convert = (v: Node | string): PhpValue => (typeof v === 'string' ? v : finalize(v));
  if (isList) return keys.map((k) => convert(node.get(k) as Node | string));
  const out: { [key: string]: PhpValue } = {};
  for (const k of keys) out[k] = convert(node.get(k) as Node | string);
  return out;
}

export function parsePhpPairs(pairs: Iterable<[string, string]>): Record<string, PhpValue> {
  const root: Node = new Map();
  for (const [rawKey, value] of pairs) {
    if (rawKey === '') continue;
    const path = splitKey(rawKey);
    let node = root;
    for (let i = 0; i < path.length; i++) {
      let seg = path[i] ?? '';
      if (seg === '' && i > 0) seg = nextIndex(node);
      if (i === path.length - 1) {
        node.set(seg, value);
        break;
      }
      let child = node.get(seg);
      if (!(child instanceof Map)) {
        child = new Map();
        node.set(seg, child);
      }
      node = child;
    }
  }
  const result = finalize(root);
  if (Array.isArray(result)) return Object.fromEntries(result.map((v, i) => [String(i), v]));
  return typeof result === 'string' ? {} : result;
}

/** Parses an url-encoded string (`+` is a space, as in PHP). */
export function parsePhpQuery(query: string): Record<string, PhpValue> {
  return parsePhpPairs(new URLSearchParams(query).entries());
}

/** http_build_query: nested values become bracket keys; booleans become "1"/"0" and null is dropped. */
export function encodePhpPairs(value: unknown, prefix = ''): [string, string][] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'object' && !(value instanceof Date)) {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    return entries.flatMap(([k, v]) => encodePhpPairs(v, prefix ? `${prefix}[${k}]` : k));
  }
  if (typeof value === 'boolean') return [[prefix, value ? '1' : '0']];
  if (value instanceof Date) return [[prefix, value.toISOString()]];
  return [[prefix, String(value)]];
}

export function encodePhpForm(value: Record<string, unknown>): string {
  return new URLSearchParams(encodePhpPairs(value)).toString();
}

/**
 * json_encode of a PHP array built key by key: keys 0..n-1 in order give a JSON list, an empty array
 * gives `[]` (not `{}`), anything else an object. Batch sections depend on this.
 */
export function toPhpJson(entries: [string, unknown][]): unknown {
  if (entries.every(([k], i) => k === String(i))) return entries.map(([, v]) => v);
  return Object.fromEntries(entries);
}
