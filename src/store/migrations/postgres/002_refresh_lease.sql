-- The cross-process refresh lease (as ../002_refresh_lease.sql): until when a process may refresh a
-- token row (unix seconds; NULL when nobody is refreshing). Claimed and released by compare-and-swap
-- on portal_tokens.version.
ALTER TABLE portal_tokens ADD COLUMN refresh_lease_until BIGINT;
