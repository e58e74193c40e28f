-- The calendar outbox: a calendar write that an item change needs commits in the same transaction
-- as the change, and a worker performs it (domain/calendar-sync.ts). Rows are deleted once done; a
-- row is `pending` (due at next_at, perhaps leased by a worker) or `failed` (retries exhausted, or
-- a failure no retry can fix) until the user retries.
CREATE TABLE calendar_outbox (
  id INTEGER PRIMARY KEY,
  portal_id INTEGER NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
  owner_id INTEGER NOT NULL,
  item_id TEXT NOT NULL,
  -- 'update': bring the item's event to the item as it is when the worker runs (idempotent);
  -- 'delete': remove event_id (the item is gone or has no start any more).
  op TEXT NOT NULL CHECK (op IN ('update', 'delete')),
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
  CHECK (op <> 'delete' OR event_id IS NOT NULL)
) STRICT;
-- At most one update row per item; deletes are per event.
CREATE UNIQUE INDEX calendar_outbox_item_update ON calendar_outbox (portal_id, item_id) WHERE op = 'update';
CREATE INDEX calendar_outbox_due ON calendar_outbox (state, next_at);

-- What the row shows about its event: NULL (not in the calendar), 'synced', 'pending', 'failed'.
ALTER TABLE items ADD COLUMN calendar_sync TEXT CHECK (calendar_sync IN ('synced', 'pending', 'failed'));
UPDATE items SET calendar_sync = 'synced' WHERE calendar_event_id IS NOT NULL;
