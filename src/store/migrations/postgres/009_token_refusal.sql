-- Why a token row died; the same as ../009_token_refusal.sql.
ALTER TABLE portal_tokens ADD COLUMN dead_code TEXT;
ALTER TABLE portal_tokens ADD COLUMN dead_at BIGINT;
