/**
 * Bitrix24's offline events: the changes the app binds with `event_type=offline` wait in a queue on
 * the portal while the app is down, and are read here (b24restdocs api-reference/events/
 * offline-events.md, event-offline-get.md, event-offline-clear.md, on-offline-event.md).
 *
 * A batch is read with `clear=0` (reserved under a `process_id`), remembered in the store, turned into
 * pull jobs of the calendar queue, and only then cleared on the portal: a crash before the clear
 * re-reads the same batch by its process_id at the next drain (never an empty process_id, which the
 * platform reads as "every waiting record"). Drained at start, periodically over every installed
 * portal, and when ONOFFLINEEVENT says records are waiting (at most once per portal per
 * MIN_INTERVAL_SEC: anyone holding the portal's application token can send that event).
 */
import type { Bitrix } from '../bitrix/index.ts';
import type { CalendarQueue } from '../domain/item-port.ts';
import type { Portal } from '../domain/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';

/** The events the app binds offline (and online) besides its lifecycle. */
export const CALENDAR_ENTRY_EVENTS = ['ONCALENDARENTRYUPDATE', 'ONCALENDARENTRYDELETE'] as const;

const PAGE = 50;
/** Batches one drain reads from one portal at most; the next drain goes on. */
const MAX_PAGES = 20;
const MIN_INTERVAL_SEC = 10;
const ENTRY_ID = /^\d{1,18}$/;

interface OfflineRecord {
  EVENT_NAME?: unknown;
  EVENT_DATA?: unknown;
}

export interface OfflineDrainSummary {
  portals: number;
  records: number;
  pulls: number;
  failed: number;
  /** Left for ONOFFLINEEVENT: their app token was idle (a `liveTokensOnly` run). */
  idle: number;
}

export function createOfflineEvents(deps: { store: Store; queue: CalendarQueue; bitrix: Bitrix; logger: Logger; now: () => number }) {
  const { queue, logger } = deps;
  const lastDrain = new Map<number, number>();
  const inFlight = new Map<number, Promise<{ records: number; pulls: number }>>();

  /** Pull jobs for the calendar entries a batch names; how many records and jobs. */
  async function enqueue(portal: Portal, records: OfflineRecord[]): Promise<number> {
    let pulls = 0;
    for (const r of records) {
      const name = String(r.EVENT_NAME ?? '').toUpperCase();
      const id = String((r.EVENT_DATA as { id?: unknown } | null)?.id ?? '');
      if ((CALENDAR_ENTRY_EVENTS as readonly string[]).includes(name) && ENTRY_ID.test(id)) pulls += await queue.pull(portal.id, id, deps.now());
    }
    return pulls;
  }

  async function drainPortal(portal: Portal): Promise<{ records: number; pulls: number }> {
    const client = deps.bitrix.client(portal, { kind: 'app' });
    let records = 0;
    let pulls = 0;
    // A batch read before a crash and never cleared is finished first, by its process_id.
    let remembered = await queue.pendingBatch(portal.id);
    for (let page = 0; page < MAX_PAGES; page++) {
      const params = remembered ? { process_id: remembered, clear: 0 } : { clear: 0, limit: PAGE };
      const answer = await client.call<{ process_id?: unknown; events?: unknown }>('event.offline.get', params);
      const events = Array.isArray(answer.result?.events) ? (answer.result.events as OfflineRecord[]) : [];
      const given = typeof answer.result?.process_id === 'string' ? answer.result.process_id : '';
      const batch = remembered ?? given;
      if (events.length === 0) {
        if (!remembered) return { records, pulls };
        // A remembered batch that reads empty was cleared before the crash: forget it, read on.
        await queue.endBatch(portal.id);
        remembered = null;
        continue;
      }
      if (!batch) throw new Error('event.offline.get answered records without a process_id');
      if (!remembered) await queue.startBatch(portal.id, batch, deps.now());
      pulls += await enqueue(portal, events);
      records += events.length;
      await client.call('event.offline.clear', { process_id: batch });
      await queue.endBatch(portal.id);
      if (!remembered && events.length < PAGE) return { records, pulls };
      remembered = null;
    }
    return { records, pulls };
  }

  /** One portal's drain at a time; `force` skips the minimum interval (start, periodic runs). */
  function drain(portal: Portal, force: boolean): Promise<{ records: number; pulls: number }> | null {
    const running = inFlight.get(portal.id);
    if (running) return running;
    const now = deps.now();
    if (!force && now - (lastDrain.get(portal.id) ?? 0) < MIN_INTERVAL_SEC) return null;
    lastDrain.set(portal.id, now);
    if (lastDrain.size > 100_000) lastDrain.delete(lastDrain.keys().next().value!);
    const run = drainPortal(portal).finally(() => inFlight.delete(portal.id));
    inFlight.set(portal.id, run);
    return run;
  }

  /** The app's access token on the portal is stored, not dead, and good for two more minutes. */
  async function appTokenLive(portal: Portal): Promise<boolean> {
    const tokens = await deps.store.tokens.find(portal.id, { kind: 'app' });
    return tokens !== null && !tokens.dead && tokens.expiresAt > deps.now() + 120;
  }

  return {
    /** ONOFFLINEEVENT: drain that portal soon (limited); resolves with what was read, or null when limited. */
    waiting(portal: Portal) {
      return drain(portal, false);
    },
    /**
     * Every installed portal, one after another; with `liveTokensOnly`, only those whose app access
     * token is live (the app used it within the hour): reading the queue must not be what refreshes an
     * idle portal's token on a timer (Bitrix24 asks apps not to; docs/install-health.md). Idle portals
     * are read when ONOFFLINEEVENT says they have records, and at start.
     */
    async drainAll(opts: { liveTokensOnly?: boolean } = {}): Promise<OfflineDrainSummary> {
      const summary: OfflineDrainSummary = { portals: 0, records: 0, pulls: 0, failed: 0, idle: 0 };
      for (let after = 0; ; ) {
        const portals = await deps.store.portals.listInstalled(after, 100);
        if (portals.length === 0) return summary;
        for (const portal of portals) {
          after = portal.id;
          if (opts.liveTokensOnly && !(await appTokenLive(portal))) {
            summary.idle++;
            continue;
          }
          try {
            const r = await drain(portal, true);
            summary.portals++;
            summary.records += r?.records ?? 0;
            summary.pulls += r?.pulls ?? 0;
          } catch (error) {
            summary.failed++;
            logger.warn('offline events not drained', { member_id: portal.memberId, code: (error as { code?: string }).code });
          }
        }
      }
    },
  };
}

export type OfflineEvents = ReturnType<typeof createOfflineEvents>;
