/**
 * Bodies a hostile client sends: malformed and deeply nested JSON, values of the wrong type, forms
 * with thousands of fields and PHP bracket keys, broken multipart, Unicode that is not valid or not
 * what it looks like, and content types that lie. Sizes stay below the server's 1 MB body limit
 * except where exceeding it is the point.
 *
 * Random forms stay at most 10,000 fields so that a quadratic parser shows up as a slow answer here
 * without freezing the run; the 100,000-field case is its own test (the /health stall check).
 */
import type { Rng } from './hostile-requests.ts';

export interface BodyShape {
  label: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

/** Strings that break naive handling of text: invalid UTF-16, direction overrides, NUL, odd widths. */
export const NASTY_STRINGS = [
  '\uD800', '\uDFFF', 'a\uD800b', '\u202Eevil.exe\u202C', '\u05E9\u05DC\u05D5\u05DD', '\u0000', 'a\u0000b', '\uFEFF',
  '\uFFFF', '\u{1F4A9}'.repeat(100), 'e\u0301'.repeat(50), '\u200B\u200D', '<script>alert(1)</script>', '${7*7}{{7*7}}',
  '../../../../etc/passwd', '%00', '\r\nSet-Cookie: x=1', 'x'.repeat(70_000), '',
];

/** Byte sequences that are not UTF-8: overlong `/`, a UTF-8-encoded lone surrogate, stray bytes. */
const BAD_UTF8 = [[0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xff, 0xfe], [0xf8, 0x88, 0x80, 0x80, 0x80]];

const bytesOf = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));

function manyFields(rng: Rng, n: number): string {
  const style = rng.int(4);
  const key = (i: number) => (style === 0 ? `f${i}` : style === 1 ? 'a' : style === 2 ? `a[${i}][]` : `auth[x${i}]`);
  return Array.from({ length: n }, (_, i) => `${key(i)}=`).join('&');
}

function deepJson(depth: number, kind: number): string {
  return kind === 0 ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function multipart(rng: Rng): BodyShape {
  const b = rng.pick(['x', 'b'.repeat(71), 'b'.repeat(5000), '"quoted"', 'sp ace', '']);
  const part = `--${b}\r\nContent-Disposition: form-data; name="AUTH_ID"\r\n\r\nvalue\r\n`;
  const cases: [string, string][] = [
    ['multipart:no-final-boundary', part],
    ['multipart:no-crlf', `--${b}Content-Disposition: form-data; name="a"value--${b}--`],
    ['multipart:other-boundary', `--other\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--other--\r\n`],
    ['multipart:no-disposition', `--${b}\r\n\r\nv\r\n--${b}--\r\n`],
    ['multipart:file-part', `--${b}\r\nContent-Disposition: form-data; name="event"; filename="../../x.php"\r\nContent-Type: application/x-php\r\n\r\n<?php ?>\r\n--${b}--\r\n`],
    ['multipart:many-parts', `--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\n\r\n`.repeat(2000) + `--${b}--\r\n`],
    ['multipart:empty', ''],
  ];
  const [label, body] = rng.pick(cases);
  const type = rng.pick([`multipart/form-data; boundary=${b}`, 'multipart/form-data', `multipart/form-data; boundary="${b}"; boundary=y`]);
  return { label: `${label}${b.length > 70 ? ' (long boundary)' : ''}`, headers: { 'content-type': type }, body };
}

type Kind = 'json' | 'form' | 'other';
type Factory = [Kind, (rng: Rng) => BodyShape];

const FACTORIES: Factory[] = [
  ['json', (rng) => ({ label: 'json:truncated', headers: JSON_TYPE, body: rng.pick(['{"name":', '{', '[', '"', '{"a":1,}', 'NaN', '{"name":"x"}}', '\uFEFF{"name":"x"}']) })],
  ['json', (rng) => ({ label: 'json:deep', headers: JSON_TYPE, body: deepJson(rng.pick([100, 1000, 10_000, 30_000]), rng.int(2)) })],
  ['json', (rng) => ({ label: 'json:wrong-types', headers: JSON_TYPE, body: JSON.stringify(rng.pick<unknown>([
    { AUTH_ID: { toString: 1 }, DOMAIN: 'a.bitrix24.com', member_id: 'm' }, { AUTH_ID: ['x'], DOMAIN: 1, member_id: null },
    { name: { toString: 1 } }, { name: ['a'] }, { name: 1e308 }, { name: 'x', version: '1' }, { name: 'x', data: [1, 2] },
    { name: 'x', starts_at: { $gt: '' } }, { name: 'x', status: 'deleted' }, JSON.parse('{"__proto__":{"isAdmin":true},"name":"x"}'), [], null, 42,
  ])) })],
  ['json', (rng) => {
    const nasty = JSON.stringify(rng.pick(NASTY_STRINGS));
    return { label: 'json:nasty-strings', headers: JSON_TYPE, body: `{"name":${nasty},"data":{"notes":${nasty}},"version":1,"AUTH_ID":${nasty},"DOMAIN":${nasty},"member_id":"m"}` };
  }],
  ['json', (rng) => ({ label: 'json:bad-utf8', headers: JSON_TYPE, body: bytesOf('{"name":"', rng.pick(BAD_UTF8), '"}') })],
  ['json', (rng) => ({ label: 'json:huge-number', headers: JSON_TYPE, body: `{"name":"x","version":${'9'.repeat(rng.pick([20, 400, 5000]))}}` })],
  ['json', () => ({ label: 'json:wide', headers: JSON_TYPE, body: JSON.stringify({ name: 'x', data: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i])) }) })],
  ['json', (rng) => ({ label: 'json:over-limit', headers: JSON_TYPE, body: JSON.stringify({ name: 'x'.repeat(rng.pick([70_000, 900_000])) }) })],
  ['form', (rng) => ({ label: 'form:many-fields', headers: FORM, body: manyFields(rng, rng.pick([1000, 3000, 10_000])) })],
  ['form', (rng) => ({ label: 'form:brackets', headers: FORM, body: rng.pick([
    'auth[member_id][]=x&auth[application_token][a][b][c][d][e][f]=y&event=ONAPPUNINSTALL',
    'auth[__proto__][polluted]=1&event=ONAPPINSTALL', 'auth=1&auth[x]=2&auth[x][y]=3&event=x', '[]=1&[=2&]=3&a]]=4&a[[b]=5',
    'data[CLEAN]=1&event=ONAPPUNINSTALL&auth[member_id]=' + '%00'.repeat(100), `event=${'x'.repeat(10_000)}`,
    'constructor[prototype][x]=1&toString=1&valueOf[]=2&event=ONAPPUNINSTALL',
  ]) })],
  ['form', (rng) => {
    const nasty = rng.pick(NASTY_STRINGS);
    const fields = { AUTH_ID: nasty, DOMAIN: nasty, member_id: nasty, LANG: nasty, name: nasty, notes: nasty, version: nasty, starts_at: nasty, event: nasty };
    return { label: 'form:nasty-values', headers: FORM, body: new URLSearchParams(fields).toString() };
  }],
  ['form', (rng) => ({ label: 'form:bad-percent', headers: FORM, body: rng.pick(['%', '%zz=%zz', 'a=%E0%80%AF', 'AUTH_ID=%ED%A0%80&DOMAIN=%C0%AF', '&&&===&', 'a=b=c=d']) })],
  ['form', (rng) => ({ label: 'form:bad-utf8', headers: FORM, body: bytesOf('AUTH_ID=', rng.pick(BAD_UTF8), '&name=', rng.pick(BAD_UTF8)) })],
  ['form', (rng) => ({ label: 'form:one-huge-field', headers: FORM, body: `AUTH_ID=${'A'.repeat(rng.pick([100_000, 900_000]))}` })],
  ['form', () => ({ label: 'form:over-limit', headers: FORM, body: 'a='.padEnd(1_100_000, 'x') })],
  ['form', multipart],
  ['other', (rng) => ({
    label: 'type:lies',
    headers: { 'content-type': rng.pick(['text/plain', 'application/xml', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded; charset=koi8-r', 'image/png', ';;;', 'application/jsonx']) },
    body: rng.pick(['{"name":"x"}', 'AUTH_ID=x&name=y', '<x/>', '\x89PNG\r\n']),
  })],
  ['other', (rng) => ({ label: 'type:missing', headers: {}, body: rng.pick(['{"name":"x"}', 'AUTH_ID=x', '']) })],
  ['other', (rng) => ({
    label: 'body:binary',
    headers: { 'content-type': rng.pick(['application/json', 'application/x-www-form-urlencoded', 'application/octet-stream']) },
    body: new Uint8Array(Array.from({ length: 2000 }, () => rng.int(256))),
  })],
];

/** One hostile body for `route`: any kind (routes get the wrong kind on purpose), weighted towards
 * the kind the route reads so that its parser, not just the 415, sees hostile input. */
export function badBody(rng: Rng, route: string): BodyShape {
  const launchish = route.endsWith(' /') || route.includes('/install') || route.includes('/events') || route.includes('/ui/');
  const jsonRoute = route.startsWith('POST /api/') || route.startsWith('PUT /api/');
  const preferred: Kind | null = jsonRoute ? 'json' : launchish ? 'form' : null;
  const pool = preferred && rng.next() < 0.6 ? FACTORIES.filter(([k]) => k === preferred) : FACTORIES;
  return rng.pick(pool)[1](rng);
}
