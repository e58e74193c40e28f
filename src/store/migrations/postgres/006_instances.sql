-- Several instances on one database (as ../006_instances.sql, which explains each column).
CREATE TABLE job_locks (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until_ms BIGINT NOT NULL
);

CREATE TABLE leaky_buckets (
  key TEXT PRIMARY KEY,
  level DOUBLE PRECISION NOT NULL,
  at_ms BIGINT NOT NULL
);
CREATE INDEX leaky_buckets_at ON leaky_buckets (at_ms);
