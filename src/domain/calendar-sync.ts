/**
 * Keeps each linked item and its Bitrix24 calendar event one thing, from the app's side. An item
 * change queues what it means for the event in its own transaction (item-port.ts CalendarWork); this
 * worker performs the queued writes with the owner's stored tokens, retries with back-off what may
 * succeed later, and marks the item `failed` (with a retry button in its row) when no retry will help
 * or the retries are spent. Every write is safe to repeat: `update` sends the item as it is when the
 * job runs, `delete` of an event already gone is done. A job leased by a worker that died is claimed
 * again when its lease ends, so a crash loses nothing.
 */
import type { CalendarJob, CalendarQueue, ItemInput, ItemRepo } from './item-port.ts';
import { CONTROL_CHARACTERS, NAME_MAX } from './items.ts';

const CONTROL_ALL = new RegExp(CONTROL_CHARACTERS.source, 'g');
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
  /** The event as Bitrix24 has it now; null when it no longer exists (deleted in the calendar). */
  read(actor: Actor, eventId: string): Promise<CalendarEventState | null>;
}

/** An item without an end goes to the calendar as this long (seconds). */
export const DEFAULT_EVENT_LENGTH = 3600;
/** The most of an event's description an item keeps as its notes (the edit form's own bound). */
const NOTES_MAX = 4000;

/** What the app reads of an event: what an item keeps of it. */
export interface CalendarEventState {
  /** Whose calendar it is in: a user's (`user`, with their id) or another kind. */
  calendar: { type: string; ownerId: number };
  name: string;
  description: string;
  /** Unix seconds (Bitrix24's DATE_FROM_TS_UTC / DATE_TO_TS_UTC). */
  startsAt: number;
  endsAt: number;
}

/**
 * The item as the event says, or null when nothing the item keeps differs. What the event cannot say
 * is kept: an item without an end was added as an hour, and such an hour is not an end; a name the
 * item could not hold is cut; an empty one keeps the item's.
 */
export function itemFromEvent(item: Item, event: CalendarEventState): ItemInput | null {
  // What an item cannot hold is left out: control characters (PostgreSQL cannot store NUL at all).
  const name = event.name.replace(CONTROL_ALL, '').trim().slice(0, NAME_MAX) || item.name;
  const notes = event.description.replace(CONTROL_ALL, '').slice(0, NOTES_MAX);
  const endsAt = item.endsAt === null && event.endsAt === event.startsAt + DEFAULT_EVENT_LENGTH ? null : event.endsAt;
  const currentNotes = typeof item.data?.notes === 'string' ? item.data.notes : '';
  if (name === item.name && notes === currentNotes && event.startsAt === item.startsAt && endsAt === item.endsAt) return null;
  const { notes: _old, ...rest } = item.data ?? {};
  const data = notes.trim() ? { ...rest, notes } : rest;
  return { name, data: Object.keys(data).length ? data : null, status: item.status, startsAt: event.startsAt, endsAt: endsAt !== null && endsAt < event.startsAt ? null : endsAt };
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
  queue: CalendarQueue;
  items: ItemRepo;
  calendar: CalendarGateway;
  now: () => number;
  /** Told about each failed attempt (no tokens, no item content: ids and the reason). */
  onFailure?: (job: CalendarJob, error: CalendarWriteError | Error) => void;
}

export function createCalendarSync(deps: CalendarSyncDeps) {
  const { queue, calendar } = deps;

  /**
   * Bitrix24 answers a write to an event that no longer exists (deleted in the calendar) with the same
   * bland refusal as any other: ask whether it exists before calling the refusal final.
   */
  async function write(actor: Actor, eventId: string, act: () => Promise<void>): Promise<'done' | 'gone'> {
    try {
      await act();
      return 'done';
    } catch (e) {
      if (e instanceof CalendarWriteError && e.failure === 'refused' && (await calendar.read(actor, eventId)) === null) return 'gone';
      throw e;
    }
  }

  /** Performs one job; throws what the write threw. */
  async function perform(job: CalendarJob): Promise<'done' | 'gone'> {
    const actor: Actor = { portalId: job.portalId, userId: job.ownerId };
    if (job.op === 'delete') return write(actor, job.eventId!, () => calendar.delete(actor, job.eventId!));
    const item = await deps.items.find(actor, job.itemId);
    if (job.op === 'pull') {
      // Events are hints: the event as Bitrix24 has it now is the truth, unless a write of ours is on
      // its way (it wins, and its own echo will then agree). An item unlinked since is not ours to move.
      const eventId = job.eventId!;
      if (!item || item.calendarEventId !== eventId || item.calendarSync === 'pending') return 'done';
      const event = await calendar.read(actor, eventId);
      if (!event) return 'gone';
      // Only the owner's own calendar speaks for the item (an id that names another calendar's entry changes nothing).
      if (event.calendar.type !== 'user' || event.calendar.ownerId !== actor.userId) return 'done';
      const next = itemFromEvent(item, event);
      if (next) await deps.items.applyFromCalendar(actor, item.id, eventId, next, deps.now());
      return 'done';
    }
    // Deleted or unlinked since: whatever that change queued takes care of the event.
    if (!item?.calendarEventId || item.startsAt === null) return 'done';
    const eventId = item.calendarEventId;
    return write(actor, eventId, () => calendar.update(actor, eventId, item));
  }

  async function settle(job: CalendarJob, summary: SyncSummary) {
    try {
      const outcome = await perform(job);
      await (outcome === 'gone' ? queue.eventGone(job) : queue.done(job));
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
        await queue.retryAt(job, deps.now() + delay, reason);
        summary.retried++;
      } else {
        await queue.fail(job, reason);
        summary.failed++;
      }
    }
  }

  async function drain(): Promise<SyncSummary> {
    const summary: SyncSummary = { done: 0, retried: 0, failed: 0 };
    for (;;) {
      const jobs = await queue.claimDue(deps.now(), BATCH, LEASE_SEC);
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
