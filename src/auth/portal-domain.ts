/**
 * Portal domains as Bitrix24 writes them: `host[:port]`, lower-case, no default port. Both what a
 * request claims and what the OAuth server vouches for go through `normalizeDomain` before comparing.
 */
const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

export function normalizeDomain(raw: string): string | null {
  const d = raw.trim().toLowerCase().replace(/:(80|443)$/, '');
  if (d.length > 253 || !DOMAIN.test(d)) return null;
  const port = /:(\d+)$/.exec(d)?.[1];
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535) ? d : null;
}

/** Whether a normalised domain's host ends with one of the suffixes (each starting with a dot). */
export function domainMatches(domain: string, suffixes: readonly string[]): boolean {
  const host = domain.replace(/:\d+$/, '');
  return suffixes.some((s) => host.endsWith(s));
}

/** The host[:port] of a URL, normalised the same way; null when not a URL. */
export function domainOfUrl(url: string): string | null {
  try {
    return normalizeDomain(new URL(url).host);
  } catch {
    return null;
  }
}

/** The portal's browser origin, from its verified REST endpoint (scheme) and domain. */
export function portalOrigin(clientEndpoint: string): string {
  return new URL(clientEndpoint).origin;
}

/**
 * The portal's origin for links into Bitrix24, from its verified REST endpoint; null unless it is an
 * http(s) origin (a link must never become another scheme).
 */
export function linkableOrigin(clientEndpoint: string): string | null {
  try {
    const origin = portalOrigin(clientEndpoint);
    return /^https?:\/\//.test(origin) ? origin : null;
  } catch {
    return null;
  }
}

/** The portal's Bitrix24 Market, where an administrator renews a lapsed subscription; null when not linkable. */
export function marketUrl(clientEndpoint: string): string | null {
  const origin = linkableOrigin(clientEndpoint);
  return origin && `${origin}/market/`;
}
