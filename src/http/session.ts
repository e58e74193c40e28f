/**
 * POST /api/session (contract): the page's script exchanges fresh BX24 auth for a new app session,
 * with the same verification as a launch, so an expired session renews without a reload. The
 * optional REFRESH_ID (BX24.getAuth's refresh_token) travels with the verified AUTH_ID, as in a launch.
 * GET /api/users/current: the session's user and portal.
 */
import { Elysia, t } from 'elysia';
import { AppError } from '../domain/errors.ts';
import type { RouteContext } from './context.ts';
import { REFRESH_TOKEN_SHAPE, verifiedPair } from './launch-tokens.ts';
import { readJsonBody } from './json-body.ts';
import { verifyClaim } from './launch-flow.ts';
import { clientIpOf } from './request-meta.ts';
import { requireActor, sessionGuard } from './session-guard.ts';

const SessionBody = t.Object({
  AUTH_ID: t.String({ minLength: 1, maxLength: 512 }),
  DOMAIN: t.String({ minLength: 1, maxLength: 253 }),
  member_id: t.String({ minLength: 1, maxLength: 64 }),
  REFRESH_ID: t.Optional(t.String({ pattern: REFRESH_TOKEN_SHAPE })),
  LANG: t.Optional(t.String({ maxLength: 8 })),
});

export const sessionRoutes = (ctx: RouteContext) =>
  new Elysia({ name: 'session', seed: ctx })
    .use(sessionGuard({ sessions: ctx.sessions, appOrigin: ctx.appOrigin }))
    .post(
      '/api/session',
      async ({ set, request }) => {
        // Read with our JSON reader (415/413/400/422, never a 500), not Elysia's body schema, whose
        // error builder throws on values such as {"AUTH_ID":{"toString":1}}.
        const body = await readJsonBody(request, SessionBody);
        const { verified } = await verifyClaim(ctx, { authId: body.AUTH_ID, domain: body.DOMAIN, memberId: body.member_id }, clientIpOf(request));
        const existing = await ctx.store.portals.findByMemberId(verified.portal.memberId);
        const known = existing ? await ctx.store.users.find(existing.id, verified.user.id) : null;
        // BX24.refreshAuth hands the page a fresh pair: keep it, so server-side calls on the user's
        // behalf (the calendar link) work again after a renewal.
        const tokens = verifiedPair(body.AUTH_ID, body.REFRESH_ID, verified);
        const signed = await ctx.signIn(verified, body.LANG ?? known?.lang ?? 'en', tokens);
        set.headers['cache-control'] = 'no-store';
        return {
          token: signed.session.token,
          expires_at: signed.session.expiresAt,
          user: { id: signed.user.userId, name: signed.user.name, is_admin: signed.user.isAdmin, lang: signed.user.lang },
        };
      },
      { parse: 'none' },
    )
    .get('/api/users/current', async ({ actor }) => {
      const a = requireActor(actor);
      const [user, portal] = await Promise.all([ctx.store.users.find(a.portalId, a.userId), ctx.store.portals.findById(a.portalId)]);
      if (!user || !portal) throw new AppError('unauthorized', 'Your session has expired. Reopen the app from Bitrix24.');
      return {
        id: user.userId,
        name: user.name,
        is_admin: user.isAdmin,
        lang: user.lang,
        portal: { member_id: portal.memberId, domain: portal.domain },
      };
    });
