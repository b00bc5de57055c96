-- +goose Up
-- Accounts can be disabled (their tokens and sessions stop working) rather than deleted,
-- so what they did keeps a name. Tokens may expire, and a revoked token is kept, marked,
-- rather than deleted: its owner still sees in the list that it existed and when it was
-- last used. token_hint holds the token's last four characters, shown in place of the
-- token, which only its hash otherwise remembers.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_tokens ADD COLUMN revoked_at TIMESTAMPTZ;
ALTER TABLE api_tokens ADD COLUMN token_hint TEXT NOT NULL DEFAULT '';
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- +goose Down
DROP INDEX api_tokens_user;
ALTER TABLE api_tokens DROP COLUMN token_hint;
ALTER TABLE api_tokens DROP COLUMN revoked_at;
ALTER TABLE api_tokens DROP COLUMN expires_at;
ALTER TABLE users DROP COLUMN disabled_at;
