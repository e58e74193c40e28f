-- The calendar queue (docs/calendar-sync.md), both directions in one worker (domain/calendar-sync.ts):
-- the outbox (a calendar write an item change needs commits in the same transaction as the change)
-- and the inbox (a change Bitrix24 reported for a linked event, stored before the event is answered).
-- Rows are deleted once done; a row is `pending` (due at next_at, perhaps leased by a worker) or
-- `failed` (retries exhausted, or a failure no retry can fix: the dead letters) until retried.
CREATE TABLE calendar_jobs (
  id INTEGER PRIMARY KEY,
  portal_id INTEGER NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
  owner_id INTEGER NOT NULL,
  item_id TEXT NOT NULL,
  -- 'update': bring the item's event to the item as it is when the worker runs (idempotent);
  -- 'delete': remove event_id (the item is gone or has no start any more);
  -- 'pull': Bitrix24 says event_id changed: read it and bring the item to it (idempotent).
  op TEXT NOT NULL CHECK (op IN ('update', 'delete', 'pull')),
  event_id TEXT,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  lease_until INTEGER,
  -- Who holds the lease: only its holder may give the job back or reschedule it.
  lease_token TEXT,
  -- Bumped by every change that re-queues the row: a worker that finishes an older generation
  -- leaves the row for the next run, so the newest state of the item is always written.
  generation INTEGER NOT NULL DEFAULT 1,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  CHECK (op = 'update' OR event_id IS NOT NULL)
) STRICT;
-- At most one update and one pull row per item (later changes re-queue it); deletes are per event.
CREATE UNIQUE INDEX calendar_jobs_item_update ON calendar_jobs (portal_id, item_id) WHERE op = 'update';
CREATE UNIQUE INDEX calendar_jobs_item_pull ON calendar_jobs (portal_id, item_id) WHERE op = 'pull';
CREATE INDEX calendar_jobs_due ON calendar_jobs (state, next_at);

-- A batch of offline events read from a portal (event.offline.get, clear=0) and not yet cleared: a
-- restart finishes it by its process_id instead of leaving it reserved on the portal.
CREATE TABLE offline_event_batches (
  portal_id INTEGER PRIMARY KEY REFERENCES portals (id) ON DELETE CASCADE,
  process_id TEXT NOT NULL,
  read_at INTEGER NOT NULL
) STRICT;

-- What the row shows about its event: NULL (not in the calendar), 'synced', 'pending', 'failed'.
ALTER TABLE items ADD COLUMN calendar_sync TEXT CHECK (calendar_sync IN ('synced', 'pending', 'failed'));
UPDATE items SET calendar_sync = 'synced' WHERE calendar_event_id IS NOT NULL;
