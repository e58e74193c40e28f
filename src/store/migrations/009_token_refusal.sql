-- Why a token row died: the OAuth server's refusal code and when it came (unix seconds); NULL while
-- the row is alive, or when it died before this was kept. Every write of a new pair clears both.
-- An uninstall handled just after another process's refresh was refused reads the refusal it can no
-- longer get live (src/bitrix/token-keeper.ts keeps it for a few minutes only).
ALTER TABLE portal_tokens ADD COLUMN dead_code TEXT;
ALTER TABLE portal_tokens ADD COLUMN dead_at INTEGER;
