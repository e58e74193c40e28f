/**
 * After a verified launch (or OAuth code exchange): record the portal and the user, keep the user's
 * tokens for server-side calls on their behalf (encrypted by the store), and open an app session.
 *
 * A launch never changes who owns a portal: it creates an unknown portal as `pending`, and never moves
 * a portal's status or application token (only src/auth/portal-install.ts does). A portal the app was
 * removed from stays closed however genuine the token once was: `uninstalled`, or removed with its
 * data, it answers "not installed" until a verified install. A fresh verification proves the app
 * installed, so it drops a pending uninstall claim.
 */
import { AppError } from '../domain/errors.ts';
import type { OAuthTokens, Portal, User } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import type { VerifiedLaunch } from './launch-verifier.ts';
import type { Uninstaller } from './portal-uninstall.ts';
import type { IssuedSession, Sessions } from './sessions.ts';

export interface SignedIn {
  portal: Portal;
  user: User;
  session: IssuedSession;
}

const LANGS = /^[a-z]{2}$/;

export const notInstalled = () =>
  new AppError('not_installed', 'The app is not installed on this portal. An administrator can install it again from Bitrix24.');

export function createSignIn(store: Store, sessions: Sessions, uninstaller: Pick<Uninstaller, 'disprovedBy'>) {
  return async function signIn(v: VerifiedLaunch, lang: string, tokens: OAuthTokens | null): Promise<SignedIn> {
    // One statement checks "not closed" and writes, so an uninstall cannot slip in between.
    const portal = await store.portals.recordLaunch(v.portal);
    if (!portal) throw notInstalled();
    await uninstaller.disprovedBy(portal, v.verifiedAt);
    const user = await store.users.upsert(portal.id, v.user.id, {
      name: v.user.name,
      isAdmin: v.user.isAdmin,
      lang: LANGS.test(lang) ? lang : 'en',
      photoUrl: v.user.photoUrl,
      timeZone: v.user.timeZone,
    });
    if (tokens) await store.tokens.save(portal.id, { kind: 'user', userId: user.userId }, user.userId, tokens);
    const session = await sessions.issue({ portalId: portal.id, userId: user.userId });
    return { portal, user, session };
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
