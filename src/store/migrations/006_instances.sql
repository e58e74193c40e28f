-- Several instances on one database (architecture §5): what must happen once happens once across them.
-- job_locks: a periodic job (lifecycle checks, the offline-event drain) runs on one instance at a time.
--   The holder is a random id per run; until_ms (unix ms, the database's clock) is when an abandoned
--   lock (a crashed instance) becomes anybody's. The holder renews it while the job runs.
CREATE TABLE job_locks (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until_ms INTEGER NOT NULL
) STRICT;

-- leaky_buckets: rate limits every instance shares, keyed by what they limit ('rest:<portal host>' for
--   the REST budget per portal, 'launch:<client>' for failed launches per client). `level` is the
--   bucket's content as of at_ms (unix ms, the database's clock); it drains at the rate the caller
--   names, so one atomic statement drains, adds and returns it. Idle rows are swept.
CREATE TABLE leaky_buckets (
  key TEXT PRIMARY KEY,
  level REAL NOT NULL,
  at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX leaky_buckets_at ON leaky_buckets (at_ms);
