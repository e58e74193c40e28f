/**
 * Where the client may send tokens. Two rules (architecture §4, issue 4):
 * - OAuth calls (refresh, code exchange, app.info) go only to an allow-listed OAuth server origin;
 * - REST calls go only to a portal's stored `client_endpoint`, over https — plain http only when the
 *   OAuth server the portal belongs to is itself plain http, which is true of the local emulator and
 *   of nothing real.
 * Every refusal is a `BitrixError` with `ENDPOINT_REFUSED`, never a silent fallback.
 */
import { BitrixError, LocalCode } from './bitrix-error.ts';

export interface EndpointPolicy {
  /** The allow-listed origin of `serverEndpoint` (e.g. `https://oauth.bitrix.info`), or a refusal. */
  oauthOrigin(serverEndpoint: string): string;
  /** The REST base (ending in `/`) for a portal whose OAuth server is `serverEndpoint`. */
  portalBase(clientEndpoint: string, serverEndpoint: string): string;
  /** The REST base for a token that is not stored yet (launch checks): http only if some allowed server is. */
  launchBase(clientEndpoint: string): string;
}

export function createEndpointPolicy(oauthServers: readonly string[]): EndpointPolicy {
  const allowed = new Set(oauthServers.map((s) => originOf(s, 'oauth server')));
  const anyHttp = [...allowed].some((o) => o.startsWith('http:'));

  const oauthOrigin = (serverEndpoint: string): string => {
    const origin = originOf(serverEndpoint, 'oauth server');
    if (!allowed.has(origin)) throw refused('oauth', `OAuth server ${origin} is not allow-listed`);
    return origin;
  };

  return {
    oauthOrigin,
    portalBase(clientEndpoint, serverEndpoint) {
      const oauth = oauthOrigin(serverEndpoint);
      return restBase(clientEndpoint, oauth.startsWith('http:'));
    },
    launchBase: (clientEndpoint) => restBase(clientEndpoint, anyHttp),
  };
}

function restBase(clientEndpoint: string, allowHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(clientEndpoint);
  } catch {
    throw refused('rest', 'client endpoint is not a URL');
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    throw refused('rest', `client endpoint must be https (got ${url.protocol})`);
  }
  if (url.username || url.password) throw refused('rest', 'client endpoint carries credentials');
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  return `${url.origin}${path}`;
}

function originOf(s: string, what: string): string {
  try {
    const url = new URL(s);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    return url.origin;
  } catch {
    throw refused('oauth', `${what} is not an http(s) URL`);
  }
}

const refused = (method: string, why: string) => new BitrixError(LocalCode.endpointRefused, why, 0, method);
