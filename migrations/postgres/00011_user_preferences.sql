-- +goose Up
-- The admin UI's per-user preferences: its language ("en", "ru"; empty follows the
-- browser's Accept-Language) and time zone (an IANA name; empty is UTC).
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN time_zone;
ALTER TABLE users DROP COLUMN locale;
