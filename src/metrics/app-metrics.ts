/**
 * The metrics the app exports at /metrics (docs/operations.md lists them), built by createApp and
 * fed by the edge (one observation per request), the Bitrix24 client (its optional `metrics` sink),
 * the sessions, and read-at-scrape gauges: the calendar queue, memory, the event loop's lag.
 *
 * Every label is bounded: route templates from the route table (never a raw path), HTTP methods
 * folded to the standard ones, Bitrix24 method names from our own code capped at 64 distinct, and
 * small fixed sets for outcomes and reasons.
 */
import pkg from '../../package.json' with { type: 'json' };
import type { BitrixMetrics } from '../bitrix/index.ts';
import type { Clock } from '../clock.ts';
import type { QueueDepth } from '../domain/item-port.ts';
import type { Logger } from '../log.ts';
import { createRegistry, type Counter, type Histogram } from './registry.ts';

export interface HttpMetrics {
  /** One answered request: its route template (or `unmatched`), method, status and duration. */
  observe(route: string, method: string, status: number, seconds: number): void;
}

export interface AppMetrics {
  http: HttpMetrics;
  bitrix: BitrixMetrics;
  sessionIssued(): void;
  /** The exposition text; reads the queue (at most once per `queueCacheMs`) and memory. */
  scrape(): Promise<string>;
  /** Starts measuring the event loop's lag (the server does, while it runs); returns what stops it. */
  watchEventLoop(): () => void;
}

/** Runs `tick` every `everyMs` until the returned function is called; the default never keeps the process alive. */
export type Ticker = (everyMs: number, tick: () => void) => () => void;

export const intervalTicker: Ticker = (everyMs, tick) => {
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => clearInterval(timer);
};

export interface AppMetricsDeps {
  clock: Clock;
  /** The calendar queue's depth (store.calendarQueue.depth): one query per read. */
  queueDepth(): Promise<QueueDepth>;
  logger: Logger;
  /** How long a queue reading serves scrapes, so a flood of scrapes is not a flood of queries. */
  queueCacheMs?: number;
  /** Milliseconds from a monotonic source (durations); default performance.now(). */
  monotonicMs?: () => number;
  ticker?: Ticker;
  lagProbeEveryMs?: number;
}

/** From a static asset (well under a millisecond) to the longest a request may be held (server.ts). */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'other']);
const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'];
const MAX_BITRIX_METHODS = 64;
const MAX_ROUTES = 200;

/** A label that keeps the first `max` distinct values and calls every later one `other`. */
function boundedLabel(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= max) return 'other';
    seen.add(value);
    return value;
  };
}

export function createAppMetrics(deps: AppMetricsDeps): AppMetrics {
  const { clock } = deps;
  const monotonicMs = deps.monotonicMs ?? (() => performance.now());
  const registry = createRegistry();

  // HTTP: the counter by exact status (401 vs 404 vs 429 matter); the histogram by status class,
  // which keeps its bucket series few.
  const requests = registry.counter('b24app_http_requests_total', 'HTTP requests answered, by route template (unmatched: no route), method and status code.', ['route', 'method', 'status']);
  const durations = registry.histogram('b24app_http_request_duration_seconds', 'Time from a request reaching the app to its answer, by route template, method and status class.', HTTP_BUCKETS, ['route', 'method', 'status_class']);
  // Per (route, method, status): its counter and its histogram series, found with three Map lookups
  // and made once. Routes beyond MAX_ROUTES (the route table has ~40) count as `other`.
  type Slot = { count: Counter; duration: Histogram };
  const slots = new Map<string, Map<string, Map<number, Slot>>>();
  const observeRequest = (route: string, method: string, status: number, seconds: number) => {
    let byMethod = slots.get(route);
    if (!byMethod) {
      if (slots.size >= MAX_ROUTES && route !== 'other') return observeRequest('other', method, status, seconds);
      slots.set(route, (byMethod = new Map()));
    }
    let byStatus = byMethod.get(method);
    if (!byStatus) {
      if (!HTTP_METHODS.has(method)) return observeRequest(route, 'other', status, seconds);
      byMethod.set(method, (byStatus = new Map()));
    }
    let slot = byStatus.get(status);
    if (!slot) {
      slot = { count: requests.labels(route, method, status), duration: durations.labels(route, method, STATUS_CLASSES[(status / 100) | 0] ?? 'other') };
      byStatus.set(status, slot);
    }
    slot.count.inc();
    slot.duration.observe(seconds);
  };

  const restCalls = registry.counter('b24app_bitrix_rest_calls_total', "HTTP requests sent to portals' REST endpoints, by Bitrix24 method (the first 64 distinct, then other) and outcome.", ['method', 'outcome']);
  const refreshes = registry.counter('b24app_bitrix_token_refreshes_total', 'Refreshes of stored OAuth tokens: ok (new tokens), dead (refused for good, tokens marked dead), failed (no clear answer).', ['outcome']);
  const waits = registry.counter('b24app_bitrix_rate_limit_waits_total', 'REST calls held back by a limit before they were sent: our per-portal bucket, a method near its operating-time limit, a back-off after QUERY_LIMIT_EXCEEDED.', ['reason']);
  const waitSeconds = registry.counter('b24app_bitrix_rate_limit_wait_seconds_total', 'Seconds REST calls were held back, by the same reasons.', ['reason']);
  const limitAnswers = registry.counter('b24app_bitrix_limit_answers_total', 'Calls Bitrix24 refused for a limit, by its error code.', ['code']);
  const bitrixMethod = boundedLabel(MAX_BITRIX_METHODS);
  // Fixed label sets appear at zero from the start, so a rate() has a baseline.
  for (const outcome of ['ok', 'dead', 'failed']) refreshes.labels(outcome);
  for (const reason of ['bucket', 'operating', 'backoff']) (waits.labels(reason), waitSeconds.labels(reason));
  for (const code of ['QUERY_LIMIT_EXCEEDED', 'OPERATION_TIME_LIMIT']) limitAnswers.labels(code);

  const sessions = registry.counter('b24app_sessions_issued_total', 'App sessions issued (launches, renewals, OAuth sign-ins).').labels();

  const queueJobs = registry.gauge('b24app_calendar_queue_jobs', 'Calendar jobs by direction (outbox: writes to Bitrix24; inbox: event reads) and state.', ['direction', 'state']);
  const queueAge = registry.gauge('b24app_calendar_queue_oldest_pending_age_seconds', 'Age of the oldest pending calendar job (0 when none).').labels();
  const rss = registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.').labels();
  const heapUsed = registry.gauge('b24app_heap_used_bytes', 'JavaScript heap in use, in bytes.').labels();
  const heapTotal = registry.gauge('b24app_heap_total_bytes', 'JavaScript heap reserved, in bytes.').labels();
  const lag = registry.histogram('b24app_event_loop_lag_seconds', 'How late the event loop ran a timer, sampled every half second while the server runs.', LAG_BUCKETS).labels();
  registry.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.').labels().set(Math.round(clock.nowMs() - monotonicMs()) / 1000);
  registry.gauge('b24app_build_info', 'The running version (always 1).', ['version']).labels(pkg.version).set(1);

  let queue: { atMs: number; depth: QueueDepth | null } | null = null;
  let reading: Promise<void> | null = null;
  const queueCacheMs = deps.queueCacheMs ?? 5000;
  const readQueue = () =>
    (reading ??= deps
      .queueDepth()
      .then(
        (depth) => void (queue = { atMs: clock.nowMs(), depth }),
        (error: unknown) => {
          deps.logger.warn('metrics: calendar queue depth unavailable', { error });
          queue = { atMs: clock.nowMs(), depth: null };
        },
      )
      .finally(() => (reading = null)));

  registry.beforeScrape(async () => {
    if (!queue || clock.nowMs() - queue.atMs >= queueCacheMs) await readQueue();
    const depth = queue?.depth;
    // An unreadable queue shows as NaN rather than as a stale figure.
    for (const direction of ['outbox', 'inbox'] as const) {
      for (const state of ['pending', 'failed'] as const) queueJobs.labels(direction, state).set(depth ? depth[direction][state] : NaN);
    }
    queueAge.set(!depth ? NaN : depth.oldestPendingAt === null ? 0 : Math.max(0, clock.now() - depth.oldestPendingAt));
    const memory = process.memoryUsage();
    rss.set(memory.rss);
    heapUsed.set(memory.heapUsed);
    heapTotal.set(memory.heapTotal);
  });

  return {
    http: { observe: observeRequest },
    bitrix: {
      restCall: (method, outcome) => restCalls.labels(bitrixMethod(method), outcome).inc(),
      tokenRefresh: (outcome) => refreshes.labels(outcome).inc(),
      limitWait(reason, seconds) {
        waits.labels(reason).inc();
        waitSeconds.labels(reason).inc(seconds);
      },
      limitAnswer: (code) => limitAnswers.labels(code).inc(),
    },
    sessionIssued: () => sessions.inc(),
    scrape: () => registry.scrape(),
    watchEventLoop() {
      const everyMs = deps.lagProbeEveryMs ?? 500;
      let last = monotonicMs();
      return (deps.ticker ?? intervalTicker)(everyMs, () => {
        const t = monotonicMs();
        lag.observe(Math.max(0, t - last - everyMs) / 1000);
        last = t;
      });
    },
  };
}
