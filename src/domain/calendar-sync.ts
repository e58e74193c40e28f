/**
 * Keeps each linked item and its Bitrix24 calendar event one thing, from the app's side. An item
 * change queues what it means for the event in its own transaction (item-port.ts CalendarWork); this
 * worker performs the queued writes with the owner's stored tokens, retries with back-off what may
 * succeed later, and marks the item `failed` (with a retry button in its row) when no retry will help
 * or the retries are spent. Every write is safe to repeat: `update` sends the item as it is when the
 * job runs, `delete` of an event already gone is done. A job leased by a worker that died is claimed
 * again when its lease ends, so a crash loses nothing.
 */
import type { CalendarJob, CalendarOutbox, ItemRepo } from './item-port.ts';
import type { Actor, Item } from './types.ts';

/** Why a calendar write failed, as far as the worker needs to know. */
export type CalendarFailure =
  /** Bitrix24 did not answer, or asked us to slow down: try again later. */
  | 'retry'
  /** The user's tokens are missing or dead: nothing works until they open the app again. */
  | 'reconnect'
  /** Bitrix24 refused the write (access, a bad value): trying again changes nothing. */
  | 'refused';

export class CalendarWriteError extends Error {
  constructor(
    readonly failure: CalendarFailure,
    message: string,
  ) {
    super(message);
    this.name = 'CalendarWriteError';
  }
}

/** The user's own Bitrix24 calendar (integrations/calendar.ts). Throws CalendarWriteError. */
export interface CalendarGateway {
  add(actor: Actor, item: Item): Promise<string>;
  update(actor: Actor, eventId: string, item: Item): Promise<void>;
  delete(actor: Actor, eventId: string): Promise<void>;
  /** Whether the event still exists (a write Bitrix24 refused may be for an event deleted there). */
  exists(actor: Actor, eventId: string): Promise<boolean>;
}

/** Seconds to wait before each retry; after the last, an update fails and the item says so (a deletion keeps trying every 3 h). */
export const RETRY_DELAYS = [10, 60, 300, 900, 3600, 3 * 3600];
const LEASE_SEC = 120;
const BATCH = 20;

export interface SyncSummary {
  done: number;
  retried: number;
  failed: number;
}

export interface CalendarSyncDeps {
  outbox: CalendarOutbox;
  items: ItemRepo;
  calendar: CalendarGateway;
  now: () => number;
  /** Told about each failed attempt (no tokens, no item content: ids and the reason). */
  onFailure?: (job: CalendarJob, error: CalendarWriteError | Error) => void;
}

export function createCalendarSync(deps: CalendarSyncDeps) {
  const { outbox, calendar } = deps;

  /**
   * Bitrix24 answers a write to an event that no longer exists (deleted in the calendar) with the same
   * bland refusal as any other: ask whether it exists before calling the refusal final.
   */
  async function write(actor: Actor, eventId: string, act: () => Promise<void>): Promise<'done' | 'gone'> {
    try {
      await act();
      return 'done';
    } catch (e) {
      if (e instanceof CalendarWriteError && e.failure === 'refused' && !(await calendar.exists(actor, eventId))) return 'gone';
      throw e;
    }
  }

  /** Performs one job; throws what the write threw. */
  async function perform(job: CalendarJob): Promise<'done' | 'gone'> {
    const actor: Actor = { portalId: job.portalId, userId: job.ownerId };
    if (job.op === 'delete') return write(actor, job.eventId!, () => calendar.delete(actor, job.eventId!));
    const item = await deps.items.find(actor, job.itemId);
    // Deleted or unlinked since: whatever that change queued takes care of the event.
    if (!item?.calendarEventId || item.startsAt === null) return 'done';
    const eventId = item.calendarEventId;
    return write(actor, eventId, () => calendar.update(actor, eventId, item));
  }

  async function settle(job: CalendarJob, summary: SyncSummary) {
    try {
      const outcome = await perform(job);
      await (outcome === 'gone' ? outbox.eventGone(job) : outbox.done(job));
      summary.done++;
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      deps.onFailure?.(job, error);
      const failure = e instanceof CalendarWriteError ? e.failure : 'retry';
      // A deletion has no row to show a retry button in: while Bitrix24 does not answer, it keeps
      // trying at the longest interval rather than leaving the event behind.
      const delay = RETRY_DELAYS[job.attempts] ?? (job.op === 'delete' ? RETRY_DELAYS.at(-1) : undefined);
      const reason = e instanceof CalendarWriteError ? e.failure : 'error';
      if (failure === 'retry' && delay !== undefined) {
        await outbox.retryAt(job, deps.now() + delay, reason);
        summary.retried++;
      } else {
        await outbox.fail(job, reason);
        summary.failed++;
      }
    }
  }

  async function drain(): Promise<SyncSummary> {
    const summary: SyncSummary = { done: 0, retried: 0, failed: 0 };
    for (;;) {
      const jobs = await outbox.claimDue(deps.now(), BATCH, LEASE_SEC);
      if (jobs.length === 0) return summary;
      // In order, one at a time: jobs of one item never overtake each other, and one portal's
      // writes stay within what its REST budget allows (the client waits for it).
      for (const job of jobs) await settle(job, summary);
    }
  }

  let current: Promise<SyncSummary> | null = null;
  let next: Promise<SyncSummary> | null = null;

  /**
   * Performs every due job. A call while a run is in flight (which may have looked before the
   * caller's change was committed) gets one more run after it, shared by every caller meanwhile.
   */
  function run(): Promise<SyncSummary> {
    if (!current) {
      current = drain().finally(() => {
        current = null;
      });
      return current;
    }
    next ??= current
      .catch(() => undefined)
      .then(() => {
        next = null;
        return run();
      });
    return next;
  }

  return {
    run,
    /** Resolves when no run is in flight (graceful shutdown). */
    async idle(): Promise<void> {
      await current?.catch(() => undefined);
      await next?.catch(() => undefined);
    },
  };
}

export type CalendarSync = ReturnType<typeof createCalendarSync>;
