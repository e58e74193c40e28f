-- The install/uninstall lifecycle (as ../003_lifecycle.sql, which explains each column).
ALTER TABLE portals ADD COLUMN lifecycle_ts BIGINT;
ALTER TABLE portals ADD COLUMN uninstall_claimed_at BIGINT;
ALTER TABLE portals ADD COLUMN uninstall_claim_clean BOOLEAN;
ALTER TABLE portals ADD COLUMN purge_at BIGINT;
CREATE INDEX portals_uninstall_claims ON portals (uninstall_claimed_at) WHERE uninstall_claimed_at IS NOT NULL;
CREATE INDEX portals_purges ON portals (purge_at) WHERE purge_at IS NOT NULL;

-- A session of a portal the app was removed from is closed, not deleted.
ALTER TABLE sessions ADD COLUMN closed BOOLEAN NOT NULL DEFAULT FALSE;

-- What is kept of a portal after its data was deleted. No names, no domain.
CREATE TABLE removed_portals (
  member_id TEXT PRIMARY KEY,
  application_token_hash TEXT,
  lifecycle_ts BIGINT,
  removed_at BIGINT NOT NULL
);
