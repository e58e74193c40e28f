import type { Children } from '@kitajs/html';

export interface PageAssets {
  css: string;
  htmx?: string;
  alpine?: string;
  island?: string;
  /** Where the BX24 library comes from (BX24_SDK_URL); only pages that run inside the portal frame load it. */
  bx24?: string;
}

export interface LayoutProps {
  title: string;
  lang: string;
  assets: PageAssets;
  /** Extra attributes for <body> (htmx headers with the session, Alpine state). */
  bodyAttrs?: Record<string, string>;
  /** Extra elements for <head> (meta configuration). */
  head?: Children;
  children?: Children;
}

/** The HTML document around every page: our stylesheet, and scripts only when the page needs them. */
export function Layout({ title, lang, assets, bodyAttrs = {}, head, children }: LayoutProps) {
  return (
    <>
      {'<!doctype html>'}
      <html lang={lang}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="referrer" content="no-referrer" />
          <link rel="icon" href="data:," />
          <title safe>{title}</title>
          <link rel="stylesheet" href={assets.css} />
          {head ?? ''}
          {assets.bx24 ? <script src={assets.bx24}></script> : ''}
          {assets.htmx ? <script src={assets.htmx} defer></script> : ''}
          {assets.island ? <script src={assets.island} defer></script> : ''}
          {assets.alpine ? <script src={assets.alpine} defer></script> : ''}
        </head>
        <body {...bodyAttrs}>{children}</body>
      </html>
    </>
  );
}
