/**
 * A Bitrix24 client over a scripted fetch and an in-memory token repo holding the app's pair for
 * `fakePortal()`: unit tests of the client's decisions, with short delays and timeouts.
 */
import { createBitrix, type BitrixOptions } from '../../../src/bitrix/index.ts';
import { createMemoryTokenRepo } from './memory-token-repo.ts';
import { fakePortal, scriptedFetch, type Script } from './fake-portal.ts';

export const ACCESS = 'access-token-0123456789abcdef';
export const REFRESH = 'refresh-token-0123456789abcdef';

/** `stored: false` starts with no tokens at all. */
export async function scriptedBitrix(script: Script, opts: Partial<BitrixOptions> & { stored?: boolean } = {}) {
  const { stored = true, ...extra } = opts;
  const tokens = createMemoryTokenRepo();
  if (stored) {
    await tokens.save(1, { kind: 'app' }, 1, { accessToken: ACCESS, refreshToken: REFRESH, expiresAt: Math.floor(Date.now() / 1000) + 3600, scope: 'user' });
  }
  const f = scriptedFetch(script);
  const bitrix = createBitrix({
    store: { tokens },
    clientId: 'app.1',
    clientSecret: 'secret-0123456789',
    oauthServers: ['https://oauth.example'],
    fetch: f.fetch,
    retry: { baseDelayMs: 5, maxDelayMs: 20, maxRetries: 3 },
    limits: { rate: 100, burst: 50 },
    timeoutMs: 200,
    ...extra,
  });
  return { bitrix, client: bitrix.client(fakePortal(), { kind: 'app' }), seen: f.seen, tokens };
}
