/**
 * Who is using the app, from a launch to a session: every way in (the app page, the installer page,
 * a session renewal, the OAuth code flow) verifies its claim here, records the portal and the user,
 * keeps the user's tokens for server-side calls on their behalf (encrypted by the store), and opens
 * an app session. The routes only read the request and render the answer.
 *
 * A launch never changes who owns a portal, except as an install by the rules of portal-install.ts:
 * a fresh verification of an administrator, on the installer page, or on the app page of a portal the
 * app does not hold as installed (its install never reached us, or an uninstall it could not confirm
 * was carried out: Bitrix24 shows the app page only where the app is installed). A portal not held as
 * installed is never opened on a cached verdict. A portal the app was removed from stays closed however
 * genuine the token once was, until a verified install; a fresh verification proves the app installed,
 * so it drops a pending uninstall claim.
 */
import { systemClock } from '../clock.ts';
import { AppError, SubscriptionExpired } from '../domain/errors.ts';
import type { Actor, OAuthTokens, Portal, User } from '../domain/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { VerifyLaunchFrom } from './attempt-limiter.ts';
import type { LaunchClaim, VerifiedLaunch } from './launch-verifier.ts';
import { isLapsed, type Billing } from './billing.ts';
import { ExpiringCache } from './expiring-cache.ts';
import { marketUrl } from './portal-domain.ts';
import type { Installer } from './portal-install.ts';
import type { Uninstaller } from './portal-uninstall.ts';
import type { IssuedSession, Sessions } from './sessions.ts';

export interface SignedIn {
  portal: Portal;
  user: User;
  session: IssuedSession;
}

/** A launch form as the portal posted it (the app page or the installer page); every field unchecked. */
export interface LaunchForm {
  authId: string;
  refreshId: string | null;
  domain: string;
  memberId: string;
  serverEndpoint: string | null;
  applicationToken: string | null;
  lang: string;
  page: 'app' | 'installer';
}

/** A session renewal from the page's script (BX24.getAuth), already of the API's shape. */
export interface Renewal {
  authId: string;
  refreshId: string | null;
  domain: string;
  memberId: string;
  /** The page's language; the user's known one (else English) when absent. */
  lang: string | null;
}

/** The shape of a Bitrix24 refresh token as the app accepts one from a browser. */
export const REFRESH_TOKEN_SHAPE = '^[A-Za-z0-9._-]{16,512}$';
const refreshShape = new RegExp(REFRESH_TOKEN_SHAPE);
const APPLICATION_TOKEN_SHAPE = /^[A-Za-z0-9._-]{8,128}$/;
const LANGS = /^[a-z]{2}$/;

export const notInstalled = () =>
  new AppError('not_installed', 'The app is not installed on this portal. An administrator can install it again from Bitrix24.');

/**
 * The user's tokens after a verified launch or renewal. AUTH_ID was vouched for; REFRESH_ID travels
 * with it and proves itself on first use. Null when there is no well-formed refresh token to keep.
 */
function verifiedPair(accessToken: string, refreshToken: string | null, verified: VerifiedLaunch): OAuthTokens | null {
  if (!refreshToken || !refreshShape.test(refreshToken)) return null;
  return { accessToken, refreshToken, expiresAt: verified.expiresAt, scope: verified.portal.scope };
}

export interface SignInDeps {
  store: Store;
  sessions: Sessions;
  /** Launch verification behind the failed-attempt limiter (keyed by the client's address). */
  verifyLaunch: VerifyLaunchFrom;
  installer: Installer;
  uninstaller: Pick<Uninstaller, 'disprovedBy'>;
  logger: Logger;
  /** The user's tokens were just stored (writes that failed for want of them may be tried again). */
  onUserTokens?: (actor: { portalId: number; userId: number }) => void;
  /** A verified administrator opened the app page of an installed portal (install-health.ts checks the bindings). */
  onAdminLaunch?: (portal: Portal) => void;
  /** The portal's subscription (marketplace apps): a lapsed one stops launches and renewals at a clear page. */
  billing?: Pick<Billing, 'subscription'>;
  /** Unix milliseconds, for the one-second memory of `whoIs`. */
  nowMs?: () => number;
}

/** How long `whoIs` answers from memory: the session it serves is itself trusted for a second (sessions.ts). */
const WHO_IS_CACHE_MS = 1000;
const WHO_IS_CACHE_MAX = 10_000;

export function createSignIn(deps: SignInDeps) {
  const { store, sessions, installer, logger } = deps;
  const nowMs = deps.nowMs ?? systemClock.nowMs;
  const whoIsCache = new ExpiringCache<{ user: User; portal: Portal }>(WHO_IS_CACHE_MAX, nowMs);

  /**
   * Throws AppError('unauthorized') unless an allow-listed OAuth server vouches for the claim; a portal
   * the app does not hold as installed is asked about afresh (a cached verdict may predate its
   * uninstall). Also hands back the portal as held, when it is held as installed.
   */
  async function verifyClaim(claim: LaunchClaim, client: string): Promise<{ verified: VerifiedLaunch; held: Portal | null }> {
    let verified = await deps.verifyLaunch(claim, client);
    const portal = await store.portals.findByMemberId(verified.portal.memberId);
    const held = portal?.status === 'installed' ? portal : null;
    if (!held && verified.fromCache) verified = await deps.verifyLaunch({ ...claim, fresh: true }, client);
    return { verified, held };
  }

  /**
   * Stops here when the app's subscription on the portal has lapsed (billing.ts). When the portal would
   * not even say who the user is (it answers nothing unpaid), their last known admin flag picks the page.
   */
  async function gateSubscription(v: VerifiedLaunch, accessToken: string): Promise<void> {
    const subscription = await deps.billing?.subscription(v.portal, accessToken);
    if (!isLapsed(subscription ?? null)) return;
    await disproveClaim(v.portal.memberId, v.verifiedAt);
    throw new SubscriptionExpired(v.user.isAdmin, marketUrl(v.portal.clientEndpoint));
  }

  /**
   * An unpaid portal's launches stop before signIn, yet each is still a verification of a genuine token
   * of this app on this portal: it drops a pending uninstall claim as any verified launch does. (Else a
   * forged CLEAN=1 on a portal whose app tokens died while unpaid is carried out after the grace period,
   * whoever tried to open the app meanwhile.)
   */
  async function disproveClaim(memberId: string, verifiedAt: number): Promise<void> {
    const portal = await store.portals.findByMemberId(memberId);
    if (portal?.uninstallClaim) await deps.uninstaller.disprovedBy(portal, verifiedAt);
  }

  async function withKnownAdminFlag<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (!(e instanceof SubscriptionExpired) || e.isAdmin !== null || !e.launchedBy) throw e;
      await disproveClaim(e.launchedBy.memberId, e.launchedBy.verifiedAt);
      const portal = await store.portals.findByMemberId(e.launchedBy.memberId);
      const user = portal && (await store.users.find(portal.id, e.launchedBy.userId));
      throw new SubscriptionExpired(user?.isAdmin ?? false, e.renewUrl);
    }
  }

  /** No live app tokens stored for an installed portal: they were refused for good (or never kept). */
  async function appTokensDead(portal: Portal): Promise<boolean> {
    const tokens = await store.tokens.find(portal.id, { kind: 'app' });
    return !tokens || tokens.dead;
  }

  /** Records the verified portal and user, keeps their tokens, opens a session. */
  async function signIn(v: VerifiedLaunch, lang: string, tokens: OAuthTokens | null): Promise<SignedIn> {
    // One statement checks "not closed" and writes, so an uninstall cannot slip in between.
    const portal = await store.portals.recordLaunch(v.portal);
    if (!portal) throw notInstalled();
    await deps.uninstaller.disprovedBy(portal, v.verifiedAt);
    whoIsCache.delete(`${portal.id}:${v.user.id}`); // what this launch writes is what the next page shows
    const user = await store.users.upsert(portal.id, v.user.id, {
      name: v.user.name,
      isAdmin: v.user.isAdmin,
      lang: LANGS.test(lang) ? lang : 'en',
      photoUrl: v.user.photoUrl,
      timeZone: v.user.timeZone,
    });
    if (tokens) {
      await store.tokens.save(portal.id, { kind: 'user', userId: user.userId }, user.userId, tokens);
      deps.onUserTokens?.({ portalId: portal.id, userId: user.userId });
    }
    const session = await sessions.issue({ portalId: portal.id, userId: user.userId });
    return { portal, user, session };
  }

  /** A frame launch of the app page or the installer page: verified, perhaps an install, then signed in. */
  async function launch(form: LaunchForm, client: string): Promise<SignedIn> {
    const claim: LaunchClaim = {
      authId: form.authId,
      domain: form.domain,
      memberId: form.memberId,
      serverEndpoint: form.serverEndpoint ?? undefined,
      fresh: form.page === 'installer',
    };
    const checked = await verifyClaim(claim, client);
    const { held } = checked;
    let { verified } = checked;
    // Installed, but the app's own tokens died (unused past their lifetime, install-health.ts): an
    // administrator's launch is the way out, under the install's rules (a fresh verification; the
    // installer re-keys only tokens Bitrix24 refuses).
    const reauthorize = held && form.page === 'app' && verified.user.isAdmin && (await appTokensDead(held));
    if (reauthorize && verified.fromCache) verified = await deps.verifyLaunch({ ...claim, fresh: true }, client);
    let pair = verifiedPair(form.authId, form.refreshId, verified);
    const applicationToken = form.applicationToken ?? '';
    if (verified.user.isAdmin && (form.page === 'installer' || !held || reauthorize)) {
      if (pair && APPLICATION_TOKEN_SHAPE.test(applicationToken)) {
        const outcome = await installer.install({ verified, tokens: pair, applicationToken, ts: null });
        // A refresh token is single-use: the pair that became the app's is not also kept as the
        // admin's own (the admin's next launch brings a pair of its own).
        if (outcome.kind === 'installed') pair = null;
        await installer.bindEvents(outcome.portal);
      } else {
        logger.warn('admin launch without REFRESH_ID or APPLICATION_TOKEN: nothing installed', { member_id: verified.portal.memberId });
      }
    }
    await gateSubscription(verified, form.authId);
    const signedIn = await signIn(verified, form.lang, pair);
    if (verified.user.isAdmin && signedIn.portal.status === 'installed') deps.onAdminLaunch?.(signedIn.portal);
    return signedIn;
  }

  /** The page's script exchanges fresh BX24 auth for a new session, verified like a launch. */
  async function renew(r: Renewal, client: string): Promise<SignedIn> {
    const { verified } = await verifyClaim({ authId: r.authId, domain: r.domain, memberId: r.memberId }, client);
    await gateSubscription(verified, r.authId);
    let lang = r.lang;
    if (!lang) {
      const portal = await store.portals.findByMemberId(verified.portal.memberId);
      lang = (portal && (await store.users.find(portal.id, verified.user.id))?.lang) || 'en';
    }
    // BX24.refreshAuth hands the page a fresh pair: keep it, so server-side calls on the user's
    // behalf (the calendar link) work again after a renewal.
    return signIn(verified, lang, verifiedPair(r.authId, r.refreshId, verified));
  }

  return {
    signIn,
    verifyLaunch: deps.verifyLaunch,

    launch: (form: LaunchForm, client: string) => withKnownAdminFlag(() => launch(form, client)),
    renew: (r: Renewal, client: string) => withKnownAdminFlag(() => renew(r, client)),

    /**
     * The session's user and portal; null when either is gone. Every cabinet fragment asks (for the
     * user's language and time zone), so an answer is reused for a second.
     */
    async whoIs(actor: Actor): Promise<{ user: User; portal: Portal } | null> {
      const key = `${actor.portalId}:${actor.userId}`;
      const hit = whoIsCache.get(key);
      if (hit) return hit;
      const [user, portal] = await Promise.all([store.users.find(actor.portalId, actor.userId), store.portals.findById(actor.portalId)]);
      const value = user && portal ? { user, portal } : null;
      if (value) whoIsCache.set(key, value, nowMs() + WHO_IS_CACHE_MS);
      return value;
    },
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
