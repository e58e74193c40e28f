/**
 * PHP-style query strings (`filter[>ID]=5&select[0]=ID`), the form Bitrix24 parses batch commands in
 * (`"user.get?FILTER[>ID]=5"`, bitrix24-platform.md §4 Batch). Brackets and `$` are left as they are
 * so `$result[cmd][ID]` references stay readable; PHP's parser accepts them either way.
 */
export function encodeQuery(params: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) appendPairs(parts, encodeKey(key), value);
  return parts.join('&');
}

function appendPairs(parts: string[], key: string, value: unknown): void {
  if (value === undefined) return;
  if (value === null) {
    parts.push(`${key}=`);
    return;
  }
  if (Array.isArray(value)) {
    // PHP reads `a[]=` as an empty string item; an empty array is simply omitted, as http_build_query does.
    value.forEach((v, i) => appendPairs(parts, `${key}[${i}]`, v));
    return;
  }
  if (typeof value === 'object' && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) appendPairs(parts, `${key}[${encodeKey(k)}]`, v);
    return;
  }
  parts.push(`${key}=${encodeValue(scalarText(value))}`);
}

function scalarText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  // As PHP's http_build_query, which Bitrix24's own clients mirror.
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

const encodeKey = (k: string) => encodeValue(k);

function encodeValue(s: string): string {
  return encodeURIComponent(s).replace(/%5B/gi, '[').replace(/%5D/gi, ']').replace(/%24/g, '$');
}
