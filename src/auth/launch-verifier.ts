/**
 * Proves who is opening the app (architecture §4.1). The browser's claims (AUTH_ID, DOMAIN,
 * member_id) count for nothing until an allow-listed OAuth server's `app.info` vouches for the token:
 * it must belong to our client_id and to exactly the claimed portal. The user is then read from the
 * portal's verified client_endpoint, never from a URL built from the request.
 */
import { systemClock } from '../clock.ts';
import { isBitrixError, isUnanswered, type Bitrix } from '../bitrix/index.ts';
import { AppError, SubscriptionExpired } from '../domain/errors.ts';
import type { PortalInput } from '../domain/types.ts';
import type { Logger } from '../log.ts';
import { domainOfUrl, marketUrl, normalizeDomain } from './portal-domain.ts';
import { ExpiringCache } from './expiring-cache.ts';
import { sha256Hex } from './secrets.ts';

export interface LaunchClaim {
  authId: string;
  domain: string;
  memberId: string;
  /** SERVER_ENDPOINT from the form: only a hint for which allow-listed server to ask first. */
  serverEndpoint?: string;
  /** Ask Bitrix24 even if a verdict is cached: installs change who owns a portal, so they never trust a cache. */
  fresh?: boolean;
}

export interface VerifiedUser {
  id: number;
  name: string;
  isAdmin: boolean;
  photoUrl: string | null;
  timeZone: string | null;
}

export interface VerifiedLaunch {
  portal: PortalInput;
  /** What the OAuth server says about the install (false while the installer runs). */
  installed: boolean;
  user: VerifiedUser;
  /** Unix seconds when AUTH_ID expires. */
  expiresAt: number;
  /** Unix seconds when Bitrix24 vouched for the token (earlier than now for a cached verdict). */
  verifiedAt: number;
  /** Served from the verdict cache: Bitrix24 was not asked this time. */
  fromCache: boolean;
}

const TOKEN_SHAPE = /^[A-Za-z0-9._-]{16,512}$/;
const MEMBER_SHAPE = /^[A-Za-z0-9_-]{1,64}$/;

const refuse = (reason: string, logger?: Logger, fields: Record<string, unknown> = {}) => {
  logger?.warn('launch refused', { reason, ...fields });
  return new AppError('unauthorized', 'This launch could not be verified with Bitrix24. Open the app from your portal again.');
};

const unavailable = (logger?: Logger) => {
  logger?.warn('launch not verified: Bitrix24 did not answer');
  return new AppError('unavailable', 'Bitrix24 is not answering right now. Try again in a moment.');
};

export interface LaunchVerifierDeps {
  bitrix: Bitrix;
  clientId: string;
  oauthServers: readonly string[];
  logger?: Logger;
  now?: () => number;
}

export function createLaunchVerifier(deps: LaunchVerifierDeps) {
  const now = deps.now ?? systemClock.now;
  /**
   * Successful verifications by token hash until the token expires, so a page that reloads or renews its
   * session costs no more round trips to Bitrix24. Failures are never kept.
   */
  const cache = new ExpiringCache<VerifiedLaunch>(10_000, now);
  /**
   * Tokens the OAuth server vouched for but whose portal answers PAYMENT_REQUIRED: the same answer for
   * a while (as a verdict is kept), so that one token of an unpaid portal replayed at /api/session
   * costs two round trips once, not per request (the failed-attempt limiter does not count it).
   */
  const unpaid = new ExpiringCache<SubscriptionExpired>(10_000, now);

  /** The server that last answered at all: asked first next time, after an allow-listed hint. */
  let lastAnswered: string | undefined;

  const serversToAsk = (hint?: string): string[] => {
    let hinted: string | undefined;
    try {
      hinted = hint ? new URL(hint).origin : undefined;
    } catch {
      hinted = undefined;
    }
    const preferred = [hinted, lastAnswered].filter((s): s is string => s !== undefined && deps.oauthServers.includes(s));
    return [...new Set([...preferred, ...deps.oauthServers])];
  };

  /**
   * The verified answer; null when a server refused the token; AppError('unavailable') when none
   * answered (timeouts, resets, 5xx): an outage is not a failed verification, so it is not counted
   * against the client, and the caller is told to retry.
   */
  async function askOAuthServers(claim: LaunchClaim) {
    let refused = false;
    for (const server of serversToAsk(claim.serverEndpoint)) {
      try {
        const info = await deps.bitrix.oauth.appInfo(server, claim.authId);
        lastAnswered = server;
        return { server, info };
      } catch (e) {
        if (!isBitrixError(e)) throw e;
        if (!isUnanswered(e)) {
          refused = true;
          lastAnswered = server;
        }
        deps.logger?.debug('app.info did not vouch for the token', { server, code: e.code });
      }
    }
    if (!refused) throw unavailable(deps.logger);
    return null;
  }

  async function readUser(clientEndpoint: string, authId: string): Promise<VerifiedUser> {
    // One request for both: `user.current` has the name, `profile` the admin flag.
    const answer = await deps.bitrix.callWithToken<{ result: { user?: Record<string, unknown>; profile?: Record<string, unknown> } }>(
      clientEndpoint,
      authId,
      'batch',
      { halt: 0, cmd: { user: 'user.current', profile: 'profile' } },
    );
    const u = answer.result.result?.user;
    const p = answer.result.result?.profile;
    if (!u || typeof u.ID === 'undefined') throw new Error('user.current gave no user');
    const name = [u.NAME, u.LAST_NAME].filter((s) => typeof s === 'string' && s.trim()).join(' ').trim();
    return {
      id: Number(u.ID),
      name: name || (typeof u.EMAIL === 'string' && u.EMAIL) || `#${String(u.ID)}`,
      isAdmin: p?.ADMIN === true || p?.ADMIN === 'Y',
      photoUrl: typeof u.PERSONAL_PHOTO === 'string' && /^https?:\/\//.test(u.PERSONAL_PHOTO) ? u.PERSONAL_PHOTO : null,
      timeZone: typeof u.TIME_ZONE === 'string' && u.TIME_ZONE ? u.TIME_ZONE : null,
    };
  }

  async function verifyLaunch(claim: LaunchClaim): Promise<VerifiedLaunch> {
    const domain = normalizeDomain(claim.domain ?? '');
    if (!TOKEN_SHAPE.test(claim.authId ?? '') || !domain || !MEMBER_SHAPE.test(claim.memberId ?? '')) {
      throw refuse('malformed launch parameters', deps.logger);
    }
    const key = sha256Hex(`${claim.authId}|${domain}|${claim.memberId}`);
    const cached = claim.fresh ? undefined : cache.get(key);
    if (cached) return { ...cached, fromCache: true };
    const lapsed = claim.fresh ? undefined : unpaid.get(key);
    if (lapsed) throw lapsed;

    const answer = await askOAuthServers(claim);
    if (!answer) throw refuse('no allow-listed OAuth server vouched for the token', deps.logger, { domain });
    const { server, info } = answer;
    if (info.client_id !== deps.clientId) throw refuse('token of another application', deps.logger, { domain });
    if (info.install?.member_id !== claim.memberId) throw refuse('member_id does not match the token', deps.logger, { domain });
    const installDomain = normalizeDomain(info.install.domain ?? '');
    if (installDomain !== domain || domainOfUrl(info.install.client_endpoint) !== domain) {
      throw refuse('DOMAIN does not match the token', deps.logger, { domain });
    }

    let user: VerifiedUser;
    try {
      user = await readUser(info.install.client_endpoint, claim.authId);
    } catch (e) {
      if (isBitrixError(e) && isUnanswered(e)) throw unavailable(deps.logger);
      // The OAuth server vouched for the token; the portal answers nothing until the app is paid for.
      if (isBitrixError(e) && e.code === 'PAYMENT_REQUIRED') {
        const expired = new SubscriptionExpired(null, marketUrl(info.install.client_endpoint), { memberId: info.install.member_id, userId: Number(info.user_id), verifiedAt: now() });
        unpaid.set(key, expired, Math.min(Number(info.expires) || now() + 300, now() + 300));
        throw expired;
      }
      throw refuse('could not read the user from the verified portal', deps.logger, { domain });
    }
    if (Number(info.user_id) !== user.id) throw refuse('user.current is not the token user', deps.logger, { domain });

    const verdict: VerifiedLaunch = {
      portal: {
        memberId: info.install.member_id,
        domain,
        clientEndpoint: info.install.client_endpoint,
        serverEndpoint: `${server}/rest/`,
        appStatus: info.install.status ?? '',
        scope: info.install.scope ?? info.scope ?? '',
      },
      installed: info.install.installed === true,
      user,
      expiresAt: Number(info.expires) || now() + 600,
      verifiedAt: now(),
      fromCache: false,
    };
    cache.set(key, verdict, Math.min(verdict.expiresAt, now() + 3600));
    return verdict;
  }

  return Object.assign(verifyLaunch, {
    /** The app was removed from the portal: no cached verdict may open it again. */
    forgetPortal: (memberId: string) => {
      cache.deleteWhere((v) => v.portal.memberId === memberId);
      unpaid.deleteWhere((e) => e.launchedBy?.memberId === memberId);
    },
  });
}

export type VerifyLaunch = ReturnType<typeof createLaunchVerifier>;
