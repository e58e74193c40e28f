/**
 * What a portal's administrator may look at about the app on their portal (the admin page of a later
 * step builds on it). Verified administrators only: anyone else gets the same 404 as a path that does
 * not exist.
 *
 * GET /api/admin/calendar-jobs: the portal's calendar queue, pending and failed (the dead letters: jobs
 * whose retries are spent or that no retry can fix, docs/calendar-sync.md).
 */
import { Elysia } from 'elysia';
import type { Sessions } from '../auth/sessions.ts';
import type { SignIn } from '../auth/sign-in.ts';
import { AppError } from '../domain/errors.ts';
import type { CalendarQueue } from '../domain/item-port.ts';
import { sessionGuard } from './session.ts';

export const adminRoutes = (signIn: Pick<SignIn, 'whoIs'>, queue: Pick<CalendarQueue, 'counts'>, sessions: Sessions, appOrigin: string) =>
  new Elysia({ name: 'admin' }).use(sessionGuard(sessions, appOrigin)).get('/api/admin/calendar-jobs', async ({ actor }) => {
    const who = await signIn.whoIs(actor);
    if (!who?.user.isAdmin) throw new AppError('not_found', 'Nothing here.');
    return await queue.counts(who.portal.id);
  });
