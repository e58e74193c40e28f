import type { VerifiedLaunch } from '../auth/launch-verifier.ts';
import type { OAuthTokens } from '../domain/types.ts';

/** The shape of a Bitrix24 refresh token as the app accepts one from a browser. */
export const REFRESH_TOKEN_SHAPE = '^[A-Za-z0-9._-]{16,512}$';
const refreshShape = new RegExp(REFRESH_TOKEN_SHAPE);

/**
 * The user's tokens after a verified launch or session renewal, kept for server-side calls on their
 * behalf (the calendar link). AUTH_ID was vouched for; REFRESH_ID travels with it and proves itself
 * on first use. Null when there is no well-formed refresh token to keep.
 */
export function verifiedPair(accessToken: string, refreshToken: string | null | undefined, verified: VerifiedLaunch): OAuthTokens | null {
  if (!refreshToken || !refreshShape.test(refreshToken)) return null;
  return { accessToken, refreshToken, expiresAt: verified.expiresAt, scope: verified.portal.scope };
}

/** The same, from a launch form. */
export const launchTokens = (form: URLSearchParams, verified: VerifiedLaunch): OAuthTokens | null =>
  verifiedPair(form.get('AUTH_ID') ?? '', form.get('REFRESH_ID'), verified);
