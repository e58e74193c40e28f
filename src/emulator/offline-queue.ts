/**
 * One installation's offline event queue (DOCS api-reference/events/offline-events.md; CORE
 * EventOfflineTable). The queue keeps the current state, not the history: a record's MESSAGE_ID is
 * md5("EVENT_NAME|" + JSON of its data), and a change of an object that is already waiting updates
 * that record (TIMESTAMP_X, EVENT_DATA, EVENT_ADDITIONAL) instead of adding one. A batch reserved by
 * `event.offline.get` with `clear=0` carries a PROCESS_ID and is hidden from other reads; a change
 * while it is reserved adds a new record. Records are kept per `auth_connector` (source key).
 */
import { createHash } from 'node:crypto';
import { randomHex } from './ids.ts';

/** Records per installation; beyond it new records are dropped (and counted), never older ones. */
export const MAX_OFFLINE_RECORDS = 10_000;

export interface OfflineRecord {
  id: number;
  /** TIMESTAMP_X, in whole seconds as the database keeps it. */
  timestampMs: number;
  eventName: string;
  data: Record<string, unknown>;
  /** EVENT_ADDITIONAL.user_id: who made the change (0 when no user did). */
  userId: number;
  messageId: string;
  /** '' while waiting; the batch id once a read reserved it. */
  processId: string;
  /** Marked by event.offline.error; such records are read only with `error=1`. */
  error: boolean;
  connectorId: string;
}

export interface OfflineChange {
  eventName: string;
  data: Record<string, unknown>;
  userId: number;
  connectorId: string;
}

export type EnqueueOutcome = 'added' | 'merged' | 'dropped';

export const OFFLINE_FIELDS = ['ID', 'TIMESTAMP_X', 'EVENT_NAME', 'MESSAGE_ID', 'PROCESS_ID', 'ERROR'] as const;
export type OfflineField = (typeof OFFLINE_FIELDS)[number];
export type FilterOperation = '=' | '>' | '<' | '>=' | '<=';

export interface Criterion {
  field: OfflineField;
  op: FilterOperation;
  value: string | number;
}

export interface SortKey {
  field: OfflineField;
  descending: boolean;
}

export function messageIdOf(eventName: string, data: Record<string, unknown>): string {
  return createHash('md5').update(`${eventName}|${JSON.stringify(data)}`).digest('hex');
}

/** Writes a change into the queue: merged into the waiting record of the same object, else a new one. */
export function enqueueOffline(queue: OfflineRecord[], change: OfflineChange, nextId: () => number, nowMs: number): EnqueueOutcome {
  const messageId = messageIdOf(change.eventName, change.data);
  const timestampMs = Math.floor(nowMs / 1000) * 1000;
  const waiting = queue.find((r) => r.processId === '' && r.connectorId === change.connectorId && r.messageId === messageId);
  if (waiting) {
    Object.assign(waiting, { timestampMs, data: change.data, userId: change.userId });
    return 'merged';
  }
  if (queue.length >= MAX_OFFLINE_RECORDS) return 'dropped';
  queue.push({ id: nextId(), timestampMs, ...change, messageId, processId: '', error: false });
  return 'added';
}

function valueOf(r: OfflineRecord, field: OfflineField): string | number {
  switch (field) {
    case 'ID': return r.id;
    case 'TIMESTAMP_X': return r.timestampMs;
    case 'EVENT_NAME': return r.eventName;
    case 'MESSAGE_ID': return r.messageId;
    case 'PROCESS_ID': return r.processId;
    case 'ERROR': return r.error ? 1 : 0;
  }
}

function compare(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a).toUpperCase();
  const y = String(b).toUpperCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function matches(r: OfflineRecord, c: Criterion): boolean {
  const d = compare(valueOf(r, c.field), c.value);
  switch (c.op) {
    case '=': return d === 0;
    case '>': return d > 0;
    case '<': return d < 0;
    case '>=': return d >= 0;
    case '<=': return d <= 0;
  }
}

export interface Scope {
  connectorId: string;
  /** Only records with (true) or without (false) the error mark; undefined: both. */
  error?: boolean;
  /** Only records of this batch ('' = waiting ones); undefined: any. */
  processId?: string;
}

function inScope(r: OfflineRecord, scope: Scope): boolean {
  return (
    r.connectorId === scope.connectorId &&
    (scope.error === undefined || r.error === scope.error) &&
    (scope.processId === undefined || r.processId === scope.processId)
  );
}

/** Records in scope that pass every criterion, in `order` (ties by ID). */
export function selectRecords(queue: OfflineRecord[], scope: Scope, criteria: Criterion[], order: SortKey[]): OfflineRecord[] {
  const rows = queue.filter((r) => inScope(r, scope) && criteria.every((c) => matches(r, c)));
  return rows.sort((a, b) => {
    for (const key of order) {
      const d = compare(valueOf(a, key.field), valueOf(b, key.field));
      if (d !== 0) return key.descending ? -d : d;
    }
    return a.id - b.id;
  });
}

/** Stamps `records` with a new batch id (32 characters, like CORE's) and returns it. */
export function reserveRecords(records: OfflineRecord[]): string {
  const processId = randomHex(16);
  for (const r of records) r.processId = processId;
  return processId;
}

/** Removes the records `doomed` picks, in place; returns how many went. */
export function removeRecords(queue: OfflineRecord[], doomed: (r: OfflineRecord) => boolean): number {
  const keep = queue.filter((r) => !doomed(r));
  const removed = queue.length - keep.length;
  queue.splice(0, queue.length, ...keep);
  return removed;
}

/**
 * event.offline.error (CORE markError): for each MESSAGE_ID, the batch's record goes back to the queue
 * marked as an error (PROCESS_ID cleared), and other unmarked copies of it (waiting, or in other
 * batches) are dropped, so one record per object remains.
 */
export function markErrors(queue: OfflineRecord[], connectorId: string, processId: string, messageIds: string[]): void {
  const wanted = new Set(messageIds);
  const candidate = (r: OfflineRecord) => r.connectorId === connectorId && wanted.has(r.messageId) && !r.error;
  removeRecords(queue, (r) => candidate(r) && r.processId !== processId);
  const duplicates = new Set<OfflineRecord>();
  for (const r of queue) {
    if (!candidate(r) || r.processId !== processId) continue;
    const marked = queue.some((o) => o.connectorId === connectorId && o.messageId === r.messageId && o.error && o.processId === '');
    if (marked) duplicates.add(r);
    else Object.assign(r, { error: true, processId: '' });
  }
  removeRecords(queue, (r) => duplicates.has(r));
}

export interface QueueDepth {
  connector_id: string;
  total: number;
  waiting: number;
  reserved: number;
  errors: number;
}

/** How many records each connector's queue holds, for the control API. */
export function queueDepths(queue: OfflineRecord[]): QueueDepth[] {
  const byConnector = new Map<string, QueueDepth>();
  for (const r of queue) {
    const d = byConnector.get(r.connectorId) ?? { connector_id: r.connectorId, total: 0, waiting: 0, reserved: 0, errors: 0 };
    d.total++;
    if (r.error) d.errors++;
    else if (r.processId) d.reserved++;
    else d.waiting++;
    byConnector.set(r.connectorId, d);
  }
  return [...byConnector.values()];
}
