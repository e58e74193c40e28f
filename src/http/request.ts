/**
 * Reading what a request carries, with the limits of a server that reads before it knows who is
 * asking. Never a 500 for bad input.
 *
 * Forms (what Bitrix24 or a browser posted): url-encoded or multipart bodies become URLSearchParams,
 * merged over the query string the way PHP's $_REQUEST does (body wins). Bounded: bodies by the
 * server's maxRequestBodySize, fields by MAX_FORM_FIELDS (PHP's own max_input_vars default) before
 * any per-field work, and the merge is linear. A body that cannot be read is a 400.
 *
 * Bitrix24's events are PHP-style forms (`auth[access_token]=…&data[CLEAN]=1`): `parsePhpForm`
 * turns one into nested objects of strings, depth- and size-bounded.
 *
 * JSON bodies: JSON only (415), at most 64 KB (413), well-formed (400), and of the expected TypeBox
 * shape (422 with per-field messages).
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError } from '../domain/errors.ts';

export const MAX_FORM_FIELDS = 1000;

const tooMany = () => new AppError('payload_too_large', `The form has more than ${MAX_FORM_FIELDS} fields.`);

async function readBody(request: Request): Promise<[string, string][]> {
  const type = request.headers.get('content-type') ?? '';
  if (type.startsWith('multipart/form-data')) {
    let data: FormData;
    try {
      data = await request.formData();
    } catch {
      throw new AppError('invalid', 'The form could not be read.');
    }
    const fields: [string, string][] = [];
    for (const [k, v] of data) {
      if (fields.length >= MAX_FORM_FIELDS) throw tooMany();
      if (typeof v === 'string') fields.push([k, v]);
    }
    return fields;
  }
  let text: string;
  try {
    text = await request.text();
  } catch {
    throw new AppError('invalid', 'The form could not be read.');
  }
  let separators = 0;
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) {
    if (++separators >= MAX_FORM_FIELDS) throw tooMany();
  }
  return [...new URLSearchParams(text)];
}

export async function readForm(request: Request): Promise<URLSearchParams> {
  const query = new URLSearchParams(new URL(request.url).search);
  if (query.size > MAX_FORM_FIELDS) throw tooMany();
  const body = request.method === 'GET' || request.method === 'HEAD' ? [] : await readBody(request);
  if (body.length === 0) return query;
  // Body wins, one value per name (its last), as URLSearchParams.set did — in one pass, not n² sets.
  const merged = new Map<string, string>();
  for (const [k, v] of query) if (!merged.has(k)) merged.set(k, v);
  for (const [k, v] of body) {
    merged.delete(k);
    merged.set(k, v);
  }
  return new URLSearchParams([...merged]);
}

/**
 * A route's `transform` hook that turns the named query parameters into numbers where their text is a
 * whole number to JavaScript's `Number` (`5`, ` 5 `, `+5`, `5.0`, `1e1`: what Elysia's `t.Integer`
 * took, so no client that worked before breaks), so the route validates them with TypeBox's own
 * `Type.Integer`: the bounds and the documented schema of `t.Integer`, without its transform, which
 * the handler Elysia composes decodes twice per request (about 8 % of the list's time under load;
 * docs/performance.md). Anything else (a word, a fraction, a digit of another script) stays text and
 * fails validation: 400, with the message under the parameter's own name.
 */
export const integerQuery =
  (...keys: string[]) =>
  ({ query }: { query: Record<string, unknown> }): void => {
    for (const key of keys) {
      const value = query[key];
      if (typeof value !== 'string' || value === '') continue;
      const n = Number(value);
      if (Number.isInteger(n)) query[key] = n;
    }
  };

export const JSON_BODY_MAX = 64 * 1024;

export async function readJsonBody<S extends TSchema>(request: Request, schema: S): Promise<Static<S>> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw new AppError('unsupported_media_type', 'Send the body as application/json.');
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > JSON_BODY_MAX) throw new AppError('payload_too_large', 'The body is larger than 64 KB.');
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > JSON_BODY_MAX) throw new AppError('payload_too_large', 'The body is larger than 64 KB.');
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new AppError('invalid', 'The body is not valid JSON.');
  }
  if (!Value.Check(schema, value)) {
    const fields: Record<string, string> = {};
    for (const e of Value.Errors(schema, value)) {
      const key = e.path.replace(/^\//, '').replace(/\//g, '.') || 'body';
      fields[key] ??= e.message;
    }
    throw new AppError('unprocessable', 'Some fields are invalid.', { fields });
  }
  return value as Static<S>;
}

export type FormValue = string | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

const MAX_DEPTH = 5;
const MAX_FIELDS = 500;

export function parsePhpForm(params: URLSearchParams): FormObject {
  const root: FormObject = Object.create(null);
  let count = 0;
  for (const [rawKey, value] of params) {
    if (++count > MAX_FIELDS) break;
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    if (!m) continue;
    const path = [m[1]!, ...[...m[2]!.matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1]!)];
    if (path.length > MAX_DEPTH || path.some((p) => p === '' || p === '__proto__')) continue;
    let node = root;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (typeof next === 'object') node = next;
      else node = node[key] = Object.create(null) as FormObject;
    }
    node[path[path.length - 1]!] = value;
  }
  return root;
}

/** A string at `obj[a][b]…`, or '' when absent or not a string. */
export function formString(obj: FormObject, ...path: string[]): string {
  let node: FormValue | undefined = obj;
  for (const key of path) node = typeof node === 'object' ? node[key] : undefined;
  return typeof node === 'string' ? node : '';
}
