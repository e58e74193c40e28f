/**
 * A marketplace app's subscription on a portal (docs/install-health.md). Bitrix24 reports it in
 * `app.info` (api-reference/common/system/app-info.md): STATUS (L local, F free, D demo, T trial,
 * P paid, S subscription), PAYMENT_EXPIRED (Y/N) and DAYS left. Once a trial or paid period has ended
 * the portal answers the app's calls with PAYMENT_REQUIRED and the OAuth server issues no tokens until
 * someone pays (settings/oauth/error-codes.md).
 *
 * Launches and session renewals read it (cached briefly per portal) and stop at a clear page instead
 * of a cabinet whose every call would fail. Local apps (`L`) are never gated, and a status that cannot
 * be read gates nothing: unknown is never proof.
 */
import type { Bitrix } from '../bitrix/index.ts';
import { isBitrixError } from '../bitrix/index.ts';
import type { Clock } from '../clock.ts';
import type { Subscription } from '../domain/install-report.ts';
import type { Logger } from '../log.ts';
import { ExpiringCache } from './expiring-cache.ts';

/** Where a portal's app.info can be asked: with a user's token (a launch) or the app's stored tokens. */
export interface BillingPortal {
  memberId: string;
  clientEndpoint: string;
  /** The app status the OAuth server reported at verification ('' when unknown). */
  appStatus: string;
}

export interface BillingDeps {
  bitrix: Pick<Bitrix, 'callWithToken'>;
  clock: Clock;
  logger: Logger;
  /** How long an answer is trusted (default 5 minutes): a payment shows within that. */
  ttlSec?: number;
  /** Portals remembered at once (default 10,000; the oldest answer goes first). */
  maxEntries?: number;
}

const LOCAL = 'L';

/** Read from app.info's answer; null when it is not one. */
function readSubscription(result: unknown): Subscription | null {
  if (!result || typeof result !== 'object') return null;
  const r = result as Record<string, unknown>;
  if (typeof r.STATUS !== 'string' || !r.STATUS) return null;
  const days = Number(r.DAYS);
  return {
    status: r.STATUS,
    paymentExpired: r.PAYMENT_EXPIRED === 'Y' || r.PAYMENT_EXPIRED === true,
    days: r.DAYS === null || r.DAYS === undefined || r.DAYS === '' || !Number.isFinite(days) ? null : days,
    code: typeof r.CODE === 'string' ? r.CODE : '',
  };
}

/** The subscription has ended and the app is not a local one: the portal answers nothing until it is paid. */
export const isLapsed = (s: Subscription | null): boolean => s !== null && s.status !== LOCAL && s.paymentExpired;

export function createBilling(deps: BillingDeps) {
  const ttlSec = deps.ttlSec ?? 300;
  const maxEntries = deps.maxEntries ?? 10_000;
  const cache = new ExpiringCache<Subscription>(maxEntries, deps.clock.now);
  const remember = (memberId: string, value: Subscription) => cache.set(memberId, value, deps.clock.now() + ttlSec);

  return {
    /**
     * The portal's subscription as `app.info` reports it to `accessToken`'s holder; a PAYMENT_REQUIRED
     * answer is itself the news that it lapsed. Null when it could not be read (never a gate). Local
     * apps are not asked.
     */
    async subscription(portal: BillingPortal, accessToken: string): Promise<Subscription | null> {
      if (portal.appStatus === LOCAL) return null;
      const hit = cache.get(portal.memberId);
      if (hit) return hit;
      try {
        const answer = await deps.bitrix.callWithToken(portal.clientEndpoint, accessToken, 'app.info');
        const value = readSubscription(answer.result);
        return value ? remember(portal.memberId, value) : null;
      } catch (e) {
        if (isBitrixError(e) && e.code === 'PAYMENT_REQUIRED') {
          return remember(portal.memberId, { status: portal.appStatus || 'P', paymentExpired: true, days: null, code: cache.peek(portal.memberId)?.code ?? '' });
        }
        deps.logger.warn('could not read the app subscription', { member_id: portal.memberId, code: isBitrixError(e) ? e.code : 'unknown' });
        return null;
      }
    },

    /** What the last answer said (the admin page; a launch just read it), without asking. */
    known(memberId: string): Subscription | null {
      return cache.peek(memberId) ?? null;
    },

    /** Drops what is known of a portal (a payment event, an install). */
    forget(memberId: string): void {
      cache.delete(memberId);
    },
  };
}

export type Billing = ReturnType<typeof createBilling>;
