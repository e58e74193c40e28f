import { pickLang, type Lang } from '../../views/i18n.ts';

/** The language of a page nobody is signed in to yet: the launch's LANG, else the browser's first language. */
export function pageLang(request: Request): Lang {
  const fromQuery = new URL(request.url).searchParams.get('LANG');
  return pickLang(fromQuery ?? (request.headers.get('accept-language') ?? '').slice(0, 2).toLowerCase());
}
