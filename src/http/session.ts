/**
 * POST /api/session (contract): the page's script exchanges fresh BX24 auth for a new app session,
 * with the same verification as a launch, so an expired session renews without a reload.
 * GET /api/users/current: the session's user and portal.
 */
import { Elysia, t } from 'elysia';
import { AppError } from '../domain/errors.ts';
import type { RouteContext } from './context.ts';
import { requireActor, sessionGuard } from './session-guard.ts';

export const sessionRoutes = (ctx: RouteContext) =>
  new Elysia({ name: 'session', seed: ctx })
    .use(sessionGuard({ sessions: ctx.sessions, appOrigin: ctx.appOrigin }))
    .post(
      '/api/session',
      async ({ body, set }) => {
        const verified = await ctx.verifyLaunch({ authId: body.AUTH_ID, domain: body.DOMAIN, memberId: body.member_id });
        const existing = await ctx.store.portals.findByMemberId(verified.portal.memberId);
        const known = existing ? await ctx.store.users.find(existing.id, verified.user.id) : null;
        const signed = await ctx.signIn(verified, body.LANG ?? known?.lang ?? 'en', null);
        set.headers['cache-control'] = 'no-store';
        return {
          token: signed.session.token,
          expires_at: signed.session.expiresAt,
          user: { id: signed.user.userId, name: signed.user.name, is_admin: signed.user.isAdmin, lang: signed.user.lang },
        };
      },
      {
        body: t.Object({
          AUTH_ID: t.String({ minLength: 1, maxLength: 512 }),
          DOMAIN: t.String({ minLength: 1, maxLength: 253 }),
          member_id: t.String({ minLength: 1, maxLength: 64 }),
          LANG: t.Optional(t.String({ maxLength: 8 })),
        }),
      },
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
