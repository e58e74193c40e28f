-- The schema of architecture §5. Times are unix seconds. Tables are STRICT: SQLite then
-- refuses a value of the wrong type instead of storing it silently.

CREATE TABLE portals (
  id INTEGER PRIMARY KEY,
  member_id TEXT NOT NULL UNIQUE,
  domain TEXT NOT NULL,
  client_endpoint TEXT NOT NULL,
  server_endpoint TEXT NOT NULL,
  -- SHA-256 (hex) of the application_token; NULL until a verified install supplied one.
  application_token_hash TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'installed', 'uninstalled')),
  app_status TEXT NOT NULL DEFAULT '',
  scope TEXT NOT NULL DEFAULT '',
  installed_at INTEGER,
  uninstalled_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE portal_tokens (
  id INTEGER PRIMARY KEY,
  portal_id INTEGER NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('app', 'user')),
  -- For kind='user' the owner; for kind='app' the user the install tokens act as.
  user_id INTEGER NOT NULL,
  -- AES-256-GCM ciphertexts (base64 of iv || ciphertext || tag), never plaintext.
  access_token_enc TEXT NOT NULL,
  refresh_token_enc TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  scope TEXT NOT NULL DEFAULT '',
  -- Compare-and-swap counter: a refresh writes only if the version it read is still current.
  version INTEGER NOT NULL DEFAULT 1,
  dead INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX portal_tokens_app ON portal_tokens (portal_id) WHERE kind = 'app';
CREATE UNIQUE INDEX portal_tokens_user ON portal_tokens (portal_id, user_id) WHERE kind = 'user';

CREATE TABLE users (
  portal_id INTEGER NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0,
  lang TEXT NOT NULL DEFAULT 'en',
  photo_url TEXT,
  time_zone TEXT,
  last_seen_at INTEGER NOT NULL,
  PRIMARY KEY (portal_id, user_id)
) STRICT;

CREATE TABLE sessions (
  -- SHA-256 (hex) of the session token; the token itself is never stored.
  id_hash TEXT PRIMARY KEY,
  portal_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  FOREIGN KEY (portal_id, user_id) REFERENCES users (portal_id, user_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX sessions_portal ON sessions (portal_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE items (
  id TEXT PRIMARY KEY,
  portal_id INTEGER NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
  owner_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  -- Lower-cased name for case-insensitive search in any script (SQLite's LIKE folds ASCII only).
  name_fold TEXT NOT NULL,
  -- JSON object text, or NULL.
  data TEXT,
  status TEXT NOT NULL CHECK (status IN ('active', 'archived')),
  starts_at INTEGER,
  ends_at INTEGER,
  calendar_event_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX items_owner_updated ON items (portal_id, owner_id, updated_at);
CREATE INDEX items_owner_created ON items (portal_id, owner_id, created_at DESC, id DESC);

CREATE TABLE oauth_states (
  -- SHA-256 (hex) of the one-time state nonce.
  nonce_hash TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
