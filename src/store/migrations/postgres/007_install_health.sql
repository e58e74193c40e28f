-- Install health (docs/install-health.md); the same as ../007_install_health.sql.
ALTER TABLE portals ADD COLUMN bindings_checked_at BIGINT;
CREATE INDEX portal_tokens_dormant ON portal_tokens (updated_at) WHERE NOT dead;
