/**
 * Keeps an install working long after install day (docs/install-health.md):
 *
 * - **Dormant tokens.** Bitrix24 lets a refresh token that is never used die after its lifetime
 *   (REFRESH_TOKEN_LIFETIME_DAYS, 180 by its docs), and asks apps not to refresh on a timer. So a token
 *   in use is never touched here: only a live row whose refresh token was issued more than
 *   TOKEN_RENEW_AT_PERCENT of the lifetime ago is refreshed, once (the app's tokens, and a user's when
 *   their items are in the calendar, which background work writes with them). A refusal marks the row
 *   dead (the token keeper does) and the install "needs re-authorization"; dead rows are never retried.
 *   The way out: an administrator opens the app, whose verified launch re-keys dead app tokens
 *   (sign-in.ts).
 * - **Bindings that heal.** An app update can drop the app's event handlers on the portal. On
 *   ONAPPUPDATE, on an administrator's launch (at most once a minute per portal) and daily, `event.get`
 *   is compared with what the app needs and what is missing is bound again (portal-install.ts). The
 *   daily check never refreshes a token for itself: it takes the portals whose app token is live
 *   anyway; an idle portal's check comes with its token's renewal.
 *
 * The periodic part runs once across instances (serve.ts takes a job lock around `runJobs`).
 */
import type { Bitrix } from '../bitrix/index.ts';
import { isBitrixError, LocalCode } from '../bitrix/index.ts';
import type { Clock } from '../clock.ts';
import type { Portal, StoredTokens, TokenOwner } from '../domain/types.ts';
import type { Logger } from '../log.ts';
import type { DormantCursor, Store } from '../store/store.ts';
import type { AppTokenHealth, BindingsReport, InstallReport } from '../domain/install-report.ts';
import type { Billing } from './billing.ts';
import type { Installer } from './portal-install.ts';

export interface InstallHealthDeps {
  store: Pick<Store, 'portals' | 'tokens' | 'calendarQueue'>;
  bitrix: Pick<Bitrix, 'renewStoredTokens' | 'restBudget'>;
  installer: Pick<Installer, 'bindEvents' | 'checkBindings'>;
  billing: Pick<Billing, 'known'>;
  logger: Logger;
  clock: Clock;
  /** REFRESH_TOKEN_LIFETIME_DAYS in seconds. */
  refreshLifetimeSec: number;
  /** TOKEN_RENEW_AT_PERCENT of it, in seconds: an unused token older than this is renewed. */
  renewAfterSec: number;
}

export interface HealthSummary {
  renewed: number;
  /** Refused for good: those installs need re-authorization. */
  dead: number;
  /** Not renewed this time (Bitrix24 unreachable, limits, payment): tried again on the next run. */
  deferred: number;
  bindingsChecked: number;
  bindingsRepaired: number;
}



/** How many rows and portals one run looks at: the rest wait for the next run. */
const RENEW_BATCH = 200;
const BINDINGS_BATCH = 100;
const DAY_SEC = 86_400;
/** An administrator's launches check the bindings at most this often per portal. */
const ADMIN_CHECK_EVERY_SEC = 60;
/** ONAPPUPDATE starts a repair of one portal at most this often (per instance). */
const UPDATE_REPAIR_EVERY_SEC = 10;
/** An access token this close to its expiry would be refreshed by the call (the token keeper's skew is 30 s). */
const TOKEN_MARGIN_SEC = 120;

export function createInstallHealth(deps: InstallHealthDeps) {
  const { store, logger, clock } = deps;
  const inFlight = new Set<Promise<unknown>>();
  /** When an ONAPPUPDATE last started a repair, per portal (in memory: a bound on what events can make us do). */
  const updateRepairs = new Map<number, number>();

  /** Runs `work` after the answer has gone; `idle()` waits for it (graceful shutdown, tests). */
  const inBackground = (work: () => Promise<unknown>) => {
    const p = work()
      .catch((error: unknown) => logger.warn('install health work failed', { error }))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  async function repairBindings(portal: Portal, reason: string): Promise<BindingsReport> {
    const report = await deps.installer.bindEvents(portal);
    if (report.ok && report.bound.length) logger.info('event bindings repaired', { member_id: portal.memberId, reason, bound: report.bound.length });
    return report;
  }

  async function renewOne(portal: Portal, owner: TokenOwner): Promise<'renewed' | 'dead' | 'deferred'> {
    try {
      await deps.bitrix.renewStoredTokens(portal, owner);
      return 'renewed';
    } catch (e) {
      if (isBitrixError(e) && e.code === LocalCode.tokensDead) {
        logger.warn(owner.kind === 'app' ? 'app tokens died: the install needs re-authorization by an administrator' : "a user's stored tokens died", {
          member_id: portal.memberId,
          refusal: e.refusal,
        });
        return 'dead';
      }
      logger.warn('token renewal deferred', { member_id: portal.memberId, code: isBitrixError(e) ? e.code : 'unknown' });
      return 'deferred';
    }
  }

  /**
   * Where the last run stopped in the dormant rows' order (in memory): each run goes on from there and
   * starts over at the end. Rows that cannot be renewed (an unpaid portal answers PAYMENT_REQUIRED until
   * someone pays; an outage) stay dormant and keep their place at the head of the list; without walking
   * on, a batch of them would keep every other portal's idle token from being renewed until it died.
   */
  let dormantCursor: DormantCursor | undefined;

  async function renewDormantTokens(summary: HealthSummary): Promise<void> {
    const rows = await store.tokens.listDormant(clock.now() - deps.renewAfterSec, RENEW_BATCH, dormantCursor);
    dormantCursor = rows.length < RENEW_BATCH ? undefined : rows.at(-1)!.cursor;
    const portals = new Map<number, Portal | null>();
    for (const { portalId, owner } of rows) {
      if (!portals.has(portalId)) portals.set(portalId, await store.portals.findById(portalId));
      const portal = portals.get(portalId);
      if (!portal) continue;
      const outcome = await renewOne(portal, owner);
      summary[outcome]++;
      // The fresh app token is the idle portal's moment for its bindings check (checkDueBindings skips it otherwise).
      if (outcome === 'renewed' && owner.kind === 'app' && (portal.bindingsCheckedAt ?? 0) < clock.now() - DAY_SEC) {
        const report = await repairBindings(portal, 'renewal');
        if (report.ok) summary.bindingsChecked++;
        if (report.ok && report.bound.length) summary.bindingsRepaired++;
      }
    }
  }

  async function checkDueBindings(summary: HealthSummary): Promise<void> {
    // Only where the app's access token is live (the app used it within the hour): an idle portal is
    // checked when its dormant token is renewed, on ONAPPUPDATE and on an administrator's launch.
    for (const portal of await store.portals.listBindingsDue(clock.now() - DAY_SEC, clock.now() + TOKEN_MARGIN_SEC, BINDINGS_BATCH)) {
      const report = await repairBindings(portal, 'daily');
      if (!report.ok) continue;
      summary.bindingsChecked++;
      if (report.bound.length) summary.bindingsRepaired++;
    }
  }

  /** The app's tokens on the portal, as the admin page shows them. */
  function appTokenHealth(tokens: StoredTokens | null): AppTokenHealth {
    if (!tokens || tokens.dead) return { state: 'needs_reauthorization', issuedAt: tokens?.issuedAt ?? null, refreshExpiresAt: null, renewAt: null };
    return {
      state: 'live',
      issuedAt: tokens.issuedAt,
      refreshExpiresAt: tokens.issuedAt + deps.refreshLifetimeSec,
      renewAt: tokens.issuedAt + deps.renewAfterSec,
    };
  }

  return {
    /** The periodic job: dormant tokens renewed, bindings not checked for a day compared and repaired. */
    async runJobs(): Promise<HealthSummary> {
      const summary: HealthSummary = { renewed: 0, dead: 0, deferred: 0, bindingsChecked: 0, bindingsRepaired: 0 };
      await renewDormantTokens(summary);
      await checkDueBindings(summary);
      return summary;
    },

    /** The admin page's "repair", and ONAPPUPDATE's. */
    repairBindings,

    /**
     * ONAPPUPDATE (authenticated by its application_token): the update may have dropped our handlers.
     * Every launch form carries that token, so any user could send this event: it starts at most one
     * repair per portal every UPDATE_REPAIR_EVERY_SEC, whatever arrives.
     */
    appUpdated(portal: Portal): void {
      const last = updateRepairs.get(portal.id);
      if (last !== undefined && last > clock.now() - UPDATE_REPAIR_EVERY_SEC) return;
      if (updateRepairs.size >= 10_000) updateRepairs.clear();
      updateRepairs.set(portal.id, clock.now());
      inBackground(() => repairBindings(portal, 'app update'));
    },

    /** A verified administrator opened the app: a cheap moment to check the bindings (throttled). */
    adminLaunched(portal: Portal): void {
      if (portal.bindingsCheckedAt !== null && portal.bindingsCheckedAt > clock.now() - ADMIN_CHECK_EVERY_SEC) return;
      inBackground(() => repairBindings(portal, 'admin launch'));
    },

    async report(portal: Portal): Promise<InstallReport> {
      const [tokens, bindings, calendarQueue, budget] = await Promise.all([
        store.tokens.find(portal.id, { kind: 'app' }),
        deps.installer.checkBindings(portal),
        store.calendarQueue.depth(portal.id),
        deps.bitrix.restBudget(portal),
      ]);
      return {
        domain: portal.domain,
        status: portal.status,
        installedAt: portal.installedAt,
        appTokens: appTokenHealth(tokens),
        bindings,
        calendarQueue,
        restBudget: { level: Math.round(budget.level * 10) / 10, burst: budget.limits.burst, rate: budget.limits.rate },
        appStatus: portal.appStatus,
        subscription: deps.billing.known(portal.memberId),
      };
    },

    async idle(): Promise<void> {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}

export type InstallHealth = ReturnType<typeof createInstallHealth>;
