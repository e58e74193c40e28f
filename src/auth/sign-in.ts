/**
 * After a verified launch (or OAuth code exchange): record the portal and the user, keep the user's
 * tokens for server-side calls on their behalf (encrypted by the store), and open an app session.
 * A launch that arrives before ONAPPINSTALL creates the portal as `pending`; it never lowers an
 * installed portal and never touches the portal's application token.
 */
import type { OAuthTokens, Portal, User } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import type { VerifiedLaunch } from './launch-verifier.ts';
import type { IssuedSession, Sessions } from './sessions.ts';

export interface SignedIn {
  portal: Portal;
  user: User;
  session: IssuedSession;
}

const LANGS = /^[a-z]{2}$/;

export function createSignIn(store: Store, sessions: Sessions) {
  return async function signIn(v: VerifiedLaunch, lang: string, tokens: OAuthTokens | null): Promise<SignedIn> {
    const portal = await store.portals.upsert(v.portal, v.installed ? 'installed' : 'pending');
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
