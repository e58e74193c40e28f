/**
 * Counters for `GET /_emulator/stats`, kept overall and per portal so tests running side by side can
 * assert on their own portal (`?member_id=`).
 */
export const STAT_NAMES = [
  'token_grants',
  'refreshes',
  'refresh_failures',
  'rest_calls',
  'rate_limited',
  'operation_limited',
  /** Event POSTs begun; `events_sent + events_failed` catches up once every one was answered. */
  'events_started',
  'events_sent',
  'events_failed',
  'app_info_calls',
  /** Offline event records written (added, or merged into the waiting record of the same object). */
  'offline_events_queued',
  /** Offline event records refused because the app's queue was full. */
  'offline_events_dropped',
  /** Requests to a renamed portal's former domain, answered with a 302 to the current one. */
  'portal_redirects',
] as const;

export type StatName = (typeof STAT_NAMES)[number];
export type StatCounters = Record<StatName, number>;

export interface Stats {
  bump(name: StatName, memberId?: string): void;
  snapshot(memberId?: string): StatCounters;
}

function emptyCounters(): StatCounters {
  return Object.fromEntries(STAT_NAMES.map((n) => [n, 0])) as StatCounters;
}

export function createStats(): Stats {
  const total = emptyCounters();
  const perPortal = new Map<string, StatCounters>();
  return {
    bump(name, memberId) {
      total[name]++;
      if (!memberId) return;
      const counters = perPortal.get(memberId) ?? emptyCounters();
      counters[name]++;
      perPortal.set(memberId, counters);
    },
    snapshot(memberId) {
      if (memberId === undefined) return { ...total };
      return { ...(perPortal.get(memberId) ?? emptyCounters()) };
    },
  };
}
