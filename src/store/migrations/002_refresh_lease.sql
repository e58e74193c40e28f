-- The cross-process refresh lease gets its own column: which process may refresh a token row, and
-- until when (unix seconds; NULL when nobody is refreshing). Claimed and released by compare-and-swap
-- on portal_tokens.version.
ALTER TABLE portal_tokens ADD COLUMN refresh_lease_until INTEGER;
