/**
 * Uninstalling: the only way a portal is closed or its data deleted. ONAPPUNINSTALL carries no tokens,
 * only the application_token — which every launch form carries too, so every user of the portal holds
 * it. The token is necessary, never sufficient.
 *
 * Closing needs positive proof that the app is gone from this portal: the OAuth server refusing the
 * portal's stored app refresh token with `invalid_client` ("the application may not be installed",
 * settings/oauth/error-codes.md), as it does once the app is removed and every token of it stops working
 * (settings/app-uninstallation.md, api-reference/common/events/on-app-uninstall.md). Only the app
 * tokens can give it: they come from a verified administrator's install, while a user's stored refresh
 * token came from their browser and could be any portal's.
 *
 * PAYMENT_REQUIRED proves the opposite: the OAuth server names this install and says it is unpaid (a
 * lapsed subscription must not leave a forged claim waiting for the idle app token to die).
 *
 * Anything else proves nothing. A refusal of another kind, or no app tokens, means our tokens are
 * `dead`; limits, timeouts and 5xx mean Bitrix24 was `unreachable` — and a user can make it so by
 * exhausting the portal's REST limit with their own token. Either way the event is kept as a claim
 * and re-checked (`runJobs`); a working app token or any fresh verified launch disproves it. Only a
 * claim whose app tokens are still dead when its grace period (UNINSTALL_GRACE_DAYS) ends is carried
 * out: unreachable never turns into proof.
 *
 * Deleting needs more than closing. CLEAN=1 is the admin's choice, but it is an unsigned form field: a
 * user can send CLEAN=1 right after (or instead of) the admin's keep-data uninstall. So a confirmed
 * uninstall closes the portal at once (tokens and sessions deleted, nothing opens it) and a CLEAN=1
 * schedules the deletion of its rows after CLEAN_UNINSTALL_DELAY_MINUTES. Any uninstall event with the
 * right token and CLEAN=0, or a reinstall, cancels it: between two claims the least destructive wins.
 *
 * Replays: `ts` must be a plain unix time not ahead of our clock (beyond a skew allowance); an event
 * older than the last confirmed lifecycle event changes nothing; an uninstall of a portal already
 * closed or removed is an idempotent success. Unconfirmed events never record their `ts`.
 */
import { systemClock } from '../clock.ts';
import { codeRow, isBitrixError, LocalCode, type Bitrix } from '../bitrix/index.ts';
import { AppError } from '../domain/errors.ts';
import type { Portal } from '../domain/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { matchesHash } from './secrets.ts';

export interface UninstallerDeps {
  store: Store;
  bitrix: Bitrix;
  logger: Logger;
  /** Drops what this process keeps of a closed portal: its launch verdicts and its sessions. */
  forgetPortal(memberId: string, portalId: number): void;
  /** Seconds after which an unconfirmed claim whose app tokens are dead is carried out. */
  graceSec: number;
  /** Seconds between a confirmed CLEAN=1 uninstall and the deletion of the rows (0: at once). */
  purgeDelaySec: number;
  now?: () => number;
}

/** What an event says about its origin, as read from Bitrix24's form (src/http/events.ts). */
export interface EventOrigin {
  memberId: string;
  applicationToken: string;
}

/** ONAPPUNINSTALL as read from Bitrix24's form; every field as sent, unchecked. */
export interface UninstallEvent extends EventOrigin {
  ts: string;
  clean: string;
}

/** What Bitrix24 says about the app on a portal: only `gone` is proof of an uninstall. */
export type InstallVerdict = 'gone' | 'installed' | 'dead' | 'unreachable';

export type UninstallOutcome = 'removed' | 'deactivated' | 'purge_scheduled' | 'claimed' | 'already_uninstalled' | 'replay';

export interface JobSummary {
  confirmed: number;
  disproved: number;
  expired: number;
  pending: number;
  purged: number;
}

const REJECTED = 'Event rejected.';
/** How far ahead of our clock an event's `ts` may be (clock skew), in seconds. */
const MAX_TS_SKEW = 300;

/** Verifies application_token for an event; 401 for an unknown portal or a mismatch, in constant time. */
export async function authenticateEvent(store: Store, origin: EventOrigin): Promise<Portal> {
  const storedHash = origin.memberId ? await store.portals.applicationTokenHash(origin.memberId) : null;
  const portal = storedHash ? await store.portals.findByMemberId(origin.memberId) : null;
  if (!matchesHash(origin.applicationToken, storedHash) || !portal) throw new AppError('unauthorized', REJECTED);
  return portal;
}

/** An event's `ts`: digits only, positive, not ahead of `now` beyond the skew allowance; else null. */
export function eventTs(raw: string, now: number): number | null {
  if (!/^\d{1,10}$/.test(raw)) return null;
  const ts = Number(raw);
  return ts > 0 && ts <= now + MAX_TS_SKEW ? ts : null;
}

/**
 * Asks Bitrix24 with the portal's app tokens (refreshing them if needed) whether the app is there. One
 * attempt, no back-off: a limit or a fault is simply `unreachable`, and the periodic re-check asks again
 * (an event handler must answer Bitrix24 fast, and a user flooding the portal's limit must not hold it).
 */
export async function askBitrixAboutInstall(bitrix: Bitrix, portal: Portal): Promise<InstallVerdict> {
  try {
    await bitrix.client(portal, { kind: 'app' }, { maxRetries: 0 }).call('app.info');
    return 'installed'; // INSTALLED=false included: the app is on the portal, its installer unfinished
  } catch (e) {
    const verdict = verdictOf(e);
    return verdict === 'ask again' ? askAgain(bitrix, portal) : verdict;
  }
}

/**
 * The app tokens died before this call: one refresh of our own with the stored refresh token. New tokens
 * (the row revived) say the app is there; its refusal is our own, read like any other.
 */
async function askAgain(bitrix: Bitrix, portal: Portal): Promise<InstallVerdict> {
  try {
    await bitrix.recheckDeadTokens(portal, { kind: 'app' });
    return 'installed';
  } catch (e) {
    const verdict = verdictOf(e);
    return verdict === 'ask again' ? 'dead' : verdict; // a re-check's refusal is always its own
  }
}

/** What a failed call or refresh says about the install, or that the tokens died before it and we must ask again. */
function verdictOf(e: unknown): InstallVerdict | 'ask again' {
  if (!isBitrixError(e)) throw e;
  // Only a refusal the error-code table marks `appGone` (invalid_client) proves the app is gone, and
  // only one we got ourselves, just now. Tokens that died earlier may have been killed by another
  // instance with another client secret (a stale .env) — its refusal is kept with the row for a while,
  // or not at all — and any user can send a forged event with the APPLICATION_TOKEN of a launch form.
  // So a dead row is asked about again, with our own credentials, whatever killed it and when.
  if (e.code === LocalCode.tokensDead) {
    if (!e.refusalStored && e.refusal !== undefined) return codeRow(e.refusal).appGone ? 'gone' : 'dead';
    return 'ask again';
  }
  // PAYMENT_REQUIRED (the refresh, or the portal) names this install and says it is unpaid: the app
  // is there. Left as "unreachable", a forged CLEAN=1 claim would wait, unanswerable (no launch gets
  // through unpaid), until the idle token died and the grace rule carried it out.
  if (e.code === 'PAYMENT_REQUIRED') return 'installed';
  // Limits, 5xx, timeouts — and any other answer — give no verdict: never proof, never the grace path.
  return e.code === LocalCode.noTokens ? 'dead' : 'unreachable';
}

export function createUninstaller(deps: UninstallerDeps) {
  const { store, logger } = deps;
  const now = deps.now ?? systemClock.now;
  const askBitrix = (portal: Portal) => askBitrixAboutInstall(deps.bitrix, portal);

  async function purge(portal: Portal): Promise<void> {
    await store.portals.removeWithData(portal.id, now());
    logger.info('portal data deleted after a cleaning uninstall', { member_id: portal.memberId });
  }

  /** Closes the portal after a confirmed uninstall; CLEAN=1 schedules the deletion of its rows. */
  async function close(portal: Portal, clean: boolean, ts: number | null): Promise<UninstallOutcome> {
    const purgeAt = clean ? now() + deps.purgeDelaySec : null;
    if (!(await store.portals.closeAfterUninstall(portal.id, ts, purgeAt))) {
      // Another event closed it meanwhile; if either asked to keep the data, it is kept.
      if (!clean) await store.portals.cancelPurge(portal.id);
      return 'already_uninstalled';
    }
    deps.forgetPortal(portal.memberId, portal.id);
    logger.info(clean ? 'app uninstalled; data to be deleted' : 'app uninstalled, data kept', { member_id: portal.memberId, purge_at: purgeAt });
    if (!clean) return 'deactivated';
    if (deps.purgeDelaySec > 0) return 'purge_scheduled';
    await purge(portal);
    return 'removed';
  }

  /** ONAPPUNINSTALL, after the constant-time application_token check. */
  async function handleEvent(event: UninstallEvent): Promise<UninstallOutcome> {
    const ts = eventTs(event.ts, now());
    if (ts === null) throw new AppError('unauthorized', REJECTED);
    const clean = event.clean === '1';
    const removed = event.memberId ? await store.portals.findRemoved(event.memberId) : null;
    if (removed && !(await store.portals.findByMemberId(event.memberId))) {
      if (!matchesHash(event.applicationToken, removed.applicationTokenHash)) throw new AppError('unauthorized', REJECTED);
      return 'already_uninstalled';
    }
    const portal = await authenticateEvent(store, event);
    if (portal.status === 'uninstalled') {
      // Already closed: CLEAN=1 changes nothing, CLEAN=0 keeps data whose deletion was scheduled.
      if (!clean && (await store.portals.cancelPurge(portal.id))) logger.info('data deletion cancelled: an uninstall event asked to keep the data', { member_id: portal.memberId });
      return 'already_uninstalled';
    }
    if (portal.lifecycleTs !== null && ts < portal.lifecycleTs) {
      logger.warn('uninstall ignored: older than the last lifecycle event (a replay)', { member_id: portal.memberId });
      return 'replay';
    }
    const verdict = await askBitrix(portal);
    if (verdict === 'installed') {
      logger.warn('forged uninstall refused: the portal still accepts the app', { member_id: portal.memberId });
      throw new AppError('forbidden', REJECTED);
    }
    // Confirmed gone: the data is deleted only if every uninstall event seen asked for it (an earlier
    // claim saying CLEAN=0 — perhaps the admin's own — outweighs a CLEAN=1 that came later).
    if (verdict === 'gone') return close(portal, clean && (portal.uninstallClaim?.clean ?? true), ts);
    await store.portals.claimUninstall(portal.id, clean, now());
    // Another event may have closed the portal since it was read here (with a purge, if it said CLEAN=1):
    // this CLEAN=0 still keeps the data. (A claim written first is weighed by the close itself.)
    if (!clean && (await store.portals.findById(portal.id))?.status === 'uninstalled') await store.portals.cancelPurge(portal.id);
    // From now on only a fresh verification can disprove the claim, not a verdict cached before it.
    deps.forgetPortal(portal.memberId, portal.id);
    logger.warn('uninstall not confirmed by Bitrix24; kept as a claim and re-checked', { member_id: portal.memberId, clean, verdict });
    return 'claimed';
  }

  /**
   * The periodic work: asks Bitrix24 again about every claim (closing confirmed ones, dropping
   * disproved ones, closing those whose tokens stayed dead past the grace period), then deletes the
   * rows of closed portals whose purge time has come.
   */
  async function runJobs(): Promise<JobSummary> {
    const summary: JobSummary = { confirmed: 0, disproved: 0, expired: 0, pending: 0, purged: 0 };
    for (const portal of await store.portals.listUninstallClaims()) {
      const claim = portal.uninstallClaim!;
      const verdict = await askBitrix(portal);
      if (verdict === 'installed') {
        await store.portals.dropUninstallClaim(portal.id);
        logger.info('uninstall claim disproved: the app tokens work', { member_id: portal.memberId });
        summary.disproved++;
      } else if (verdict === 'gone') {
        await close(portal, claim.clean, null);
        summary.confirmed++;
      } else if (verdict === 'dead' && now() - claim.claimedAt >= deps.graceSec) {
        logger.warn('uninstall claim neither confirmed nor disproved within the grace period, app tokens dead; carried out', { member_id: portal.memberId });
        await close(portal, claim.clean, null);
        summary.expired++;
      } else summary.pending++;
    }
    for (const portal of await store.portals.listDuePurges(now())) {
      await purge(portal);
      summary.purged++;
    }
    return summary;
  }

  /** A fresh verified launch proves the app installed: it drops a claim made before it. */
  async function disprovedBy(portal: Portal, verifiedAt: number): Promise<void> {
    if (!portal.uninstallClaim || verifiedAt < portal.uninstallClaim.claimedAt) return;
    await store.portals.dropUninstallClaim(portal.id);
    logger.info('uninstall claim disproved by a verified launch', { member_id: portal.memberId });
  }

  return { handleEvent, runJobs, disprovedBy };
}

export type Uninstaller = ReturnType<typeof createUninstaller>;
