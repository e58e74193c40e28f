-- The install/uninstall lifecycle.
-- lifecycle_ts: Bitrix24's `ts` of the last install or uninstall event that changed the portal (a
--   confirmed one); an older event is a replay and changes nothing.
-- uninstall_claimed_at, uninstall_claim_clean: an ONAPPUNINSTALL with the right application_token that
--   Bitrix24 has not confirmed yet (the token alone proves nothing: every launch form carries it). It is
--   re-checked until confirmed or disproved.
-- purge_at: a confirmed uninstall asked to delete the data (CLEAN=1, a field nobody can verify): the
--   portal is closed at once and its rows are deleted at this time, unless an uninstall event with
--   CLEAN=0 or a reinstall comes first.
ALTER TABLE portals ADD COLUMN lifecycle_ts INTEGER;
ALTER TABLE portals ADD COLUMN uninstall_claimed_at INTEGER;
ALTER TABLE portals ADD COLUMN uninstall_claim_clean INTEGER;
ALTER TABLE portals ADD COLUMN purge_at INTEGER;
CREATE INDEX portals_uninstall_claims ON portals (uninstall_claimed_at) WHERE uninstall_claimed_at IS NOT NULL;
CREATE INDEX portals_purges ON portals (purge_at) WHERE purge_at IS NOT NULL;

-- A session of a portal the app was removed from is closed, not deleted: until it expires, it answers
-- "the app is not installed" at once, instead of an unexplained "session expired".
ALTER TABLE sessions ADD COLUMN closed INTEGER NOT NULL DEFAULT 0;

-- What is kept of a portal after its data was deleted: that it was removed, when, and the hash of its
-- last application_token. A replay of its old events is then an idempotent no-op, and a captured
-- launch cannot bring it back; only a verified install can. No names, no domain.
CREATE TABLE removed_portals (
  member_id TEXT PRIMARY KEY,
  application_token_hash TEXT,
  lifecycle_ts INTEGER,
  removed_at INTEGER NOT NULL
) STRICT;
