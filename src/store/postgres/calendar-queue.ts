/**
 * The calendar queue (migration 005), as src/store/sqlite/calendar-queue.ts: writes queued by item
 * changes in their own transactions (items.ts) and pulls queued for changes Bitrix24 reported, claimed
 * under a lease by the calendar sync, and settled here. A settled job of an older generation than the
 * row's only gives up its lease. Several instances share the queue: `claimDue` takes due rows with
 * FOR UPDATE SKIP LOCKED, so no two instances ever claim one job.
 */
import type { SQL } from 'bun';
import { queueDepthOf, type CalendarJob, type CalendarQueue } from '../../domain/item-port.ts';
import { num, numOrNull } from './rows.ts';

interface JobRow {
  id: string;
  portal_id: string;
  owner_id: string;
  item_id: string;
  op: CalendarJob['op'];
  event_id: string | null;
  attempts: number;
  generation: number;
  lease_token: string | null;
  next_at: string;
}

const toJob = (r: JobRow): CalendarJob => ({
  id: num(r.id),
  portalId: num(r.portal_id),
  ownerId: num(r.owner_id),
  itemId: r.item_id,
  op: r.op,
  eventId: r.event_id,
  attempts: num(r.attempts),
  generation: num(r.generation),
  lease: r.lease_token ?? '',
});

export function createCalendarQueue(sql: SQL): CalendarQueue {
  const item = (q: SQL, job: CalendarJob) =>
    q`portal_id = ${job.portalId} AND owner_id = ${job.ownerId} AND id = ${job.itemId}`;
  const itemSync = (q: SQL, job: CalendarJob, sync: 'synced' | 'failed') =>
    q`UPDATE items SET calendar_sync = ${sync} WHERE ${item(q, job)} AND calendar_event_id IS NOT NULL`;
  const removeIfCurrent = async (q: SQL, job: CalendarJob) =>
    (await q`DELETE FROM calendar_jobs WHERE id = ${job.id} AND generation = ${job.generation}`).count;

  /**
   * Runs `change` if the job is still the row's generation; otherwise gives the row back (if this
   * worker still holds its lease: one whose lease ran out and was taken over frees nothing).
   */
  const settle = (job: CalendarJob, change: (tx: SQL) => Promise<number>) =>
    sql.begin(async (tx) => {
      if ((await change(tx)) === 0) {
        await tx`UPDATE calendar_jobs SET lease_until = NULL, lease_token = NULL WHERE id = ${job.id} AND lease_token = ${job.lease}`;
      }
    });

  return {
    pull: async (portalId, eventId, now) =>
      (
        await sql`
          INSERT INTO calendar_jobs (portal_id, owner_id, item_id, op, event_id, next_at, created_at)
          SELECT portal_id, owner_id, id, 'pull', calendar_event_id, ${now}::bigint, ${now}::bigint FROM items
          WHERE portal_id = ${portalId} AND calendar_event_id = ${eventId}
          ON CONFLICT (portal_id, item_id) WHERE op = 'pull' DO UPDATE SET
            event_id = excluded.event_id, state = 'pending', attempts = 0, next_at = excluded.next_at,
            generation = calendar_jobs.generation + 1, last_error = NULL`
      ).count,
    pendingBatch: async (portalId) => {
      const [r] = await sql`SELECT process_id FROM offline_event_batches WHERE portal_id = ${portalId}`;
      return (r?.process_id as string | undefined) ?? null;
    },
    startBatch: async (portalId, processId, now) => {
      await sql`
        INSERT INTO offline_event_batches (portal_id, process_id, read_at) VALUES (${portalId}, ${processId}, ${now})
        ON CONFLICT (portal_id) DO UPDATE SET process_id = excluded.process_id, read_at = excluded.read_at`;
    },
    endBatch: async (portalId) => {
      await sql`DELETE FROM offline_event_batches WHERE portal_id = ${portalId}`;
    },
    claimDue: async (now, limit, leaseSec) => {
      // One statement: the due rows are locked as they are chosen, rows another instance is claiming
      // at this moment are skipped (not waited for), and each claim gets a fresh lease token.
      const rows: JobRow[] = await sql`
        UPDATE calendar_jobs SET lease_until = ${now + leaseSec}, lease_token = gen_random_uuid()::text
        WHERE id IN (
          SELECT id FROM calendar_jobs
          WHERE state = 'pending' AND next_at <= ${now} AND (lease_until IS NULL OR lease_until <= ${now})
          ORDER BY next_at, id LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
        RETURNING id, portal_id, owner_id, item_id, op, event_id, attempts, generation, lease_token, next_at`;
      return rows.sort((a, b) => num(a.next_at) - num(b.next_at) || num(a.id) - num(b.id)).map(toJob);
    },
    done: (job) =>
      settle(job, async (tx) => {
        const n = await removeIfCurrent(tx, job);
        if (n && job.op === 'update') await itemSync(tx, job, 'synced');
        return n;
      }),
    eventGone: (job) =>
      settle(job, async (tx) => {
        const n = await removeIfCurrent(tx, job);
        if (n && job.op === 'update') {
          await tx`UPDATE items SET calendar_event_id = NULL, calendar_sync = NULL, version = version + 1 WHERE ${item(tx, job)}`;
        }
        if (n && job.op === 'pull') {
          await tx`UPDATE items SET calendar_event_id = NULL, calendar_sync = NULL, version = version + 1
                   WHERE ${item(tx, job)} AND calendar_event_id = ${job.eventId}`;
        }
        return n;
      }),
    retryAt: (job, nextAt, error) =>
      settle(
        job,
        async (tx) =>
          (
            await tx`
              UPDATE calendar_jobs SET attempts = attempts + 1, next_at = ${nextAt}, lease_until = NULL, lease_token = NULL,
                last_error = ${error}
              WHERE id = ${job.id} AND generation = ${job.generation} AND lease_token = ${job.lease}`
          ).count,
      ),
    fail: (job, error) =>
      settle(job, async (tx) => {
        const n = (
          await tx`
            UPDATE calendar_jobs SET state = 'failed', attempts = attempts + 1, lease_until = NULL, lease_token = NULL,
              last_error = ${error}
            WHERE id = ${job.id} AND generation = ${job.generation} AND lease_token = ${job.lease}`
        ).count;
        if (n && job.op === 'update') await itemSync(tx, job, 'failed');
        return n;
      }),
    retryItem: (actor, itemId, now) =>
      sql.begin(async (tx) => {
        const retried = await tx`
          UPDATE calendar_jobs SET state = 'pending', attempts = 0, next_at = ${now}, last_error = NULL
          WHERE portal_id = ${actor.portalId} AND owner_id = ${actor.userId} AND item_id = ${itemId} AND state = 'failed'`;
        if (retried.count === 0) return false;
        await tx`UPDATE items SET calendar_sync = 'pending'
                 WHERE portal_id = ${actor.portalId} AND owner_id = ${actor.userId} AND id = ${itemId} AND calendar_event_id IS NOT NULL`;
        return true;
      }),
    retryReconnected: (actor, now) =>
      sql.begin(async (tx) => {
        const rows: { op: string; item_id: string }[] = await tx`
          UPDATE calendar_jobs SET state = 'pending', attempts = 0, next_at = ${now}, last_error = NULL
          WHERE portal_id = ${actor.portalId} AND owner_id = ${actor.userId} AND state = 'failed' AND last_error = 'reconnect'
          RETURNING op, item_id`;
        for (const r of rows) {
          if (r.op !== 'update') continue;
          await tx`UPDATE items SET calendar_sync = 'pending'
                   WHERE portal_id = ${actor.portalId} AND owner_id = ${actor.userId} AND id = ${r.item_id} AND calendar_event_id IS NOT NULL`;
        }
        return rows.length;
      }),
    nextDue: async () => {
      const [r] = await sql`SELECT min(next_at) AS at FROM calendar_jobs WHERE state = 'pending'`;
      return numOrNull(r?.at);
    },
    counts: async (portalId) => {
      const rows: { state: string; n: number }[] =
        portalId === undefined
          ? await sql`SELECT state, count(*)::int AS n FROM calendar_jobs GROUP BY state`
          : await sql`SELECT state, count(*)::int AS n FROM calendar_jobs WHERE portal_id = ${portalId} GROUP BY state`;
      const byState = Object.fromEntries(rows.map((r) => [r.state, num(r.n)]));
      return { pending: byState.pending ?? 0, failed: byState.failed ?? 0 };
    },
    depth: async (portalId) => {
      const rows: { direction: string; state: string; n: number; oldest: string | null }[] = await sql`
        SELECT CASE WHEN op = 'pull' THEN 'inbox' ELSE 'outbox' END AS direction, state, count(*)::int AS n, min(created_at) AS oldest
        FROM calendar_jobs WHERE ${portalId === undefined ? sql`TRUE` : sql`portal_id = ${portalId}`}
        GROUP BY 1, 2`;
      return queueDepthOf(rows.map((r) => ({ ...r, n: num(r.n), oldest: numOrNull(r.oldest) })));
    },
  };
}
