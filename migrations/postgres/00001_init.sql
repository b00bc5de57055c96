-- +goose Up
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'admin',
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ
);

CREATE TABLE workflows (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    version      INTEGER NOT NULL,
    trigger_type TEXT NOT NULL,
    hook_token   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE workflow_versions (
    workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    definition  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

CREATE TABLE connections (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    connector  TEXT NOT NULL,
    config     TEXT NOT NULL DEFAULT '{}',
    secrets    TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    workflow_id  TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    received_at  TIMESTAMPTZ NOT NULL,
    method       TEXT NOT NULL DEFAULT '',
    headers      TEXT NOT NULL DEFAULT '{}',
    query        TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    body         BYTEA,
    dedupe_key   TEXT,
    verdict      TEXT NOT NULL DEFAULT 'accepted',
    reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_workflow_received ON events (workflow_id, received_at);

-- A run is also the queue's job: status and run_at say when it is due, lease_owner and
-- lease_until who holds it, step_index where it resumes.
CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    event_id    TEXT REFERENCES events (id) ON DELETE SET NULL,
    status      TEXT NOT NULL,
    run_at      TIMESTAMPTZ NOT NULL,
    attempt     INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TIMESTAMPTZ,
    step_index  INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    started_at  TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX runs_due ON runs (status, run_at);
CREATE INDEX runs_workflow ON runs (workflow_id, id);

CREATE TABLE step_runs (
    id          TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id     TEXT NOT NULL,
    position    INTEGER NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    input       TEXT,
    output      TEXT,
    error       TEXT NOT NULL DEFAULT '',
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    UNIQUE (run_id, step_id)
);

-- +goose Down
DROP TABLE step_runs;
DROP TABLE runs;
DROP TABLE events;
DROP TABLE connections;
DROP TABLE workflow_versions;
DROP TABLE workflows;
DROP TABLE api_tokens;
DROP TABLE users;
