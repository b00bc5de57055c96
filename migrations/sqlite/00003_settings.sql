-- +goose Up
-- Facts about the installation that every process sharing the database must agree on,
-- such as the fingerprint of the secret key connections are encrypted with.
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE settings;
