-- +goose Up
-- Declarative connector files uploaded through the API (POST/PUT /api/v1/connectors), kept
-- here so every process of a cluster loads them. revision counts the writes of one name:
-- processes compare (id, revision) to see a change without reading every source.
CREATE TABLE connector_files (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    source     TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE connector_files;
