/**
 * The app session over HTTP: who is calling, and how a page gets or renews its session.
 *
 * A request is authenticated by an app session presented as `Authorization: Bearer <token>` (what
 * htmx and API clients send; works with third-party cookies blocked) or, as a convenience, the session
 * cookie. Cookie-authenticated unsafe requests must come from our own origin (CSRF); header-
 * authenticated ones cannot be forged cross-site and need no such check.
 *
 * POST /api/session (contract): the page's script exchanges fresh BX24 auth for a new app session,
 * verified like a launch (src/auth/sign-in.ts), so an expired session renews without a reload.
 * GET /api/users/current: the session's user and portal.
 */
import { Type } from '@sinclair/typebox';
import { Elysia, t } from 'elysia';
import type { Sessions } from '../auth/sessions.ts';
import { notInstalled, REFRESH_TOKEN_SHAPE, type SignIn } from '../auth/sign-in.ts';
import { AppError } from '../domain/errors.ts';
import type { Actor } from '../domain/types.ts';
import type { RequestMeta } from './edge.ts';
import { apiDoc } from './openapi.ts';
import { readJsonBody } from './request.ts';

export const SESSION_COOKIE = 'b24app_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const TOKEN = /^[A-Za-z0-9_-]{20,128}$/;

export function bearerToken(request: Request): string | null {
  const m = /^Bearer\s+(\S+)$/.exec(request.headers.get('authorization') ?? '');
  return m && TOKEN.test(m[1]!) ? m[1]! : null;
}

/** A cookie's value when it is a well-formed random token (20-128 URL-safe characters). */
export function cookieValue(request: Request, name: string): string | null {
  for (const part of (request.headers.get('cookie') ?? '').split(';', 50)) {
    const [k, v] = part.trim().split('=');
    if (k === name && v && TOKEN.test(v)) return v;
  }
  return null;
}

export const cookieToken = (request: Request): string | null => cookieValue(request, SESSION_COOKIE);

/** A cookie-borne unsafe request is ours only if the browser says it came from our origin. */
function isSameOrigin(request: Request, appOrigin: string): boolean {
  const site = request.headers.get('sec-fetch-site');
  return site ? site === 'same-origin' : request.headers.get('origin') === appOrigin;
}

export const sessionExpired = () => new AppError('unauthorized', 'Your session has expired. Reopen the app from Bitrix24.');

/**
 * Resolves `actor` for every route of the plugin that uses it: the session's (portal, user), or a
 * 401 (`not_installed` once the app was removed from the portal). Tells `meta` the session's portal,
 * which the access log names.
 */
export const sessionGuard = (sessions: Sessions, appOrigin: string, meta?: RequestMeta) =>
  new Elysia({ name: 'session-guard', seed: appOrigin }).resolve({ as: 'scoped' }, async ({ request }): Promise<{ actor: Actor }> => {
    const header = bearerToken(request);
    const token = header ?? cookieToken(request);
    if (!token) throw sessionExpired();
    if (!header && !SAFE_METHODS.has(request.method) && !isSameOrigin(request, appOrigin)) {
      throw new AppError('forbidden', 'Cross-site request refused.');
    }
    const s = await sessions.verify(token);
    if (s?.closed) throw notInstalled();
    if (!s) throw sessionExpired();
    if (s.memberId) meta?.notePortal(request, s.memberId);
    return { actor: { portalId: s.portalId, userId: s.userId } };
  });

const SessionBody = t.Object({
  AUTH_ID: t.String({ minLength: 1, maxLength: 512, description: "The page's BX24 access token (BX24.getAuth().access_token)." }),
  DOMAIN: t.String({ minLength: 1, maxLength: 253, description: "The portal's domain." }),
  member_id: t.String({ minLength: 1, maxLength: 64, description: "The portal's member_id." }),
  REFRESH_ID: t.Optional(t.String({ pattern: REFRESH_TOKEN_SHAPE, description: 'The refresh token, if the page has one: kept for calendar writes.' })),
  LANG: t.Optional(t.String({ maxLength: 8 })),
});

const UserFields = {
  id: Type.Integer({ description: "The user's id on the portal." }),
  name: Type.String(),
  is_admin: Type.Boolean({ description: 'A portal administrator, as Bitrix24 said at the last launch.' }),
  lang: Type.String({ description: "The user's language (en, ru, …)." }),
};
const SessionAnswer = Type.Object(
  {
    token: Type.String({ description: 'Send as `Authorization: Bearer <token>`.' }),
    expires_at: Type.Integer({ description: 'Unix seconds; each use moves it later, up to an absolute limit.' }),
    user: Type.Object(UserFields, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
const CurrentUser = Type.Object(
  {
    ...UserFields,
    portal: Type.Object({ member_id: Type.String(), domain: Type.String() }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
const EXAMPLE_USER = { id: 7, name: 'Ada Lovelace', is_admin: false, lang: 'en' };

export const sessionRoutes = (signIn: SignIn, sessions: Sessions, appOrigin: string, meta: RequestMeta) =>
  new Elysia({ name: 'session' })
    .post(
      '/api/session',
      async ({ request }) => {
        // Read with our JSON reader (415/413/400/422, never a 500), not Elysia's body schema, whose
        // error builder throws on values such as {"AUTH_ID":{"toString":1}}.
        const body = await readJsonBody(request, SessionBody);
        const signed = await signIn.renew(
          { authId: body.AUTH_ID, refreshId: body.REFRESH_ID ?? null, domain: body.DOMAIN, memberId: body.member_id, lang: body.LANG ?? null },
          meta.clientIp(request),
        );
        const { user, session } = signed;
        meta.notePortal(request, signed.portal.memberId);
        return {
          token: session.token,
          expires_at: session.expiresAt,
          user: { id: user.userId, name: user.name, is_admin: user.isAdmin, lang: user.lang },
        };
      },
      {
        parse: 'none',
        detail: apiDoc({
          summary: 'Open a session with the BX24 auth of a page Bitrix24 framed',
          description:
            'Verified with Bitrix24 like a launch (the token must be one Bitrix24 issued to this app for this portal and user). ' +
            'Failed attempts are limited per client address (429).',
          public: true,
          body: {
            schema: SessionBody,
            examples: {
              renew: {
                summary: 'From BX24.getAuth()',
                value: { AUTH_ID: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', REFRESH_ID: 'f0e1d2c3b4a5968778695a4b3c2d1e0f', DOMAIN: 'acme.bitrix24.com', member_id: '0a1b2c3d4e5f60718293a4b5c6d7e8f9', LANG: 'en' },
              },
            },
          },
          ok: { 200: { description: 'A new session.', schema: SessionAnswer, example: { token: 'Yk3n0v5QbZt8x2LrW7m9pJ4sD1fH6gA0cE2uV8iO5yT', expires_at: 1795680000, user: EXAMPLE_USER } } },
          errors: ['invalid', 'unauthorized', 'not_installed', 'payment_required', 'payload_too_large', 'unsupported_media_type', 'unprocessable', 'rate_limited', 'unavailable'],
          errorExamples: { unauthorized: { message: 'This launch could not be verified with Bitrix24. Open the app from your portal again.' } },
        }),
      },
    )
    .use(sessionGuard(sessions, appOrigin, meta))
    .get('/api/users/current', async ({ actor }) => {
      const who = await signIn.whoIs(actor);
      if (!who) throw sessionExpired();
      const { user, portal } = who;
      return { id: user.userId, name: user.name, is_admin: user.isAdmin, lang: user.lang, portal: { member_id: portal.memberId, domain: portal.domain } };
    }, {
      detail: apiDoc({
        summary: "The session's user and portal",
        ok: { 200: { description: 'Who is calling.', schema: CurrentUser, example: { ...EXAMPLE_USER, portal: { member_id: '0a1b2c3d4e5f60718293a4b5c6d7e8f9', domain: 'acme.bitrix24.com' } } } },
        errors: [],
      }),
    });
