/**
 * Everything that speaks Bitrix24 REST, built from its dependencies (no module state):
 *
 *   const bitrix = createBitrix({ store, clientId, clientSecret, oauthServers });
 *   const client = bitrix.client(portal, { kind: 'app' });
 *   await client.call('user.current');
 *
 * One instance per process holds the per-portal buckets and the in-flight refreshes, so every client
 * it hands out shares them. Launch verification (issue 5) uses `oauth.appInfo` and `callWithToken`
 * for tokens that are not stored yet.
 */
import { createEndpointPolicy } from './endpoint-policy.ts';
import { createOAuthClient, type OAuthClient } from './oauth-client.ts';
import { defaultOperatingOptions, type OperatingOptions } from './operating-budget.ts';
import { createPortalLimiter } from './portal-limiter.ts';
import { createRequestRunner } from './request-runner.ts';
import { createRestClient, type ClientOptions, type RestClient } from './rest-client.ts';
import { createRestTransport, type FetchFn } from './rest-transport.ts';
import type { SharedLevels } from './shared-bucket.ts';
import { createTokenKeeper, REFRESH_LEASE_SEC, refreshTimeoutMs } from './token-keeper.ts';
import { BitrixError, LocalCode } from './bitrix-error.ts';
import { isReadMethod, isValidMethodName } from './method-kind.ts';
import { defaultRetryPolicy, type BitrixMetrics, type Limits, type RestParams, type RestResult, type RetryPolicy } from './types.ts';
import type { Portal, StoredTokens, TokenOwner } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../log.ts';

export interface BitrixOptions {
  store: Pick<Store, 'tokens'>;
  clientId: string;
  clientSecret: string;
  /** Allow-list of OAuth server origins (BITRIX24_OAUTH_SERVERS). */
  oauthServers: readonly string[];
  /** Per-portal bucket; default Bitrix24's 2/s, burst 50. Enterprise portals: `setLimits(portal, {rate: 5, burst: 250})`. */
  limits?: Limits;
  /**
   * Per-request timeout (default 65 s): Bitrix24 cuts a request off at 60 s and answers, so a longer
   * wait only ever catches a dead connection; a shorter one would abandon writes the portal completes.
   */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  operating?: Partial<OperatingOptions>;
  logger?: Logger;
  /** Counts REST calls, token refreshes and limit waits (src/metrics); default none. */
  metrics?: BitrixMetrics;
  fetch?: FetchFn;
  /** A portal answered 302: persist its new client endpoint (calls in this process already follow it). */
  onPortalMoved?: (oldClientEndpoint: string, newClientEndpoint: string) => void;
  /**
   * The per-portal buckets' levels kept where every instance sees them (the store's `leakyBuckets`),
   * so several instances together stay within one portal's limit. Absent: in memory, per process.
   */
  sharedBuckets?: SharedLevels;
  /** Refresh lease and polling, for tests. */
  refreshLeaseSec?: number;
  /** Unix milliseconds (the app's clock): when stored access tokens count as expired. */
  nowMs?: () => number;
  /** False: a refused refresh changes no stored row, it is only reported (token-keeper.ts; `b24app doctor`). */
  recordRefusals?: boolean;
}

export interface Bitrix {
  client(portal: Portal, owner: TokenOwner, options?: ClientOptions): RestClient;
  oauth: Pick<OAuthClient, 'appInfo' | 'exchangeCode'>;
  /** One call with a token that is not stored (launch checks): no refresh, still limited per portal. */
  callWithToken<T = unknown>(clientEndpoint: string, accessToken: string, method: string, params?: RestParams): Promise<RestResult<T>>;
  /** Overrides the bucket of one portal (by its Portal record or client endpoint). */
  setLimits(portal: Portal | string, limits: Limits): void;
  /**
   * Refreshes the stored pair now, whatever its expiry (once among all callers, like any refresh): for
   * a refresh token that would otherwise die unused. Throws TOKENS_DEAD when it was refused for good.
   */
  renewStoredTokens(portal: Portal, owner: TokenOwner): Promise<StoredTokens>;
  /** One refresh of a dead pair with this process's credentials (token-keeper.ts `recheckDead`). */
  recheckDeadTokens(portal: Portal, owner: TokenOwner): Promise<StoredTokens>;
  /** The portal's REST budget now: requests counted against its bucket (all instances) and its limits. */
  restBudget(portal: Portal): Promise<{ level: number; limits: Limits }>;
}

export function createBitrix(opts: BitrixOptions): Bitrix {
  const fetchFn: FetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = opts.timeoutMs ?? 65_000;
  const policy = createEndpointPolicy(opts.oauthServers);
  const leaseSec = opts.refreshLeaseSec ?? REFRESH_LEASE_SEC;
  // The OAuth server is given less time than a refresh's lease (token-keeper.ts refreshTimeoutMs).
  const oauth = createOAuthClient({ clientId: opts.clientId, clientSecret: opts.clientSecret, policy, fetch: fetchFn, timeoutMs: refreshTimeoutMs(timeoutMs, leaseSec), now: opts.nowMs });
  const limiter = createPortalLimiter(
    opts.limits ?? { rate: 2, burst: 50 },
    { ...defaultOperatingOptions, ...opts.operating },
    undefined,
    opts.sharedBuckets ? { levels: opts.sharedBuckets, logger: opts.logger } : undefined,
  );
  const moved = new Map<string, string>();
  const transport = createRestTransport({
    fetch: fetchFn,
    timeoutMs,
    onMoved(oldBase, newBase) {
      moved.set(oldBase, newBase);
      opts.logger?.warn('bitrix portal moved', { from: new URL(oldBase).host, to: new URL(newBase).host });
      opts.onPortalMoved?.(oldBase, newBase);
    },
  });
  const runner = createRequestRunner({ transport, limiter, retry: { ...defaultRetryPolicy, ...opts.retry }, logger: opts.logger, metrics: opts.metrics });
  const keeper = createTokenKeeper({ tokens: opts.store.tokens, oauth, logger: opts.logger, metrics: opts.metrics, leaseSec, now: opts.nowMs, recordRefusals: opts.recordRefusals });
  const movedBase = (base: string) => moved.get(base) ?? base;

  return {
    client: (portal, owner, options) => createRestClient({ policy, runner, keeper, movedBase }, portal, owner, options),
    oauth: { appInfo: oauth.appInfo, exchangeCode: oauth.exchangeCode },
    async callWithToken<T>(clientEndpoint: string, accessToken: string, method: string, params: RestParams = {}) {
      if (!isValidMethodName(method)) throw new BitrixError(LocalCode.endpointRefused, 'not a method name', 0, 'invalid');
      const base = movedBase(policy.launchBase(clientEndpoint));
      return runner.run<T>(base, method, params, { token: async () => accessToken }, { safeToRepeat: isReadMethod(method) });
    },
    setLimits(portal, limits) {
      limiter.setLimits(typeof portal === 'string' ? portal : portal.clientEndpoint, limits);
    },
    restBudget: (portal) => limiter.usage(movedBase(portal.clientEndpoint)),
    async renewStoredTokens(portal, owner) {
      const row = await opts.store.tokens.find(portal.id, owner);
      if (!row) throw new BitrixError(LocalCode.noTokens, 'no tokens stored for this portal and owner', 0, 'oauth.tokens');
      if (row.dead) throw new BitrixError(LocalCode.tokensDead, 'the refresh token was refused; a new launch or install is needed', 401, 'oauth.tokens');
      return keeper.renew(portal, owner, row);
    },
    recheckDeadTokens: (portal, owner) => keeper.recheckDead(portal, owner),
  };
}

export { BitrixError, toAppError, isBitrixError, isUnanswered, LocalCode } from './bitrix-error.ts';
export { codeRow, type CodeAction, type CodeRow } from './error-codes.ts';
export type { RestClient } from './rest-client.ts';
export type { SharedLevels } from './shared-bucket.ts';
export type { AppInfo, OAuthGrant } from './oauth-client.ts';
export type { BatchCommand, BatchOutcome, BatchOptions, BitrixMetrics, Limits, LimitWait, ListOptions, RestOutcome, RestParams, RestResult, RestTime, RetryPolicy } from './types.ts';
