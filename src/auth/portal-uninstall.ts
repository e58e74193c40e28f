/**
 * Uninstalling: the only way a portal's data is deleted or its access revoked. ONAPPUNINSTALL carries
 * no tokens, only the application_token — which every launch form carries too, so every user of the
 * portal holds it. The token is necessary, never sufficient: nothing is deleted or revoked until
 * Bitrix24 says positively that the app is gone from this portal.
 *
 * The positive answer: the OAuth server refuses the portal's stored app refresh token with
 * `invalid_client` ("the application may not be installed", settings/oauth/error-codes.md), as it
 * does once the app is removed and every token of it stops working (settings/app-uninstallation.md,
 * api-reference/common/events/on-app-uninstall.md). Only the app tokens can give it: they come from a
 * verified administrator's install, while a user's stored refresh token came from their browser and
 * could be any portal's.
 *
 * Anything else — dead tokens, `invalid_grant`, no tokens, a timeout, a 5xx — is unknown. The event is
 * kept as a claim on the portal and re-checked (`recheckClaims`, run periodically); a working app token
 * or any fresh verified launch (`disprovedBy`) drops it. A claim nobody could confirm or disprove is
 * carried out when its grace period (UNINSTALL_GRACE_DAYS) ends: the one case where an unconfirmed
 * uninstall deletes data, documented in the README's security notes.
 *
 * Replays: events carry Bitrix24's `ts`; one older than the last lifecycle event processed for the
 * portal changes nothing, and an uninstall of a portal already uninstalled or removed is an idempotent
 * success.
 */
import { isBitrixError, LocalCode, type Bitrix } from '../bitrix/index.ts';
import { AppError } from '../domain/errors.ts';
import type { Portal } from '../domain/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { matchesHash } from './secret-hash.ts';

export interface UninstallerDeps {
  store: Store;
  bitrix: Bitrix;
  logger: Logger;
  /** Drops the cached launch verdicts of a portal (the verifier's `forgetPortal`). */
  forgetPortal(memberId: string): void;
  /** Seconds after which an unconfirmed, undisproved claim is carried out. */
  graceSec: number;
  now?: () => number;
}

/** What Bitrix24 says about the app on a portal: only `gone` is proof of an uninstall. */
export type InstallVerdict = 'gone' | 'installed' | 'unknown';

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

export type UninstallOutcome = 'removed' | 'deactivated' | 'claimed' | 'already_uninstalled' | 'replay';

export interface RecheckSummary {
  confirmed: number;
  disproved: number;
  expired: number;
  pending: number;
}

const REJECTED = 'Event rejected.';

/** Verifies application_token for an event; 401 for an unknown portal or a mismatch, in constant time. */
export async function authenticateEvent(store: Store, origin: EventOrigin): Promise<Portal> {
  const storedHash = origin.memberId ? await store.portals.applicationTokenHash(origin.memberId) : null;
  const portal = storedHash ? await store.portals.findByMemberId(origin.memberId) : null;
  if (!matchesHash(origin.applicationToken, storedHash) || !portal) throw new AppError('unauthorized', REJECTED);
  return portal;
}

/** Asks Bitrix24 with the portal's app tokens (refreshing them if needed) whether the app is there. */
export async function askBitrixAboutInstall(bitrix: Bitrix, portal: Portal): Promise<InstallVerdict> {
  try {
    await bitrix.client(portal, { kind: 'app' }).call('app.info');
    return 'installed'; // INSTALLED=false included: the app is on the portal, its installer unfinished
  } catch (e) {
    if (!isBitrixError(e)) throw e;
    return e.code === LocalCode.tokensDead && e.refusal === 'invalid_client' ? 'gone' : 'unknown';
  }
}

export function createUninstaller(deps: UninstallerDeps) {
  const { store, logger } = deps;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const askBitrix = (portal: Portal) => askBitrixAboutInstall(deps.bitrix, portal);

  async function carryOut(portal: Portal, clean: boolean, ts: number | null): Promise<'removed' | 'deactivated'> {
    if (clean) await store.portals.removeWithData(portal.id, ts, now());
    else {
      await store.tokens.deleteForPortal(portal.id);
      await store.sessions.deleteForPortal(portal.id);
      await store.portals.markUninstalled(portal.id, ts);
    }
    deps.forgetPortal(portal.memberId);
    logger.info(clean ? 'app uninstalled, data deleted' : 'app uninstalled, data kept', { member_id: portal.memberId });
    return clean ? 'removed' : 'deactivated';
  }

  /** ONAPPUNINSTALL, after the constant-time application_token check. */
  async function handleEvent(event: UninstallEvent): Promise<UninstallOutcome> {
    const ts = Number(event.ts);
    if (!Number.isSafeInteger(ts) || ts <= 0) throw new AppError('unauthorized', REJECTED);
    const clean = event.clean === '1';
    const removed = event.memberId ? await store.portals.findRemoved(event.memberId) : null;
    if (removed && !(await store.portals.findByMemberId(event.memberId))) {
      if (!matchesHash(event.applicationToken, removed.applicationTokenHash)) throw new AppError('unauthorized', REJECTED);
      return 'already_uninstalled';
    }
    const portal = await authenticateEvent(store, event);
    // Whatever it asks (CLEAN included: the admin chose to keep the data), it changes nothing now.
    if (portal.status === 'uninstalled') return 'already_uninstalled';
    if (portal.lifecycleTs !== null && ts < portal.lifecycleTs) {
      logger.warn('uninstall ignored: older than the last lifecycle event (a replay)', { member_id: portal.memberId });
      return 'replay';
    }
    const verdict = await askBitrix(portal);
    if (verdict === 'installed') {
      logger.warn('forged uninstall refused: the portal still accepts the app', { member_id: portal.memberId });
      throw new AppError('forbidden', REJECTED);
    }
    if (verdict === 'gone') return carryOut(portal, clean, ts);
    await store.portals.claimUninstall(portal.id, clean, now(), ts);
    // From now on only a fresh verification can disprove the claim, not a verdict cached before it.
    deps.forgetPortal(portal.memberId);
    logger.warn('uninstall not confirmed by Bitrix24; kept as a claim and re-checked', { member_id: portal.memberId, clean });
    return 'claimed';
  }

  /** Asks Bitrix24 again about every claimed portal; carries out claims past their grace period. */
  async function recheckClaims(): Promise<RecheckSummary> {
    const summary: RecheckSummary = { confirmed: 0, disproved: 0, expired: 0, pending: 0 };
    for (const portal of await store.portals.listUninstallClaims()) {
      const claim = portal.uninstallClaim!;
      const verdict = await askBitrix(portal);
      if (verdict === 'installed') {
        await store.portals.dropUninstallClaim(portal.id);
        logger.info('uninstall claim disproved: the app tokens work', { member_id: portal.memberId });
        summary.disproved++;
      } else if (verdict === 'gone') {
        await carryOut(portal, claim.clean, null);
        summary.confirmed++;
      } else if (now() - claim.claimedAt >= deps.graceSec) {
        logger.warn('uninstall claim neither confirmed nor disproved within the grace period; carried out', { member_id: portal.memberId });
        await carryOut(portal, claim.clean, null);
        summary.expired++;
      } else summary.pending++;
    }
    return summary;
  }

  /** A fresh verified launch proves the app installed: it drops a claim made before it. */
  async function disprovedBy(portal: Portal, verifiedAt: number): Promise<void> {
    if (!portal.uninstallClaim || verifiedAt < portal.uninstallClaim.claimedAt) return;
    await store.portals.dropUninstallClaim(portal.id);
    logger.info('uninstall claim disproved by a verified launch', { member_id: portal.memberId });
  }

  return { handleEvent, recheckClaims, disprovedBy };
}

export type Uninstaller = ReturnType<typeof createUninstaller>;
