-- +goose Up
-- The ACME cache of HOOKFLOW_TLS_CACHE=db: account key, certificates with their private
-- keys and challenge tokens, shared by every process of a cluster so one certificate
-- order serves them all. data is sealed with the install's secret key, never clear text.
CREATE TABLE acme_cache (
    name       TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE acme_cache;
