import type { VerifiedLaunch } from '../auth/launch-verifier.ts';
import type { OAuthTokens } from '../domain/types.ts';

/**
 * The user's tokens from a verified launch form, kept for server-side calls on their behalf (the
 * calendar link). AUTH_ID was vouched for; REFRESH_ID travels with it and proves itself on first use.
 */
export function launchTokens(form: URLSearchParams, verified: VerifiedLaunch): OAuthTokens | null {
  const refreshToken = form.get('REFRESH_ID');
  const accessToken = form.get('AUTH_ID');
  if (!refreshToken || !accessToken || !/^[A-Za-z0-9._-]{16,512}$/.test(refreshToken)) return null;
  return { accessToken, refreshToken, expiresAt: verified.expiresAt, scope: verified.portal.scope };
}
