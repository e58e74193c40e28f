/**
 * Portal domains as Bitrix24 writes them: `host[:port]`, lower-case, no default port. Both what a
 * request claims and what the OAuth server vouches for go through `normalizeDomain` before comparing.
 */
const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

export function normalizeDomain(raw: string): string | null {
  const d = raw.trim().toLowerCase().replace(/:(80|443)$/, '');
  return d.length <= 253 && DOMAIN.test(d) ? d : null;
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
