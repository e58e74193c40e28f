/**
 * What a portal's administrator may see and do about the app on their portal (docs/install-health.md).
 * Verified administrators only: anyone else gets the same 404 as a path that does not exist.
 *
 * GET  /ui/admin            the admin panel (into the cabinet's dialog)
 * POST /ui/admin/bindings   repair the event bindings; answers the bindings section
 * GET  /api/admin/health    the same report as JSON
 * GET  /api/admin/calendar-jobs  the portal's calendar queue, pending and failed (the dead letters:
 *                                 jobs whose retries are spent or that no retry can fix, docs/calendar-sync.md)
 */
import { Elysia } from 'elysia';
import { AdminPanel, BindingsSection } from '../../views/admin-panel.tsx';
import type { ViewContext } from '../../views/view-model.ts';
import type { InstallHealth } from '../auth/install-health.ts';
import type { Sessions } from '../auth/sessions.ts';
import type { SignIn } from '../auth/sign-in.ts';
import { AppError } from '../domain/errors.ts';
import type { CalendarQueue } from '../domain/item-port.ts';
import type { Actor, Portal } from '../domain/types.ts';
import type { RequestMeta } from './edge.ts';
import type { Pages } from './pages.ts';
import { sessionGuard } from './session.ts';

export interface AdminDeps {
  signIn: Pick<SignIn, 'whoIs'>;
  health: Pick<InstallHealth, 'report' | 'repairBindings'>;
  queue: Pick<CalendarQueue, 'counts'>;
  sessions: Sessions;
  appOrigin: string;
  pages: Pages;
  viewFor(actor: Actor, request?: Request): Promise<ViewContext>;
  /** Told the session's portal (the access log). */
  meta?: RequestMeta;
}

export function adminRoutes(deps: AdminDeps) {
  const { signIn, health, pages } = deps;

  /** The session's portal when its user is an administrator of it (as Bitrix24 said at their launch). */
  const adminPortal = async (actor: Actor): Promise<Portal> => {
    const who = await signIn.whoIs(actor);
    if (!who?.user.isAdmin) throw new AppError('not_found', 'Nothing here.');
    return who.portal;
  };

  return new Elysia({ name: 'admin' })
    .use(sessionGuard(deps.sessions, deps.appOrigin, deps.meta))
    .get('/ui/admin', async ({ actor, request }) => {
      const portal = await adminPortal(actor);
      const [v, report] = await Promise.all([deps.viewFor(actor, request), health.report(portal)]);
      return pages.fragment(AdminPanel({ v, report }), { afterSettle: { openDialog: true } });
    })
    .post(
      '/ui/admin/bindings',
      async ({ actor, request }) => {
        const portal = await adminPortal(actor);
        const [v, bindings] = await Promise.all([deps.viewFor(actor, request), health.repairBindings(portal, 'admin page')]);
        const toast = bindings.ok ? { kind: 'success' as const, message: v.t('adminRepaired') } : undefined;
        return pages.fragment(BindingsSection({ v, bindings }), { toast });
      },
      { parse: 'none' },
    )
    .get('/api/admin/health', async ({ actor }) => await health.report(await adminPortal(actor)))
    .get('/api/admin/calendar-jobs', async ({ actor }) => await deps.queue.counts((await adminPortal(actor)).id));
}
