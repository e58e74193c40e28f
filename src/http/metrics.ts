/**
 * GET /metrics (contract; docs/operations.md): the Prometheus exposition of src/metrics. It reveals
 * usage, so it answers only to loopback, to the addresses (or CIDR ranges) in METRICS_ALLOW, and,
 * when METRICS_TOKEN is set, to `Authorization: Bearer <METRICS_TOKEN>`. Anyone else is not told it
 * exists: the request goes on to the route table, which does not know the path, so the answer is
 * the very 404 any unknown path gets (never 403, never 405).
 *
 * The client address is the edge's (TRUST_PROXY decides whether X-Forwarded-For counts). Without
 * TRUST_PROXY every request nginx forwards comes from loopback, so /metrics must never be proxied.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { Config } from '../config.ts';
import { EXPOSITION_CONTENT_TYPE } from '../metrics/registry.ts';
import type { RequestMeta } from './edge.ts';

export const METRICS_PATH = '/metrics';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** The scrapers METRICS_ALLOW and METRICS_TOKEN admit, besides loopback. */
export function metricsAccess(config: Pick<Config, 'metricsAllow' | 'metricsToken'>): (request: Request, clientIp: string) => boolean {
  const allowed = new BlockList();
  allowed.addSubnet('127.0.0.0', 8, 'ipv4');
  allowed.addAddress('::1', 'ipv6');
  for (const entry of config.metricsAllow) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) allowed.addAddress(address, family);
    else allowed.addSubnet(address, Number(prefix), family);
  }
  const expected = config.metricsToken ? digest(config.metricsToken) : null;
  return (request, clientIp) => {
    const family = isIP(clientIp);
    if (family && allowed.check(clientIp, family === 6 ? 'ipv6' : 'ipv4')) return true;
    if (!expected) return false;
    const presented = /^Bearer\s+(\S+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
    // Digests of equal length, so the comparison's time says nothing about the token.
    return presented !== undefined && timingSafeEqual(digest(presented), expected);
  };
}

/**
 * The /metrics answer for an admitted GET or HEAD, or null: the caller hands the request on to the
 * route table as if this did not exist.
 */
export function metricsEndpoint(config: Pick<Config, 'metricsAllow' | 'metricsToken'>, meta: RequestMeta, scrape: () => Promise<string>) {
  const admits = metricsAccess(config);
  return (request: Request, path: string): Promise<Response> | null => {
    if (path !== METRICS_PATH || (request.method !== 'GET' && request.method !== 'HEAD')) return null;
    if (!admits(request, meta.clientIp(request))) return null;
    meta.noteRoute(request, METRICS_PATH);
    return scrape().then(
      (text) => new Response(request.method === 'HEAD' ? null : text, { headers: { 'content-type': EXPOSITION_CONTENT_TYPE, 'cache-control': 'no-store' } }),
    );
  };
}
