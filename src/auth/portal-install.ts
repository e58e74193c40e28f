/**
 * Installing the app on a portal: the only way a portal gets (or changes) its app tokens and its
 * application_token. Bitrix24 installs an app one of two ways (src/emulator/README.md has the sources):
 * an app with an installer page, like this one, is framed at its install URL as the admin and gets no
 * ONAPPINSTALL; an app added with "Uses API only" gets ONAPPINSTALL with the admin's tokens. Both come
 * here, under the same rules, because any portal user holds a genuine AUTH_ID of this app and the
 * APPLICATION_TOKEN (every launch form carries it):
 *
 * - only a fresh verification (never a cached verdict) of a token of an administrator of that very
 *   portal may install;
 * - a portal whose stored app tokens still work is installed: another install changes nothing (a
 *   replay, or someone's genuine token in a forged event);
 * - an install event older (`ts`) than the last confirmed lifecycle event of the portal is a replay, and
 *   one dated ahead of our clock is refused. (Seconds are coarse: an event of the same second is let
 *   through to the checks above, which hold without it.)
 *
 * An accepted install records the portal (out of `uninstalled`, or back after a removal), stores the
 * admin's pair as the app's tokens and the application_token's hash, and binds ONAPPUNINSTALL.
 */
import { systemClock } from '../clock.ts';
import type { Bitrix } from '../bitrix/index.ts';
import { AppError } from '../domain/errors.ts';
import type { BindingsReport, NeededBinding } from '../domain/install-report.ts';
import type { OAuthTokens, Portal } from '../domain/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { VerifiedLaunch, VerifyLaunch } from './launch-verifier.ts';
import { askBitrixAboutInstall, eventTs } from './portal-uninstall.ts';
import { sha256Hex } from './secrets.ts';

export interface InstallerDeps {
  store: Store;
  bitrix: Bitrix;
  logger: Logger;
  /** Launch verification; the routes limit failed attempts around the whole event (src/http/events.ts). */
  verifyLaunch: VerifyLaunch;
  /** Where Bitrix24 should send ONAPPUNINSTALL (PUBLIC_URL/events). */
  eventsUrl: string;
  now?: () => number;
}

export interface InstallRequest {
  /** A fresh verification (`fresh: true`) of the installing user's token. */
  verified: VerifiedLaunch;
  /** That user's pair, to become the app's tokens. */
  tokens: OAuthTokens;
  applicationToken: string;
  /** Bitrix24's `ts` of ONAPPINSTALL; null for an installer launch, which is not an event. */
  ts: number | null;
}

/** ONAPPINSTALL as read from Bitrix24's form (src/http/events.ts); every field as sent, unchecked. */
export interface InstallEvent {
  accessToken: string;
  refreshToken: string;
  expiresIn: string;
  domain: string;
  memberId: string;
  serverEndpoint: string;
  applicationToken: string;
  ts: string;
  languageId: string;
}

export type InstallOutcome = { kind: 'installed'; portal: Portal } | { kind: 'already_installed'; portal: Portal };


const EVENT_REJECTED = 'Install event rejected.';


/** What the app binds on every portal it is installed on (ONAPPUNINSTALL first). */
export const NEEDED_BINDINGS: readonly NeededBinding[] = [
  { event: 'ONAPPUNINSTALL', offline: false },
  // An app update may drop the app's handlers on the portal (src/emulator/README.md): the event that
  // says so is the moment to bind them again (install-health.ts).
  { event: 'ONAPPUPDATE', offline: false },
  { event: 'ONCALENDARENTRYUPDATE', offline: false },
  { event: 'ONCALENDARENTRYDELETE', offline: false },
  { event: 'ONOFFLINEEVENT', offline: false },
  { event: 'ONCALENDARENTRYUPDATE', offline: true },
  { event: 'ONCALENDARENTRYDELETE', offline: true },
];

/** One entry of an `event.get` answer, every field as Bitrix24 sent it. */
export type BoundEvent = { event?: unknown; handler?: unknown; offline?: unknown };

/**
 * Whether an `event.get` answer has `needed`: an online binding counts only when it points at
 * `eventsUrl` (a handler left at an old PUBLIC_URL receives nothing), an offline one has no handler.
 */
export function hasBinding(bound: readonly BoundEvent[], needed: NeededBinding, eventsUrl: string): boolean {
  return bound.some((b) => String(b.event).toUpperCase() === needed.event && (needed.offline ? Number(b.offline) === 1 : b.handler === eventsUrl));
}

/** The needed bindings an `event.get` answer lacks (`b24app doctor` reports them). */
export function missingBindings(bound: readonly BoundEvent[], eventsUrl: string): NeededBinding[] {
  return NEEDED_BINDINGS.filter((needed) => !hasBinding(bound, needed, eventsUrl));
}

export function createInstaller(deps: InstallerDeps) {
  const { store, logger } = deps;
  const now = deps.now ?? systemClock.now;

  /** Reads `event.get` and says which needed bindings are there (ours: the handler is PUBLIC_URL/events). */
  async function readBindings(portal: Portal): Promise<{ ok: true; present: (b: NeededBinding) => boolean } | { ok: false; error: string }> {
    try {
      const bound = await deps.bitrix.client(portal, { kind: 'app' }).call<BoundEvent[]>('event.get');
      const list = Array.isArray(bound.result) ? bound.result : [];
      return { ok: true, present: (needed: NeededBinding) => hasBinding(list, needed, deps.eventsUrl) };
    } catch (e) {
      const error = (e as { code?: string }).code ?? 'unknown';
      logger.warn('could not read the event bindings', { member_id: portal.memberId, code: error });
      return { ok: false, error };
    }
  }

  /** The needed bindings and whether each is on the portal now; binds nothing. */
  async function checkBindings(portal: Portal): Promise<BindingsReport> {
    const read = await readBindings(portal);
    if (!read.ok) return read;
    return { ok: true, bindings: NEEDED_BINDINGS.map((b) => ({ ...b, present: read.present(b) })), bound: [] };
  }

  /**
   * The bindings the app needs, each once: asks `event.get` first and binds only what is missing, so a
   * repeat binds nothing. ONAPPUNINSTALL first (the lifecycle), then ONAPPUPDATE, the calendar entries'
   * changes both online (seconds) and offline (kept on the portal while the app is down), and
   * ONOFFLINEEVENT, which says the offline queue has records (docs/calendar-sync.md).
   */
  async function bindEvents(portal: Portal): Promise<BindingsReport> {
    const read = await readBindings(portal);
    if (!read.ok) return read;
    const client = deps.bitrix.client(portal, { kind: 'app' });
    const bindings: (NeededBinding & { present: boolean })[] = [];
    const bound: NeededBinding[] = [];
    for (const needed of NEEDED_BINDINGS) {
      let present = read.present(needed);
      if (!present) {
        const { event, offline } = needed;
        try {
          await client.call('event.bind', offline ? { event, event_type: 'offline' } : { event, handler: deps.eventsUrl });
          bound.push(needed);
          present = true;
        } catch (e) {
          const code = (e as { code?: string }).code;
          present = code === 'ERROR_HANDLER_ALREADY_EXIST';
          if (!present) logger.warn('could not bind an event', { member_id: portal.memberId, event, code });
        }
      }
      bindings.push({ ...needed, present });
    }
    await store.portals.markBindingsChecked(portal.id, now());
    if (bound.length) logger.info('event handlers bound', { member_id: portal.memberId, bound: bound.map((b) => `${b.event}${b.offline ? ' (offline)' : ''}`) });
    return { ok: true, bindings, bound };
  }

  async function install(req: InstallRequest): Promise<InstallOutcome> {
    const { verified } = req;
    const memberId = verified.portal.memberId;
    if (!verified.user.isAdmin) {
      logger.warn('install refused: not an administrator', { member_id: memberId, user_id: verified.user.id });
      throw new AppError('forbidden', 'Only a portal administrator can install the app.');
    }
    const existing = await store.portals.findByMemberId(memberId);
    const lastTs = existing ? existing.lifecycleTs : ((await store.portals.findRemoved(memberId))?.lifecycleTs ?? null);
    if (req.ts !== null && lastTs !== null && req.ts < lastTs) {
      logger.warn('install refused: older than the last lifecycle event (a replay)', { member_id: memberId });
      throw new AppError('unauthorized', EVENT_REJECTED);
    }
    // The stored app tokens still work (or Bitrix24 cannot say now: unknown changes nothing): the app
    // is installed and this install is not news. Only dead or refused app tokens let it re-key.
    if (existing?.status === 'installed' && existing.hasApplicationToken) {
      const verdict = await askBitrixAboutInstall(deps.bitrix, existing);
      if (verdict === 'installed' || verdict === 'unreachable') return { kind: 'already_installed', portal: existing };
    }
    const portal = await store.portals.upsert(verified.portal);
    await store.tokens.save(portal.id, { kind: 'app' }, verified.user.id, req.tokens);
    const installed = await store.portals.markInstalled(portal.id, sha256Hex(req.applicationToken), req.ts);
    logger.info('app installed', { member_id: memberId, domain: installed.domain, by: req.ts === null ? 'installer' : 'event' });
    return { kind: 'installed', portal: installed };
  }

  /**
   * ONAPPINSTALL (API-only apps; also accepted at /events). Refusals all look alike to the sender:
   * 401 "Install event rejected." — the log says which rule refused it.
   */
  async function installFromEvent(event: InstallEvent): Promise<Portal> {
    const ts = eventTs(event.ts, now());
    if (!event.applicationToken || !event.refreshToken || ts === null) throw new AppError('unauthorized', EVENT_REJECTED);
    let verified: VerifiedLaunch;
    try {
      verified = await deps.verifyLaunch({
        authId: event.accessToken,
        domain: event.domain,
        memberId: event.memberId,
        serverEndpoint: event.serverEndpoint,
        fresh: true,
      });
    } catch (e) {
      if (e instanceof AppError && e.code === 'unavailable') throw e; // Bitrix24 did not answer: say so, count nothing
      logger.warn('install event rejected: the token did not verify', { member_id: event.memberId.slice(0, 64) });
      throw new AppError('unauthorized', EVENT_REJECTED);
    }
    const expiresIn = Number(event.expiresIn) || 3600;
    let outcome: InstallOutcome;
    try {
      outcome = await install({
        verified,
        tokens: { accessToken: event.accessToken, refreshToken: event.refreshToken, expiresAt: Math.min(verified.expiresAt, now() + expiresIn), scope: verified.portal.scope },
        applicationToken: event.applicationToken,
        ts,
      });
    } catch (e) {
      if (e instanceof AppError && e.code === 'forbidden') throw new AppError('unauthorized', EVENT_REJECTED);
      throw e;
    }
    if (outcome.kind === 'already_installed') {
      logger.warn('install event refused: the portal\'s app tokens still work (a replay or a forgery)', { member_id: outcome.portal.memberId });
      throw new AppError('unauthorized', EVENT_REJECTED);
    }
    await store.users.upsert(outcome.portal.id, verified.user.id, {
      name: verified.user.name,
      isAdmin: verified.user.isAdmin,
      lang: /^[a-z]{2}$/.test(event.languageId) ? event.languageId : 'en',
      photoUrl: verified.user.photoUrl,
      timeZone: verified.user.timeZone,
    });
    // After the reply: Bitrix24 wants a fast 2xx, and the binding needs round trips.
    setTimeout(() => void bindEvents(outcome.portal), 0);
    return outcome.portal;
  }

  return { install, installFromEvent, bindEvents, checkBindings };
}

export type Installer = ReturnType<typeof createInstaller>;
