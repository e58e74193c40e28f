/**
 * Keeps each (portal, owner)'s tokens usable. Refresh tokens are single-use (bitrix24-platform.md §3,
 * gotcha 3): two refreshes with the same token kill the chain. So however many calls race on an
 * expired token, exactly one refresh request may leave, and everyone continues with its result:
 *
 * 1. In-process: one promise per (portal, owner) — single-flight.
 * 2. Across processes: before refreshing, a caller claims the row's refresh lease with a
 *    compare-and-swap on its `version` (`claimRefresh`). Whoever loses the CAS does not refresh: it
 *    re-reads the row and waits for the winner's tokens. The winner writes the new pair with another CAS
 *    on the lease's version, which also clears the lease. A lease outlives a crashed holder only until
 *    it expires; then another process may claim it.
 * 3. `invalid_grant` (and every other `dead refresh` code of error-codes.ts) marks the row dead (CAS on
 *    the lease's version, the code and time kept with it) and surfaces `TOKENS_DEAD` with the server's
 *    code as `refusal`; later calls fail at once from the stored flag, with no request — never a retry
 *    loop. For REFUSAL_FRESH_SEC they carry the stored `refusal` too, marked as stored: what killed the
 *    row, for reports, never an answer about today. Who needs an answer (the uninstall check) asks again
 *    itself with `recheckDead` rather than take another process's word, whose client secret may be wrong.
 *
 * A caller whose 401 arrives after someone else already refreshed sees a different access token in
 * the row and simply uses it.
 */
import { BitrixError, LocalCode } from './bitrix-error.ts';
import { codeRow } from './error-codes.ts';
import type { OAuthClient } from './oauth-client.ts';
import type { BitrixMetrics } from './types.ts';
import type { Portal, StoredTokens, TokenOwner } from '../domain/types.ts';
import type { TokenRepo } from '../store/store.ts';
import type { Logger } from '../log.ts';

export interface TokenKeeper {
  /** Tokens to use now; refreshes first when the stored expiry says they are expired. */
  current(portal: Portal, owner: TokenOwner): Promise<StoredTokens>;
  /** The server refused `stale` as expired: newer tokens, from at most one refresh among all callers. */
  renew(portal: Portal, owner: TokenOwner, stale: StoredTokens): Promise<StoredTokens>;
  /**
   * Asks the OAuth server again about a dead pair: one refresh with its stored refresh token and this
   * process's own credentials, under the same lease as any refresh. New tokens revive the row and are
   * returned; a refusal keeps it dead and throws TOKENS_DEAD with this refresh's own `refusal`; a row
   * another process is refreshing, or any unclear failure, throws without an answer. For an uninstall
   * event that would otherwise rely on a refusal someone else stored (portal-uninstall.ts).
   */
  recheckDead(portal: Portal, owner: TokenOwner): Promise<StoredTokens>;
}

export interface TokenKeeperDeps {
  tokens: TokenRepo;
  oauth: OAuthClient;
  logger?: Logger;
  metrics?: Pick<BitrixMetrics, 'tokenRefresh'>;
  /** How long a claimed refresh may take before another process may take over (default REFRESH_LEASE_SEC). */
  leaseSec?: number;
  pollMs?: number;
  /** Refresh ahead of the stored expiry by this much (default 30 s). */
  skewSec?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Whether a refused refresh is written down (default true): the row marked dead, with the refusal.
   * False for `b24app doctor`: its environment may carry another client secret than serve's, so its
   * `invalid_client` is no news about the tokens (serve may still refresh them) nor about an install
   * (portal-uninstall.ts would read a stored one as "gone"); the row is left as it was, the lease given
   * back, and the refusal only reported.
   */
  recordRefusals?: boolean;
}

/**
 * How long a refusal kept with a dead row is repeated with TOKENS_DEAD (marked as stored); past this a
 * dead row says only "dead", whatever killed it (a client secret fixed since must not keep saying
 * `invalid_client`).
 */
export const REFUSAL_FRESH_SEC = 120;

/** How long a claimed refresh may take before another process may take the row over (default). */
export const REFRESH_LEASE_SEC = 30;

/**
 * How long a refresh may wait for the OAuth server: half its lease at most. Past the lease another
 * process may take the row over and send the same single-use refresh token again, and whichever answer
 * comes second is a refusal that kills the pair (found by a red-team review: a lease of 30 s against a
 * request timeout of 65 s). Half, because each process judges a lease by its own clock: clocks up to
 * half a lease apart (15 s) still cannot overlap two refreshes.
 */
export const refreshTimeoutMs = (requestTimeoutMs: number, leaseSec: number): number => Math.min(requestTimeoutMs, leaseSec * 500);

/**
 * After `recheckDead` was refused, it repeats that refusal for this long instead of asking again: every
 * forged uninstall event would otherwise send a refresh of its own (found by a red-team review). The
 * answer is this process's own, with its own credentials, and stands only for the same stored row.
 */
export const RECHECK_QUIET_MS = 120_000;
const RECHECKS_KEPT = 10_000;

export function createTokenKeeper(deps: TokenKeeperDeps): TokenKeeper {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => Bun.sleep(ms));
  const leaseSec = deps.leaseSec ?? REFRESH_LEASE_SEC;
  const pollMs = deps.pollMs ?? 40;
  const skewSec = deps.skewSec ?? 30;
  const inflight = new Map<string, Promise<StoredTokens>>();
  /** recheckDead's refusals by row and version (a row written since is another row): the error and until when it stands. */
  const refusedRechecks = new Map<string, { error: BitrixError; until: number }>();
  const rowKey = (portal: Portal, owner: TokenOwner) => `${portal.id}:${owner.kind === 'app' ? 'app' : `u${owner.userId}`}`;
  const nowSec = () => Math.floor(now() / 1000);
  const isLeased = (row: StoredTokens) => row.refreshLeaseUntil !== null;
  const leaseExpired = (row: StoredTokens) => row.refreshLeaseUntil !== null && nowSec() > row.refreshLeaseUntil;

  const find = async (portal: Portal, owner: TokenOwner): Promise<StoredTokens> => {
    const row = await deps.tokens.find(portal.id, owner);
    if (!row) throw new BitrixError(LocalCode.noTokens, 'no tokens stored for this portal and owner', 0, 'oauth.tokens');
    return row;
  };

  const load = async (portal: Portal, owner: TokenOwner): Promise<StoredTokens> => {
    const row = await find(portal, owner);
    if (row.dead) {
      // Fresh on this process's clock: a stamp ahead of it (another instance's clock runs ahead) is no
      // answer, or the window would last as long as the skew; nor is one older than the pair it is
      // kept with (left by a binary that did not clear it when it wrote a new pair).
      const age = row.refusal ? nowSec() - row.refusal.at : -1;
      const fresh = row.refusal && age >= 0 && age <= REFUSAL_FRESH_SEC && row.refusal.at >= row.issuedAt ? row.refusal.code : undefined;
      throw new BitrixError(LocalCode.tokensDead, 'the refresh token was refused; a new launch or install is needed', 401, 'oauth.tokens', false, fresh, true);
    }
    return row;
  };

  const renew = (portal: Portal, owner: TokenOwner, stale: StoredTokens): Promise<StoredTokens> => {
    const key = rowKey(portal, owner);
    const running = inflight.get(key);
    if (running) return running;
    const p = refreshOnce(portal, owner, stale).finally(() => {
      if (inflight.get(key) === p) inflight.delete(key);
    });
    inflight.set(key, p);
    return p;
  };

  const refreshOnce = async (portal: Portal, owner: TokenOwner, stale: StoredTokens): Promise<StoredTokens> => {
    const deadline = now() + (leaseSec + 5) * 1000;
    while (now() < deadline) {
      const row = await load(portal, owner);
      if (!isLeased(row) && row.accessToken !== stale.accessToken) return row; // someone already refreshed
      if (isLeased(row) && !leaseExpired(row)) {
        await sleep(pollMs); // another process is refreshing: wait for its CAS
        continue;
      }
      const claim = await deps.tokens.claimRefresh(portal.id, owner, row.version, nowSec() + leaseSec);
      if (!claim) continue; // lost the race to claim: re-read, never refresh on a stale version
      return refreshClaimed(portal, owner, row, claim);
    }
    throw new BitrixError(LocalCode.timeout, 'waited too long for another process to refresh the tokens', 0, 'oauth.refresh');
  };

  const refreshClaimed = async (portal: Portal, owner: TokenOwner, before: StoredTokens, claim: StoredTokens): Promise<StoredTokens> => {
    const log = deps.logger?.child({ portalId: portal.id, owner: owner.kind, userId: claim.userId });
    /** The refresh token can never work again: the row marked dead with the refusal (unless not recorded). */
    const refused = async (code: string, status: number, message: string, logged: string): Promise<BitrixError> => {
      if (deps.recordRefusals === false) {
        await deps.tokens.releaseRefresh(portal.id, owner, claim.version).catch(() => null);
      } else {
        await deps.tokens.markDead(portal.id, owner, claim.version, { code, at: nowSec() });
        deps.metrics?.tokenRefresh('dead');
        log?.warn(logged, { code, status });
      }
      return new BitrixError(LocalCode.tokensDead, message, status, 'oauth.refresh', false, code);
    };
    let grant;
    try {
      grant = await deps.oauth.refresh(portal.serverEndpoint, before.refreshToken);
    } catch (e) {
      // Refusals after which the refresh token can never work again: the table's `dead refresh`.
      if (e instanceof BitrixError && codeRow(e.code).action === 'dead refresh') {
        throw await refused(e.code, e.status || 401, `refresh refused (${e.code}); a new launch or install is needed`, 'bitrix refresh refused; tokens marked dead');
      }
      // Unclear failure (network, timeout, 5xx): hand the row back so a later call may try again.
      await deps.tokens.releaseRefresh(portal.id, owner, claim.version).catch(() => null);
      deps.metrics?.tokenRefresh('failed');
      log?.warn('bitrix refresh failed', { code: e instanceof BitrixError ? e.code : 'unknown' });
      throw e;
    }
    if (grant.memberId && grant.memberId !== portal.memberId) {
      // A refresh token of another portal (planted through a launch form): never this portal's tokens,
      // and never read as news about this portal's install.
      throw await refused('wrong_portal', 401, 'the refresh token belongs to another portal', 'bitrix refresh answered for another portal; tokens marked dead');
    }
    // Bitrix24 issued new tokens (whether ours or a newer save ends up stored).
    deps.metrics?.tokenRefresh('ok');
    const saved = await deps.tokens.replaceIfVersion(portal.id, owner, claim.version, grant.tokens);
    if (saved) {
      log?.info('bitrix tokens refreshed', { version: saved.version });
      return saved;
    }
    // Our lease was overwritten (a fresh install or launch saved new tokens meanwhile): theirs win.
    log?.warn('bitrix refreshed tokens superseded by a newer save');
    return load(portal, owner);
  };

  return {
    async current(portal, owner) {
      const row = await load(portal, owner);
      if (isLeased(row) || row.expiresAt <= nowSec() + skewSec) return renew(portal, owner, row);
      return row;
    },
    renew,
    async recheckDead(portal, owner) {
      const row = await find(portal, owner);
      if (!row.dead) return row; // revived meanwhile (a launch, a reinstall, another re-check)
      const earlier = refusedRechecks.get(`${rowKey(portal, owner)}:${row.version}`);
      if (earlier && now() < earlier.until) throw earlier.error;
      const claim = isLeased(row) && !leaseExpired(row) ? null : await deps.tokens.claimRefresh(portal.id, owner, row.version, nowSec() + leaseSec);
      if (!claim) throw new BitrixError(LocalCode.timeout, 'another process holds the refresh of these tokens', 0, 'oauth.refresh');
      try {
        return await refreshClaimed(portal, owner, row, claim);
      } catch (e) {
        // Refused (the row stays dead at the claim's version): the same answer for a while, no request.
        if (e instanceof BitrixError && e.code === LocalCode.tokensDead) {
          if (refusedRechecks.size >= RECHECKS_KEPT) refusedRechecks.clear();
          refusedRechecks.set(`${rowKey(portal, owner)}:${claim.version}`, { error: e, until: now() + RECHECK_QUIET_MS });
        }
        throw e;
      }
    },
  };
}
