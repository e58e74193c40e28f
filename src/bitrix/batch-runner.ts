/**
 * `batch` for any number of commands: chunks of 50 (Bitrix24's maximum; extras would each fail with
 * `ERROR_BATCH_LENGTH_EXCEEDED`), one request per chunk, and a result per command. A failing command
 * is an outcome, not an exception (the batch answer is always 200, with `result_error` beside
 * `result`; empty sections come as `[]`). `halt` stops at the first failing command, across chunks.
 *
 * If a chunk's request itself fails (dead token, limit outlasted our retries, network): when nothing
 * has run yet, the error is thrown like any call's; otherwise that chunk and the rest report it, so
 * the caller still learns which writes already happened.
 */
import { BitrixError, LocalCode } from './bitrix-error.ts';
import { resolveReferences, type KnownResults } from './batch-references.ts';
import { isReadBatch } from './method-kind.ts';
import { encodeQuery } from './query-string.ts';
import type { BatchCommand, BatchOptions, BatchOutcome, RestParams, RestResult, RestTime } from './types.ts';

export const BATCH_MAX = 50;
/**
 * Independent chunks in flight at once. Each chunk is 50 list calls on the portal, all counted by the
 * per-method operating limit; a few in parallel hide round trips without turning a big export into a
 * burst of thousands of server-side queries.
 */
const CONCURRENT_CHUNKS = 4;

/** How the batch runner sends one chunk: the rest client's call, with its limits, refresh and retries. */
export type SendBatch = (params: RestParams, safeToRepeat: boolean) => Promise<RestResult<unknown>>;

interface Entry {
  key: string;
  method: string;
  params: RestParams;
}

export async function runBatch(send: SendBatch, commands: Record<string, BatchCommand> | readonly BatchCommand[], opts: BatchOptions = {}): Promise<Map<string, BatchOutcome>> {
  const entries = toEntries(commands);
  const outcomes = new Map<string, BatchOutcome>();
  const known = new Map<string, unknown>();
  let stop: BitrixError | null = null;

  for (let i = 0; i < entries.length; i += BATCH_MAX) {
    const chunk = entries.slice(i, i + BATCH_MAX);
    if (stop) {
      for (const e of chunk) outcomes.set(e.key, { ok: false, error: stop });
      continue;
    }
    let answer: RestResult<unknown>;
    try {
      answer = await send(chunkParams(chunk, known, opts.halt === true), isReadBatch(chunk.map((e) => e.method)));
    } catch (e) {
      if (i === 0 || !(e instanceof BitrixError)) throw e;
      stop = e;
      for (const c of chunk) outcomes.set(c.key, { ok: false, error: e });
      continue;
    }
    const failed = readChunk(answer, chunk, outcomes, known);
    if (failed && opts.halt) stop = new BitrixError(LocalCode.batchHalted, 'not run: an earlier command failed and halt was set', 0, 'batch');
  }
  return outcomes;
}

/**
 * Chunks of commands that neither refer to one another nor halt (the pages of a list) may all be in
 * flight at once: the portal's bucket still paces them, but their round trips overlap. Any failure
 * of a chunk request is thrown. At most CONCURRENT_CHUNKS are in flight.
 */
export async function runIndependentBatch(send: SendBatch, commands: readonly BatchCommand[]): Promise<BatchOutcome[]> {
  const entries = toEntries(commands);
  const outcomes = new Map<string, BatchOutcome>();
  const chunks: Entry[][] = [];
  for (let i = 0; i < entries.length; i += BATCH_MAX) chunks.push(entries.slice(i, i + BATCH_MAX));
  let nextChunk = 0;
  const worker = async () => {
    for (let i = nextChunk++; i < chunks.length; i = nextChunk++) {
      const chunk = chunks[i] ?? [];
      const answer = await send(chunkParams(chunk, new Map(), false), isReadBatch(chunk.map((e) => e.method)));
      readChunk(answer, chunk, outcomes, new Map());
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_CHUNKS, chunks.length) }, worker));
  return entries.map((e) => outcomes.get(e.key) as BatchOutcome);
}

function toEntries(commands: Record<string, BatchCommand> | readonly BatchCommand[]): Entry[] {
  const pairs: [string, BatchCommand][] = Array.isArray(commands)
    ? (commands as readonly BatchCommand[]).map((c, i) => [String(i), c])
    : Object.entries(commands as Record<string, BatchCommand>);
  return pairs.map(([key, c]) => {
    const [method, params] = Array.isArray(c) ? [c[0], c[1]] : [(c as { method: string }).method, (c as { params?: RestParams }).params];
    return { key, method: String(method), params: params ?? {} };
  });
}

function chunkParams(chunk: Entry[], known: KnownResults, halt: boolean): RestParams {
  const cmd: Record<string, string> = {};
  for (const e of chunk) {
    const query = encodeQuery(resolveReferences(e.params, known));
    cmd[e.key] = query ? `${e.method}?${query}` : e.method;
  }
  return { halt: halt ? 1 : 0, cmd };
}

/** Fills outcomes for one chunk; true when any command in it failed. */
function readChunk(answer: RestResult<unknown>, chunk: Entry[], outcomes: Map<string, BatchOutcome>, known: Map<string, unknown>): boolean {
  const body = (answer.result ?? {}) as Record<string, unknown>;
  const results = section(body.result);
  const errors = section(body.result_error);
  const totals = section(body.result_total);
  const nexts = section(body.result_next);
  const times = section(body.result_time);
  let failed = false;
  for (const e of chunk) {
    const err = errors[e.key];
    if (err !== undefined) {
      failed = true;
      const x = (err ?? {}) as Record<string, unknown>;
      const code = typeof x.error === 'string' && x.error ? x.error : 'ERROR_UNSPECIFIED';
      outcomes.set(e.key, { ok: false, error: new BitrixError(code, String(x.error_description ?? ''), 200, e.method) });
    } else if (e.key in results) {
      const ok: BatchOutcome = { ok: true, result: results[e.key] };
      if (typeof totals[e.key] === 'number') ok.total = totals[e.key] as number;
      if (typeof nexts[e.key] === 'number') ok.next = nexts[e.key] as number;
      if (times[e.key] && typeof times[e.key] === 'object') ok.time = times[e.key] as RestTime;
      outcomes.set(e.key, ok);
      known.set(e.key, results[e.key]);
    } else {
      outcomes.set(e.key, { ok: false, error: new BitrixError(LocalCode.batchHalted, 'not run by the portal', 200, e.method) });
    }
  }
  return failed;
}

/** PHP serialises an empty section as `[]` and a 0..n-1 keyed one as a list: both become a keyed record. */
function section(v: unknown): Record<string, unknown> {
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}
