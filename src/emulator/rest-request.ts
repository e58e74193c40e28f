/**
 * Reads a REST call the way CORE does (CRestUtil::getRequestData, OAuth auth.php): the method from the
 * path (`/rest/user.current` or `/rest/user.current.json`, double slashes tolerated, case-insensitive),
 * parameters from the query merged with the body (JSON when the Content-Type says so, multipart, else a
 * PHP form whatever the Content-Type: BX24.js posts form data as text/plain), and the token from `auth` /
 * `access_token` or `Authorization: Bearer`.
 */
import { parsePhpPairs, parsePhpQuery } from './php-form.ts';

export type Params = Record<string, unknown>;

export interface RestRequest {
  method: string;
  params: Params;
  auth?: string;
}

export function methodFromPath(pathname: string): string | undefined {
  const path = pathname.replace(/\/{2,}/g, '/');
  if (!path.startsWith('/rest/')) return undefined;
  let method = path.slice('/rest/'.length).replace(/\/+$/, '');
  try {
    method = decodeURIComponent(method);
  } catch {
    return undefined;
  }
  return method.replace(/\.(json|xml)$/i, '').toLowerCase();
}

async function readBody(req: Request): Promise<Params> {
  if (req.method !== 'POST' && req.method !== 'PUT') return {};
  const type = (req.headers.get('content-type') ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    const form = await req.formData();
    const pairs: [string, string][] = [];
    form.forEach((v, k) => pairs.push([k, typeof v === 'string' ? v : v.name]));
    return parsePhpPairs(pairs);
  }
  const text = await req.text();
  if (text.trim() === '') return {};
  if (type.includes('json')) {
    try {
      const parsed: unknown = JSON.parse(text);
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Params) : {};
    } catch {
      return {};
    }
  }
  return parsePhpQuery(text);
}

export async function readRestParams(req: Request, url: URL): Promise<{ params: Params; auth?: string }> {
  const params: Params = { ...parsePhpQuery(url.search.slice(1)), ...(await readBody(req)) };
  let auth: string | undefined;
  for (const key of ['auth', 'access_token']) {
    const value = params[key];
    if (typeof value === 'string' && value !== '' && auth === undefined) auth = value;
    delete params[key];
  }
  const header = req.headers.get('authorization') ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (auth === undefined && bearer) auth = bearer;
  return auth === undefined ? { params } : { params, auth };
}

/** Upper-cases the top-level keys, as many CORE methods do before reading their arguments. */
export function upperKeys(params: Params): Params {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k.toUpperCase(), v]));
}

export function asString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function asObject(value: unknown): Params | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Params) : undefined;
}
