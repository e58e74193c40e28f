/**
 * The calendar queue (migration 005): writes queued by item changes in their own transactions
 * (items.ts) and pulls queued for changes Bitrix24 reported, claimed under a lease by the calendar
 * sync, and settled here. A settled job of an older
 * generation than the row's (the item changed again while it was written) only gives up its lease:
 * the row stays due, so the newest state of the item is what ends up in the calendar.
 */
import type { Database } from 'bun:sqlite';
import { queueDepthOf, type CalendarJob, type CalendarQueue } from '../../domain/item-port.ts';

interface JobRow {
  id: number;
  portal_id: number;
  owner_id: number;
  item_id: string;
  op: CalendarJob['op'];
  event_id: string | null;
  attempts: number;
  generation: number;
  lease_token: string | null;
}

const toJob = (r: JobRow): CalendarJob => ({
  id: r.id,
  portalId: r.portal_id,
  ownerId: r.owner_id,
  itemId: r.item_id,
  op: r.op,
  eventId: r.event_id,
  attempts: r.attempts,
  generation: r.generation,
  lease: r.lease_token ?? '',
});

type Params = Record<string, string | number | null>;

export function createCalendarQueue(db: Database): CalendarQueue {
  const due = db.query<JobRow, Params>(
    `SELECT id, portal_id, owner_id, item_id, op, event_id, attempts, generation, lease_token FROM calendar_jobs
     WHERE state = 'pending' AND next_at <= $now AND (lease_until IS NULL OR lease_until <= $now)
     ORDER BY next_at, id LIMIT $limit`,
  );
  const lease = db.query<unknown, Params>(`UPDATE calendar_jobs SET lease_until = $until, lease_token = $token WHERE id = $id`);
  const removeIfCurrent = db.query<unknown, Params>(`DELETE FROM calendar_jobs WHERE id = $id AND generation = $generation`);
  const release = db.query<unknown, Params>(`UPDATE calendar_jobs SET lease_until = NULL, lease_token = NULL WHERE id = $id AND lease_token = $lease`);
  const itemSync = db.query<unknown, Params>(
    `UPDATE items SET calendar_sync = $sync WHERE portal_id = $portal_id AND owner_id = $owner_id AND id = $item_id AND calendar_event_id IS NOT NULL`,
  );
  const itemUnlink = db.query<unknown, Params>(
    `UPDATE items SET calendar_event_id = NULL, calendar_sync = NULL, version = version + 1
     WHERE portal_id = $portal_id AND owner_id = $owner_id AND id = $item_id`,
  );
  const itemUnlinkFrom = db.query<unknown, Params>(
    `UPDATE items SET calendar_event_id = NULL, calendar_sync = NULL, version = version + 1
     WHERE portal_id = $portal_id AND owner_id = $owner_id AND id = $item_id AND calendar_event_id = $event_id`,
  );
  const reschedule = db.query<unknown, Params>(
    `UPDATE calendar_jobs SET attempts = attempts + 1, next_at = $next_at, lease_until = NULL, lease_token = NULL, last_error = $error
     WHERE id = $id AND generation = $generation AND lease_token = $lease`,
  );
  const markFailed = db.query<unknown, Params>(
    `UPDATE calendar_jobs SET state = 'failed', attempts = attempts + 1, lease_until = NULL, lease_token = NULL, last_error = $error
     WHERE id = $id AND generation = $generation AND lease_token = $lease`,
  );
  const retryFailed = db.query<unknown, Params>(
    `UPDATE calendar_jobs SET state = 'pending', attempts = 0, next_at = $now, last_error = NULL
     WHERE portal_id = $portal_id AND owner_id = $owner_id AND item_id = $item_id AND state = 'failed'`,
  );
  const retryReconnect = db.query<{ op: string; item_id: string }, Params>(
    `UPDATE calendar_jobs SET state = 'pending', attempts = 0, next_at = $now, last_error = NULL
     WHERE portal_id = $portal_id AND owner_id = $owner_id AND state = 'failed' AND last_error = 'reconnect'
     RETURNING op, item_id`,
  );
  const queuePull = db.query<unknown, Params>(
    `INSERT INTO calendar_jobs (portal_id, owner_id, item_id, op, event_id, next_at, created_at)
     SELECT portal_id, owner_id, id, 'pull', calendar_event_id, $now, $now FROM items
     WHERE portal_id = $portal_id AND calendar_event_id = $event_id
     ON CONFLICT (portal_id, item_id) WHERE op = 'pull' DO UPDATE SET
       event_id = excluded.event_id, state = 'pending', attempts = 0, next_at = $now, generation = generation + 1, last_error = NULL`,
  );
  const batchOf = db.query<{ process_id: string }, Params>(`SELECT process_id FROM offline_event_batches WHERE portal_id = $portal_id`);
  const saveBatch = db.query<unknown, Params>(
    `INSERT INTO offline_event_batches (portal_id, process_id, read_at) VALUES ($portal_id, $process_id, $now)
     ON CONFLICT (portal_id) DO UPDATE SET process_id = excluded.process_id, read_at = excluded.read_at`,
  );
  const dropBatch = db.query<unknown, Params>(`DELETE FROM offline_event_batches WHERE portal_id = $portal_id`);
  const nextDue = db.query<{ at: number | null }, []>(`SELECT min(next_at) AS at FROM calendar_jobs WHERE state = 'pending'`);
  const counts = db.query<{ state: string; n: number }, []>(`SELECT state, count(*) AS n FROM calendar_jobs GROUP BY state`);
  const depthSql = (where: string) =>
    `SELECT CASE WHEN op = 'pull' THEN 'inbox' ELSE 'outbox' END AS direction, state, count(*) AS n, min(created_at) AS oldest
     FROM calendar_jobs ${where} GROUP BY 1, 2`;
  type DepthRow = { direction: string; state: string; n: number; oldest: number | null };
  const depth = db.query<DepthRow, []>(depthSql(''));
  const portalDepth = db.query<DepthRow, [number]>(depthSql('WHERE portal_id = ?'));
  const portalCounts = db.query<{ state: string; n: number }, [number]>(`SELECT state, count(*) AS n FROM calendar_jobs WHERE portal_id = ? GROUP BY state`);

  const itemKey = (job: CalendarJob) => ({ portal_id: job.portalId, owner_id: job.ownerId, item_id: job.itemId });
  const current = (job: CalendarJob) => ({ id: job.id, generation: job.generation });
  const held = (job: CalendarJob) => ({ ...current(job), lease: job.lease });

  /**
   * Runs `change` if the job is still the row's generation; otherwise gives the row back (if this
   * worker still holds its lease: one whose lease ran out and was taken over frees nothing).
   */
  const settle = (job: CalendarJob, change: () => number) =>
    db.transaction(() => {
      if (change() === 0) release.run({ id: job.id, lease: job.lease });
    })();

  return {
    pull: async (portalId, eventId, now) => queuePull.run({ portal_id: portalId, event_id: eventId, now }).changes,
    pendingBatch: async (portalId) => batchOf.get({ portal_id: portalId })?.process_id ?? null,
    startBatch: async (portalId, processId, now) => void saveBatch.run({ portal_id: portalId, process_id: processId, now }),
    endBatch: async (portalId) => void dropBatch.run({ portal_id: portalId }),
    claimDue: async (now, limit, leaseSec) =>
      db.transaction(() => {
        const jobs = due.all({ now, limit }).map((j) => ({ ...j, lease_token: crypto.randomUUID() }));
        for (const j of jobs) lease.run({ id: j.id, until: now + leaseSec, token: j.lease_token });
        return jobs.map(toJob);
      })(),
    done: async (job) =>
      settle(job, () => {
        const n = removeIfCurrent.run(current(job)).changes;
        if (n && job.op === 'update') itemSync.run({ ...itemKey(job), sync: 'synced' });
        return n;
      }),
    eventGone: async (job) =>
      settle(job, () => {
        const n = removeIfCurrent.run(current(job)).changes;
        if (n && job.op === 'update') itemUnlink.run(itemKey(job));
        if (n && job.op === 'pull') itemUnlinkFrom.run({ ...itemKey(job), event_id: job.eventId });
        return n;
      }),
    retryAt: async (job, nextAt, error) => settle(job, () => reschedule.run({ ...held(job), next_at: nextAt, error }).changes),
    fail: async (job, error) =>
      settle(job, () => {
        const n = markFailed.run({ ...held(job), error }).changes;
        if (n && job.op === 'update') itemSync.run({ ...itemKey(job), sync: 'failed' });
        return n;
      }),
    retryItem: async (actor, itemId, now) =>
      db.transaction(() => {
        const key = { portal_id: actor.portalId, owner_id: actor.userId, item_id: itemId };
        if (retryFailed.run({ ...key, now }).changes === 0) return false;
        itemSync.run({ ...key, sync: 'pending' });
        return true;
      })(),
    retryReconnected: async (actor, now) =>
      db.transaction(() => {
        const owner = { portal_id: actor.portalId, owner_id: actor.userId };
        const rows = retryReconnect.all({ ...owner, now });
        for (const r of rows) if (r.op === 'update') itemSync.run({ ...owner, item_id: r.item_id, sync: 'pending' });
        return rows.length;
      })(),
    nextDue: async () => nextDue.get()?.at ?? null,
    counts: async (portalId) => {
      const rows = portalId === undefined ? counts.all() : portalCounts.all(portalId);
      const byState = Object.fromEntries(rows.map((r) => [r.state, r.n]));
      return { pending: byState.pending ?? 0, failed: byState.failed ?? 0 };
    },
    depth: async (portalId) => queueDepthOf(portalId === undefined ? depth.all() : portalDepth.all(portalId)),
  };
}
