/**
 * Reads what Bitrix24 (or a browser form) posted: url-encoded or multipart bodies become
 * URLSearchParams, merged over the query string the way PHP's $_REQUEST does (body wins).
 *
 * Everything here is done before anyone is authenticated, so it is bounded: bodies by the server's
 * maxRequestBodySize, fields by MAX_FORM_FIELDS (PHP's own max_input_vars default) before any
 * per-field work, and the merge is linear. A body that cannot be read is a 400, never a 500.
 */
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
