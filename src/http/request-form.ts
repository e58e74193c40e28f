/**
 * Reads what Bitrix24 (or a browser form) posted: url-encoded or multipart bodies become
 * URLSearchParams, merged over the query string the way PHP's $_REQUEST does (body wins).
 * Bodies are bounded by the server's maxRequestBodySize.
 */
export async function readForm(request: Request): Promise<URLSearchParams> {
  const url = new URL(request.url);
  const merged = new URLSearchParams(url.search);
  if (request.method === 'GET' || request.method === 'HEAD') return merged;
  const type = request.headers.get('content-type') ?? '';
  let body: URLSearchParams;
  if (type.startsWith('multipart/form-data')) {
    body = new URLSearchParams();
    for (const [k, v] of await request.formData()) if (typeof v === 'string') body.append(k, v);
  } else {
    body = new URLSearchParams(await request.text());
  }
  for (const [k, v] of body) merged.set(k, v);
  return merged;
}
