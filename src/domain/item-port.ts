/**
 * What the cabinet needs from storage, declared by the core and implemented by the store
 * (src/store/sqlite/items.ts). Every method takes the Actor and filters on portal AND owner: a row of
 * someone else is "not found".
 */
import type { Actor, Item, ItemStatus } from './types.ts';

export interface ItemInput {
  name: string;
  data: Record<string, unknown> | null;
  status: ItemStatus;
  startsAt: number | null;
  endsAt: number | null;
}

export interface ItemCursor {
  createdAt: number;
  id: string;
}

export interface ItemQuery {
  status?: ItemStatus;
  /** Case-insensitive substring of the name. */
  q?: string;
  limit: number;
  /** Continue after this item (newest first). */
  after?: ItemCursor;
}

/**
 * What an item change means for its Bitrix24 calendar event, written in the same transaction as the
 * change (the outbox) and performed later by the calendar sync (domain/calendar-sync.ts):
 * `update` brings the event to the item as it is then; `delete` removes the event and unlinks it.
 */
export type CalendarWork = { op: 'update'; dueAt: number } | { op: 'delete'; eventId: string };

export type UpdateResult = { kind: 'updated'; item: Item } | { kind: 'conflict'; current: Item } | { kind: 'not_found' };

export interface ItemRepo {
  list(actor: Actor, query: ItemQuery): Promise<{ items: Item[]; next: ItemCursor | null }>;
  /**
   * The same page as the JSON API shows it: each item's API JSON as stored with the row (a list is
   * then a concatenation), or the Item itself where none is stored (dates the store cannot write as
   * JavaScript does: outside years 1-9999), for the caller to encode.
   */
  listJson(actor: Actor, query: ItemQuery): Promise<{ items: (StoredJson | Item)[]; next: ItemCursor | null }>;
  find(actor: Actor, id: string): Promise<Item | null>;
  create(actor: Actor, id: string, input: ItemInput, now: number): Promise<Item>;
  /** With `work`, the calendar write is queued in the same transaction (only if the version matched). */
  update(actor: Actor, id: string, expectedVersion: number, input: ItemInput, now: number, work?: CalendarWork): Promise<UpdateResult>;
  /**
   * Links the item to its new event: in the calendar and in step. An item linked meanwhile, without a
   * start or gone keeps its state, and the deletion of `eventId` is queued in the same transaction.
   */
  /**
   * The item as its calendar event now is (a change made in Bitrix24): only while it is still linked to
   * `eventId` and no write of ours is pending (that write wins and will overwrite the event). Null when
   * neither holds. Bumps the version, so a form opened before sees a conflict.
   */
  applyFromCalendar(actor: Actor, id: string, eventId: string, input: ItemInput, now: number): Promise<Item | null>;
  setCalendarEvent(actor: Actor, id: string, eventId: string, now: number): Promise<Item | null>;
  /** Deletes the item and, in the same transaction, queues the deletion of its calendar event; the row deleted, or null. */
  delete(actor: Actor, id: string, now: number): Promise<Item | null>;
  /** How many items the actor has (for the per-user limit). */
  count(actor: Actor): Promise<number>;
}

/** One queued calendar write, as the sync claims it. */
export interface CalendarJob {
  id: number;
  portalId: number;
  ownerId: number;
  itemId: string;
  /** An outbox write (`update`, `delete`), or `pull`: Bitrix24 says the event changed, read it. */
  op: CalendarWork['op'] | 'pull';
  eventId: string | null;
  attempts: number;
  generation: number;
  /** This claim's lease: only its holder may give the job back or reschedule it. */
  lease: string;
}

/**
 * The calendar queue (the store implements it): writes to Bitrix24 queued with item changes, and
 * changes Bitrix24 reported, to be read back. A claimed job is leased: a worker that dies leaves it to
 * be claimed again once the lease ends, and every job is safe to repeat.
 */
export interface CalendarQueue {
  /**
   * Bitrix24 reported a change of event `eventId` on the portal: a `pull` for each item linked to it
   * (one per item, re-queued by later reports). How many items; 0 for an event no item is linked to.
   */
  pull(portalId: number, eventId: string, now: number): Promise<number>;
  /** The offline-event batch read from the portal and not yet cleared there (its process_id), if any. */
  pendingBatch(portalId: number): Promise<string | null>;
  startBatch(portalId: number, processId: string, now: number): Promise<void>;
  endBatch(portalId: number): Promise<void>;
  /** Up to `limit` jobs due at `now`, each leased until now + leaseSec. */
  claimDue(now: number, limit: number, leaseSec: number): Promise<CalendarJob[]>;
  /** Written: the job goes and its item shows "in step", unless a newer change re-queued it meanwhile. */
  done(job: CalendarJob): Promise<void>;
  /** The event is gone from Bitrix24 (deleted there): the item is unlinked and the job goes. */
  eventGone(job: CalendarJob): Promise<void>;
  retryAt(job: CalendarJob, nextAt: number, error: string): Promise<void>;
  /** No retry will help: the job stays `failed` and its item says so, until the user retries. */
  fail(job: CalendarJob, error: string): Promise<void>;
  /** The user's retry: the item's failed write is due now. False when there is none. */
  retryItem(actor: Actor, itemId: string, now: number): Promise<boolean>;
  /**
   * The user has fresh tokens again (a launch): every write of theirs that failed for want of tokens is
   * due now, deletions included (their item has no row, so no retry button). How many.
   */
  retryReconnected(actor: Actor, now: number): Promise<number>;
  /** When the next pending job is due (unix seconds), or null when none is pending. */
  nextDue(): Promise<number | null>;
  /** Pending and failed jobs (the admin page, metrics). */
  /** Pending and failed (dead-letter) jobs, of one portal or of all. */
  counts(portalId?: number): Promise<{ pending: number; failed: number }>;
  /**
   * The same by direction: the outbox (writes to Bitrix24: update, delete) and the inbox (changes
   * Bitrix24 reported: pull), with when the oldest pending job was queued (null: none pending).
   */
  depth(portalId?: number): Promise<QueueDepth>;
}

export interface QueueDepth {
  outbox: { pending: number; failed: number };
  inbox: { pending: number; failed: number };
  /** Unix seconds when the oldest pending job was queued; null when none is pending. */
  oldestPendingAt: number | null;
}

/** Rows of `direction, state, n, oldest` (however the dialect spells them) as a QueueDepth. */
export function queueDepthOf(rows: { direction: string; state: string; n: number; oldest: number | null }[]): QueueDepth {
  const depth: QueueDepth = { outbox: { pending: 0, failed: 0 }, inbox: { pending: 0, failed: 0 }, oldestPendingAt: null };
  for (const r of rows) {
    const side = r.direction === 'inbox' ? depth.inbox : depth.outbox;
    if (r.state === 'pending' || r.state === 'failed') side[r.state] += r.n;
    if (r.state === 'pending' && r.oldest !== null) depth.oldestPendingAt = Math.min(depth.oldestPendingAt ?? r.oldest, r.oldest);
  }
  return depth;
}

/** The cursor after a page read with one row more than `limit`: its last shown row, when there is more. */
export function nextCursorOf(rows: readonly { created_at: number | string; id: string }[], limit: number): ItemCursor | null {
  const last = rows[limit - 1];
  return rows.length > limit && last ? { createdAt: Number(last.created_at), id: last.id } : null;
}

/** An item's API JSON as the store keeps it: text, or its UTF-8 bytes (never decoded on the way out). */
export type StoredJson = string | Uint8Array;
