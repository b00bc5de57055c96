-- +goose Up
-- Admin UI sign-in sessions. The id is the SHA-256 of the cookie's random token, so a
-- copy of the database opens no session. A session ends at the first of
-- last_seen_at + the idle timeout and expires_at (absolute, fixed at sign-in).
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    client_addr  TEXT NOT NULL DEFAULT ''
);
-- "Sign out everywhere" deletes a user's sessions.
CREATE INDEX sessions_user ON sessions (user_id);

-- +goose Down
DROP INDEX sessions_user;
DROP TABLE sessions;
