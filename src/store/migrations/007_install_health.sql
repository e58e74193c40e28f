-- Install health (docs/install-health.md).
-- bindings_checked_at: when the portal's event bindings were last compared with what the app needs
--   (unix seconds; NULL: never). The daily check takes the portals whose check is oldest.
ALTER TABLE portals ADD COLUMN bindings_checked_at INTEGER;
-- portal_tokens.updated_at is when the stored refresh token was issued (every write of a new pair sets
-- it; leases and `dead` do not): the renewal job looks for live rows whose refresh token is getting old.
CREATE INDEX portal_tokens_dormant ON portal_tokens (updated_at) WHERE dead = 0;
