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
import { Type } from '@sinclair/typebox';
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
import { apiDoc } from './openapi.ts';
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

const Seconds = Type.Union([Type.Integer({ description: 'Unix seconds' }), Type.Null()]);
const Counts = Type.Object({ pending: Type.Integer({ minimum: 0 }), failed: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
const Binding = { event: Type.String(), offline: Type.Boolean() };
/** `InstallReport` (src/auth/install-health.ts) as the API answers it. */
const HealthReport = Type.Object(
  {
    domain: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('installed'), Type.Literal('uninstalled')]),
    installedAt: Seconds,
    appTokens: Type.Object(
      {
        state: Type.Union([Type.Literal('live'), Type.Literal('needs_reauthorization')]),
        issuedAt: Seconds,
        refreshExpiresAt: Seconds,
        renewAt: Seconds,
      },
      { additionalProperties: false },
    ),
    bindings: Type.Union([
      Type.Object(
        {
          ok: Type.Literal(true),
          bindings: Type.Array(Type.Object({ ...Binding, present: Type.Boolean() }, { additionalProperties: false })),
          bound: Type.Array(Type.Object(Binding, { additionalProperties: false })),
        },
        { additionalProperties: false },
      ),
      Type.Object({ ok: Type.Literal(false), error: Type.String({ description: 'Why event.get could not be read.' }) }, { additionalProperties: false }),
    ]),
    calendarQueue: Type.Object({ outbox: Counts, inbox: Counts, oldestPendingAt: Seconds }, { additionalProperties: false }),
    restBudget: Type.Object({ level: Type.Number(), burst: Type.Number(), rate: Type.Number() }, { additionalProperties: false }),
    appStatus: Type.String({ description: "app.info's status letter: L local, F free, D demo, T trial, P paid, S subscription." }),
    subscription: Type.Union([
      Type.Object(
        { status: Type.String(), paymentExpired: Type.Boolean(), days: Type.Union([Type.Integer(), Type.Null()]), code: Type.String() },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
  },
  { additionalProperties: false },
);

const EXAMPLE_REPORT = {
  domain: 'acme.bitrix24.com',
  status: 'installed',
  installedAt: 1795000000,
  appTokens: { state: 'live', issuedAt: 1795600000, refreshExpiresAt: 1811152000, renewAt: 1803376000 },
  bindings: { ok: true, bindings: [{ event: 'ONAPPUNINSTALL', offline: false, present: true }], bound: [] },
  calendarQueue: { outbox: { pending: 0, failed: 0 }, inbox: { pending: 1, failed: 0 }, oldestPendingAt: 1795680000 },
  restBudget: { level: 3.5, burst: 50, rate: 2 },
  appStatus: 'L',
  subscription: null,
};

const adminOnly = 'For portal administrators only: anyone else gets 404, as for a path that does not exist.';

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
    .get('/api/admin/health', async ({ actor }) => await health.report(await adminPortal(actor)), {
      detail: apiDoc({
        summary: "The app's install on the session's portal: tokens, event bindings, calendar queue, REST budget",
        description: `${adminOnly} Asks Bitrix24 for the event bindings.`,
        ok: { 200: { description: 'The report the admin panel shows.', schema: HealthReport, example: EXAMPLE_REPORT } },
        errors: ['not_found'],
      }),
    })
    .get('/api/admin/calendar-jobs', async ({ actor }) => await deps.queue.counts((await adminPortal(actor)).id), {
      detail: apiDoc({
        summary: "The portal's calendar writes waiting (pending) and given up (failed)",
        description: adminOnly,
        ok: { 200: { description: 'Counts.', schema: Counts, example: { pending: 2, failed: 0 } } },
        errors: ['not_found'],
      }),
    });
}
