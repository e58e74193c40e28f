/**
 * Keeps items and their Bitrix24 calendar events in step, wired together (docs/calendar-sync.md): the
 * gateway to the user's calendar, the sync worker over the calendar queue, the offline-event drain,
 * and when each runs — after every change, when the next job falls due (a timer when that is within a
 * minute; the server's periodic run otherwise), at start, and on the events Bitrix24 sends.
 */
import type { Bitrix } from '../bitrix/index.ts';
import type { Clock } from '../clock.ts';
import { createCalendarSync, type SyncSummary } from '../domain/calendar-sync.ts';
import type { Actor, Portal } from '../domain/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { createCalendarGateway } from './calendar.ts';
import { createOfflineEvents, type OfflineDrainSummary } from './offline-events.ts';

export function createCalendarKeeper({ store, bitrix, clock, logger }: { store: Store; bitrix: Bitrix; clock: Clock; logger: Logger }) {
  const queue = store.calendarQueue;
  const gateway = createCalendarGateway(store, bitrix);
  const sync = createCalendarSync({
    queue,
    items: store.items,
    calendar: gateway,
    now: clock.now,
    onFailure: (job, error) => logger.warn('calendar write failed', { job: job.id, op: job.op, attempts: job.attempts + 1, reason: error.message }),
  });
  const offline = createOfflineEvents({ store, queue, bitrix, logger, now: clock.now });

  let wake: ReturnType<typeof setTimeout> | undefined;
  /** A job due within a minute (the write delay, a retry's back-off) wakes a run at its time. */
  const scheduleWake = async () => {
    const due = await queue.nextDue();
    if (due === null || due - clock.now() > 60) return;
    clearTimeout(wake);
    wake = setTimeout(start, Math.max(0, due - clock.now()) * 1000 + 50);
    wake.unref?.();
  };
  async function runSync(): Promise<SyncSummary> {
    const summary = await sync.run();
    await scheduleWake();
    return summary;
  }
  /** A run now, in the background (after a change, an event, a sign-in). */
  function start(): void {
    void runSync().catch((error: unknown) => logger.error('calendar sync failed', { error }));
  }

  return {
    gateway,
    start,
    runSync,
    /** Installed portals' offline events into the queue (see `drainAll` for `liveTokensOnly`), then a run. */
    async runOfflineEvents(opts: { liveTokensOnly?: boolean } = {}): Promise<OfflineDrainSummary> {
      const summary = await offline.drainAll(opts);
      if (summary.pulls > 0) await runSync();
      return summary;
    },
    /** What POST /events does with the events the app binds besides its lifecycle. */
    portalEvents: {
      async calendarEntryChanged(portal: Portal, eventId: string) {
        if (portal.status === 'installed' && (await queue.pull(portal.id, eventId, clock.now())) > 0) start();
      },
      offlineEventsWaiting(portal: Portal) {
        if (portal.status !== 'installed') return;
        void offline
          .waiting(portal)
          ?.then((r) => r.pulls > 0 && start())
          .catch((error: unknown) => logger.warn('offline events not drained', { member_id: portal.memberId, error }));
      },
    },
    /** The user has fresh tokens: writes that failed for want of them are due again (deletions have no retry button). */
    userReconnected(actor: Actor): void {
      void queue
        .retryReconnected(actor, clock.now())
        .then((n) => n > 0 && start())
        .catch((error: unknown) => logger.error('calendar retry after sign-in failed', { error }));
    },
    /** Background work in flight finished (graceful shutdown); no timer left. */
    async idle(): Promise<void> {
      clearTimeout(wake);
      await sync.idle();
    },
  };
}

export type CalendarKeeper = ReturnType<typeof createCalendarKeeper>;
