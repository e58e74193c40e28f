/**
 * event.offline.get / clear / error / list (DOCS api-reference/events/event-offline-get.md,
 * event-offline-clear.md, event-offline-error.md, event-offline-list.md, offline-events.md; CORE rest
 * Api\Event). Administrators only (403 ACCESS_DENIED "Access denied!"). Each call works on the calling
 * app's queue for the call's `auth_connector` ('' = records without a source).
 */
import {
  markErrors,
  OFFLINE_FIELDS,
  removeRecords,
  reserveRecords,
  selectRecords,
  type Criterion,
  type FilterOperation,
  type OfflineField,
  type OfflineRecord,
  type SortKey,
} from '../offline-queue.ts';
import { formatInZone } from '../calendar-dates.ts';
import { argumentError } from '../handler-url.ts';
import { paginate, type CallContext, type MethodTable } from '../rest-method.ts';
import { asObject, asString, type Params } from '../rest-request.ts';
import { RestError } from '../rest-response.ts';
import { accessDenied } from './event-methods.ts';

/** event.offline.get's default batch size (DOCS: "Default is 50"; no maximum is documented). */
export const DEFAULT_LIMIT = 50;
const GET_FIELDS: readonly OfflineField[] = ['ID', 'TIMESTAMP_X', 'EVENT_NAME', 'MESSAGE_ID'];
const KEY = /^(>=|<=|=|>|<)?([A-Za-z_]+)$/;

function argument(message: string, name: string): RestError {
  return new RestError('ERROR_ARGUMENT', message, 400, { argument: name });
}

function requireAdmin(ctx: CallContext): void {
  if (!ctx.user.ADMIN) throw accessDenied();
}

/** Lower-cased keys: CORE reads these methods' arguments case-insensitively. */
function lowerKeys(params: Params): Params {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k.toLowerCase(), v]));
}

function filterValue(field: OfflineField, raw: unknown, key: string): string | number {
  const text = asString(raw);
  if (text === undefined) throw argument(`The value of an argument '${key}' has an invalid type`, key);
  if (field === 'TIMESTAMP_X') {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw argument(`The value of an argument '${key}' has an invalid type`, key);
    return ms;
  }
  if (field === 'ID' || field === 'ERROR') return Number.parseInt(text, 10) || 0;
  return text;
}

/** `filter`: `{">ID": 5, "EVENT_NAME": "…"}` over `allowed` fields with =, >, <, >=, <= (no negation). */
function parseFilter(raw: unknown, allowed: readonly OfflineField[]): Criterion[] {
  if (raw === undefined || raw === '') return [];
  const filter = asObject(raw);
  if (!filter) throw argument('The filter is not an array.', 'filter');
  return Object.entries(filter).map(([key, value]) => {
    const m = KEY.exec(key);
    const field = (m?.[2] ?? key.replace(/^\W+/, '')).toUpperCase() as OfflineField;
    if (!m) throw argument(`Filter operation not allowed: ${key.slice(0, key.length - field.length)}`, 'filter');
    if (!allowed.includes(field)) throw argument(`Filter field not allowed: ${field}`, 'filter');
    return { field, op: (m[1] ?? '=') as FilterOperation, value: filterValue(field, value, key) };
  });
}

function parseOrder(raw: unknown, allowed: readonly OfflineField[], fallback: SortKey[]): SortKey[] {
  if (raw === undefined || raw === '') return fallback;
  const order = asObject(raw);
  if (!order) throw argument('The order is not an array.', 'order');
  return Object.entries(order).map(([key, dir]) => {
    const field = key.toUpperCase() as OfflineField;
    if (!allowed.includes(field)) throw argument(`Order field not allowed: ${key}`, 'order');
    const direction = asString(dir)?.toUpperCase();
    if (direction !== 'ASC' && direction !== 'DESC') throw argument('Order direction should be one of {ASC|DESC}', 'order');
    return { field, descending: direction === 'DESC' };
  });
}

const timestamp = (ms: number) => formatInZone(ms, 'UTC');

/** A record as event.offline.get shows it. */
function presentRecord(r: OfflineRecord) {
  return {
    ID: String(r.id),
    TIMESTAMP_X: timestamp(r.timestampMs),
    EVENT_NAME: r.eventName,
    EVENT_DATA: r.data,
    EVENT_ADDITIONAL: { user_id: String(r.userId) },
    MESSAGE_ID: r.messageId,
  };
}

/** event.offline.list adds the batch and the error mark. */
function presentListed(r: OfflineRecord) {
  return { ...presentRecord(r), PROCESS_ID: r.processId, ERROR: r.error ? '1' : '0' };
}

function flag(value: unknown, fallback: number): number {
  const text = asString(value);
  return text === undefined ? fallback : Number.parseInt(text, 10) || 0;
}

/**
 * Without `process_id`, reserves the first `limit` waiting records (by `order`, default TIMESTAMP_X
 * ASC) as a new batch; with it, reads that batch again. `clear=1` (default) then deletes the whole
 * batch once anything was read and answers `process_id: null`; `clear=0` keeps it and returns its id.
 */
function offlineGet(ctx: CallContext, raw: Params) {
  requireAdmin(ctx);
  const params = lowerKeys(raw);
  const clear = flag(params.clear, 1) !== 0;
  const limitText = asString(params.limit);
  const limit = limitText === undefined ? DEFAULT_LIMIT : Number.parseInt(limitText, 10) || 0;
  if (limit <= 0) throw argument('Value must be positive integer', 'LIMIT');
  const criteria = parseFilter(params.filter, GET_FIELDS);
  const order = parseOrder(params.order, GET_FIELDS, [{ field: 'TIMESTAMP_X', descending: false }]);
  const scope = { connectorId: ctx.authConnector, error: flag(params.error, 0) === 1 };
  const given = asString(params.process_id)?.trim();
  const queue = ctx.install.offline;
  const processId = given ?? reserveRecords(selectRecords(queue, { ...scope, processId: '' }, criteria, order).slice(0, limit));
  const events = selectRecords(queue, { ...scope, processId }, criteria, order).slice(0, limit);
  if (clear && events.length > 0) {
    removeRecords(queue, (r) => r.connectorId === ctx.authConnector && r.processId === processId);
  }
  return { result: { process_id: !clear || given !== undefined ? processId : null, events: events.map(presentRecord) } };
}

function requireProcessId(params: Params): string {
  const processId = asString(params.process_id)?.trim();
  if (processId === undefined) throw argumentError('PROCESS_ID');
  return processId;
}

function listOf(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  const object = asObject(value);
  return object ? Object.values(object) : undefined;
}

function messageIds(value: unknown): string[] {
  const list = listOf(value);
  const ids = list?.map((v) => asString(v)?.trim() ?? '');
  if (!ids || ids.some((id) => id.length !== 32)) throw argument('Value must be array of MESSAGE_ID values', 'message_id');
  return ids;
}

function recordIds(value: unknown): number[] {
  const ids = listOf(value)?.map((v) => Number.parseInt(asString(v) ?? '', 10));
  if (!ids || ids.some((id) => !(id > 0))) throw argument('Value must be array of integers', 'id');
  return ids;
}

/** Deletes a batch, or the records of it named by `id` (which wins, DOCS) or by `message_id`. */
function offlineClear(ctx: CallContext, raw: Params) {
  requireAdmin(ctx);
  const params = lowerKeys(raw);
  const processId = requireProcessId(params);
  let pick: (r: OfflineRecord) => boolean = () => true;
  if (params.id !== undefined) {
    const ids = new Set(recordIds(params.id));
    pick = (r) => ids.has(r.id);
  } else if (params.message_id !== undefined) {
    const ids = new Set(messageIds(params.message_id));
    pick = (r) => ids.has(r.messageId);
  }
  removeRecords(ctx.install.offline, (r) => r.connectorId === ctx.authConnector && r.processId === processId && pick(r));
  return { result: true };
}

function offlineError(ctx: CallContext, raw: Params) {
  requireAdmin(ctx);
  const params = lowerKeys(raw);
  const processId = requireProcessId(params);
  const list = listOf(params.message_id);
  if (list === undefined) throw argument('Value must be array of MESSAGE_ID values', 'message_id');
  markErrors(ctx.install.offline, ctx.authConnector, processId, list.map((v) => asString(v)?.trim() ?? ''));
  return { result: true };
}

/** The queue as it is (nothing reserved or deleted), 50 a page by `start`, default order ID ASC. */
function offlineList(ctx: CallContext, raw: Params) {
  requireAdmin(ctx);
  const params = lowerKeys(raw);
  const criteria = parseFilter(params.filter, OFFLINE_FIELDS);
  const order = parseOrder(params.order, OFFLINE_FIELDS, [{ field: 'ID', descending: false }]);
  const rows = selectRecords(ctx.install.offline, { connectorId: ctx.authConnector }, criteria, order);
  const { page, next, total } = paginate(rows, params.start);
  return next === undefined ? { result: page.map(presentListed), total } : { result: page.map(presentListed), next, total };
}

export const offlineEventMethods: MethodTable = {
  'event.offline.get': { handler: offlineGet },
  'event.offline.clear': { handler: offlineClear },
  'event.offline.error': { handler: offlineError },
  'event.offline.list': { handler: offlineList },
};
