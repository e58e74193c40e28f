/**
 * The app's metric set on its own: what is read at scrape time (and how often), the event-loop probe
 * on a moved clock, and the bounds on labels. The whole stack's counters are in scrape.test.ts.
 */
import { describe, expect, it } from 'bun:test';
import pkg from '../../package.json' with { type: 'json' };
import type { QueueDepth } from '../../src/domain/item-port.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { createAppMetrics, type Ticker } from '../../src/metrics/app-metrics.ts';
import { allSamples, parseExposition, sampleValue } from '../support/prometheus-text.ts';

const depth = (outboxPending: number, oldestPendingAt: number | null): QueueDepth => ({
  outbox: { pending: outboxPending, failed: 2 },
  inbox: { pending: 1, failed: 0 },
  oldestPendingAt,
});

function build(overrides: { queueDepth?: () => Promise<QueueDepth>; monotonicMs?: () => number; ticker?: Ticker } = {}) {
  let nowMs = 1_900_000_000_000;
  let queueReads = 0;
  const logger = createMemoryLogger();
  const metrics = createAppMetrics({
    clock: { nowMs: () => nowMs, now: () => Math.floor(nowMs / 1000) },
    logger,
    queueDepth: overrides.queueDepth ?? (async () => (queueReads++, depth(3, Math.floor(nowMs / 1000) - 42))),
    monotonicMs: overrides.monotonicMs ?? (() => 250_000),
    ticker: overrides.ticker,
  });
  return {
    metrics,
    logger,
    advance: (ms: number) => void (nowMs += ms),
    reads: () => queueReads,
    scrape: async () => parseExposition(await metrics.scrape()),
  };
}

describe('the calendar queue at scrape time', () => {
  it('reads the depth once for a flood of scrapes, and again once the reading is 5 s old', async () => {
    const m = build();
    const first = await Promise.all(Array.from({ length: 20 }, () => m.scrape()));
    expect(m.reads()).toBe(1);
    expect(sampleValue(first[0]!, 'b24app_calendar_queue_jobs', { direction: 'outbox', state: 'pending' })).toBe(3);
    expect(sampleValue(first[0]!, 'b24app_calendar_queue_jobs', { direction: 'outbox', state: 'failed' })).toBe(2);
    expect(sampleValue(first[0]!, 'b24app_calendar_queue_jobs', { direction: 'inbox', state: 'pending' })).toBe(1);
    expect(sampleValue(first[0]!, 'b24app_calendar_queue_oldest_pending_age_seconds')).toBe(42);
    m.advance(4_999);
    // The cached reading, aged by the clock: the oldest job is older now.
    expect(sampleValue(await m.scrape(), 'b24app_calendar_queue_oldest_pending_age_seconds')).toBe(46);
    expect(m.reads()).toBe(1);
    m.advance(1);
    await m.scrape();
    expect(m.reads()).toBe(2);
  });

  it('shows NaN, not a stale figure, when the queue cannot be read, and says so in the log', async () => {
    const m = build({ queueDepth: () => Promise.reject(new Error('database is locked')) });
    const families = await m.scrape();
    expect(sampleValue(families, 'b24app_calendar_queue_jobs', { direction: 'outbox', state: 'pending' })).toBeNaN();
    expect(sampleValue(families, 'b24app_calendar_queue_oldest_pending_age_seconds')).toBeNaN();
    expect(m.logger.lines.some((l) => l.includes('calendar queue depth unavailable'))).toBe(true);
  });

  it('reports age 0 with nothing pending', async () => {
    const m = build({ queueDepth: async () => depth(0, null) });
    expect(sampleValue(await m.scrape(), 'b24app_calendar_queue_oldest_pending_age_seconds')).toBe(0);
  });
});

describe('the event-loop lag probe', () => {
  it('records how late each tick ran, and stops when told', async () => {
    let monotonic = 1000;
    let tick: (() => void) | null = null;
    let stopped = false;
    const ticker: Ticker = (everyMs, fn) => {
      expect(everyMs).toBe(500);
      tick = fn;
      return () => void (stopped = true);
    };
    const m = build({ monotonicMs: () => monotonic, ticker });
    const stop = m.metrics.watchEventLoop();
    for (const late of [0, 3, 40, 700]) {
      monotonic += 500 + late;
      tick!();
    }
    const families = await m.scrape();
    expect(sampleValue(families, 'b24app_event_loop_lag_seconds_count')).toBe(4);
    expect(sampleValue(families, 'b24app_event_loop_lag_seconds_sum')).toBeCloseTo(0.743, 10);
    expect(sampleValue(families, 'b24app_event_loop_lag_seconds_bucket', { le: '0.001' })).toBe(1);
    expect(sampleValue(families, 'b24app_event_loop_lag_seconds_bucket', { le: '0.005' })).toBe(2);
    expect(sampleValue(families, 'b24app_event_loop_lag_seconds_bucket', { le: '0.05' })).toBe(3);
    expect(sampleValue(families, 'b24app_event_loop_lag_seconds_bucket', { le: '0.5' })).toBe(3);
    expect(sampleValue(families, 'b24app_event_loop_lag_seconds_bucket', { le: '1' })).toBe(4);
    stop();
    expect(stopped).toBe(true);
  });
});

describe('labels and the process', () => {
  it('keeps the first 64 Bitrix24 method names and counts the rest as other', async () => {
    const m = build();
    for (let i = 0; i < 70; i++) m.metrics.bitrix.restCall(`method.n${i}`, 'ok');
    m.metrics.bitrix.restCall('method.n0', 'error');
    const families = await m.scrape();
    const methods = new Set(families.get('b24app_bitrix_rest_calls_total')!.samples.map((s) => s.labels.method));
    expect(methods.size).toBe(65);
    expect(sampleValue(families, 'b24app_bitrix_rest_calls_total', { method: 'other', outcome: 'ok' })).toBe(6);
    expect(sampleValue(families, 'b24app_bitrix_rest_calls_total', { method: 'method.n0', outcome: 'error' })).toBe(1);
  });

  it('folds unknown HTTP methods and keeps the status code', async () => {
    const m = build();
    m.metrics.http.observe('/api/items/:id', 'PROPFIND', 405, 0.002);
    m.metrics.http.observe('/api/items/:id', 'GET', 200, 0.002);
    const families = await m.scrape();
    expect(sampleValue(families, 'b24app_http_requests_total', { route: '/api/items/:id', method: 'other', status: '405' })).toBe(1);
    expect(sampleValue(families, 'b24app_http_request_duration_seconds_count', { route: '/api/items/:id', method: 'other', status_class: '4xx' })).toBe(1);
    expect(allSamples(families).some((s) => s.labels.method === 'PROPFIND')).toBe(false);
  });

  it('has the start time from the clock and the build version', async () => {
    // The monotonic clock says 250 s since the process started.
    const families = await build().scrape();
    expect(sampleValue(families, 'process_start_time_seconds')).toBe(1_900_000_000 - 250);
    expect(sampleValue(families, 'b24app_build_info', { version: pkg.version })).toBe(1);
    expect(sampleValue(families, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sampleValue(families, 'b24app_heap_used_bytes')).toBeGreaterThan(0);
    expect(sampleValue(families, 'b24app_bitrix_token_refreshes_total', { outcome: 'dead' })).toBe(0);
  });
});
