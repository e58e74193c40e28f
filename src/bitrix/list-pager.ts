/**
 * Reading whole lists (bitrix24-platform.md §4 Lists). Pages are fixed at 50 rows.
 * - `offset`: `start=0,50,…` following `next`. Keeps the caller's order; the server counts the total
 *   on every page, which is slow on big tables.
 * - `id`: `start=-1` (no counting), ordered by the id ascending, each page filtered `>lastId`, until a
 *   short page. DOCS measured 49.9 s → 0.1 s per page on 2.4 M rows.
 * - `pullAll`: the first page tells the total; every other page is known in advance, so they go 50
 *   pages per `batch` request — 2,500 rows per request against the bucket instead of 50.
 */
import { BitrixError, LocalCode } from './bitrix-error.ts';
import type { BatchCommand, BatchOutcome, ListOptions, RestParams, RestResult } from './types.ts';

export const PAGE_SIZE = 50;

export interface ListCaller {
  call<T>(method: string, params: RestParams): Promise<RestResult<T>>;
  /** Commands that do not depend on each other: chunks may go out concurrently. */
  independentBatch(commands: readonly BatchCommand[]): Promise<BatchOutcome[]>;
}

export async function* listRows<T>(caller: ListCaller, method: string, params: RestParams, opts: ListOptions = {}): AsyncGenerator<T> {
  if (opts.mode === 'id') {
    yield* listById<T>(caller, method, params, opts);
    return;
  }
  let start = 0;
  for (;;) {
    const page = await caller.call<unknown>(method, { ...params, start });
    yield* rowsOf<T>(page.result, method);
    if (typeof page.next !== 'number' || page.next <= start) return;
    start = page.next;
  }
}

async function* listById<T>(caller: ListCaller, method: string, params: RestParams, opts: ListOptions): AsyncGenerator<T> {
  const idField = opts.idField ?? 'ID';
  const cursor = opts.cursorField ?? idField;
  const filterKey = 'FILTER' in params ? 'FILTER' : 'filter';
  const baseFilter = (params[filterKey] ?? {}) as Record<string, unknown>;
  let last = 0;
  for (;;) {
    const page = await caller.call<unknown>(method, {
      ...params,
      ...orderById(method, cursor),
      [filterKey]: { ...baseFilter, [`>${cursor}`]: last },
      start: -1,
    });
    const rows = rowsOf<T>(page.result, method);
    yield* rows;
    if (rows.length < PAGE_SIZE) return;
    const id = Number((rows[rows.length - 1] as Record<string, unknown>)[idField]);
    if (!Number.isFinite(id) || id <= last) {
      throw new BitrixError(LocalCode.badResponse, `rows carry no increasing numeric ${idField}; use offset paging`, 200, method);
    }
    last = id;
  }
}

/** `user.get` takes `sort=<field>&order=ASC`; the newer list methods take `order[<field>]=ASC`. */
function orderById(method: string, cursor: string): RestParams {
  return method.toLowerCase() === 'user.get' ? { sort: cursor, order: 'ASC' } : { order: { [cursor]: 'ASC' } };
}

export async function pullAll<T>(caller: ListCaller, method: string, params: RestParams): Promise<T[]> {
  const first = await caller.call<unknown>(method, { ...params, start: 0 });
  const rows = rowsOf<T>(first.result, method);
  if (typeof first.next !== 'number') return rows;
  const total = typeof first.total === 'number' ? first.total : 0;
  const commands: BatchCommand[] = [];
  for (let start = first.next; start < total; start += PAGE_SIZE) commands.push([method, { ...params, start }]);
  const outcomes = await caller.independentBatch(commands);
  for (const o of outcomes) {
    if (!o.ok) throw o.error;
    rows.push(...rowsOf<T>(o.result, method));
  }
  return rows;
}

/** A page is a list, or (crm.item.list, tasks.task.list) an object holding one list. */
function rowsOf<T>(result: unknown, method: string): T[] {
  if (Array.isArray(result)) return result as T[];
  if (result && typeof result === 'object') {
    const lists = Object.values(result).filter(Array.isArray);
    if (lists.length === 1) return lists[0] as T[];
    if (Object.keys(result).length === 0) return [];
  }
  throw new BitrixError(LocalCode.badResponse, 'list method answered without a list', 200, method);
}
