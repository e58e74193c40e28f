/**
 * Bitrix24 posts events as PHP-style forms: `auth[access_token]=…&data[CLEAN]=1`. This turns such a
 * body into nested objects of strings. Depth and size are bounded: the input is from the network.
 */
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
