-- +goose Up
-- The state of a workflow's schedule or poll trigger, shared by every process: which tick
-- fired last, when the next poll is due and which process holds it, the poll's cursor,
-- and its health for the API.
CREATE TABLE trigger_states (
    workflow_id          TEXT PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
    version              INTEGER NOT NULL,
    last_slot            TIMESTAMPTZ,
    next_at              TIMESTAMPTZ NOT NULL,
    lease_owner          TEXT,
    lease_until          TIMESTAMPTZ,
    cursor               TEXT,
    seeded               BOOLEAN NOT NULL DEFAULT FALSE,
    last_poll_at         TIMESTAMPTZ,
    last_success_at      TIMESTAMPTZ,
    last_error           TEXT NOT NULL DEFAULT '',
    failing_since        TIMESTAMPTZ,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    items_seen           INTEGER NOT NULL DEFAULT 0,
    runs_started         INTEGER NOT NULL DEFAULT 0,
    updated_at           TIMESTAMPTZ NOT NULL
);

-- The keys of the items a poll trigger has seen: an item whose key is here starts no run.
-- Retention is bounded per workflow (the oldest keys go first).
CREATE TABLE poll_seen (
    workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    item_key    TEXT NOT NULL,
    seen_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workflow_id, item_key)
);
CREATE INDEX poll_seen_age ON poll_seen (workflow_id, seen_at);

-- +goose Down
DROP TABLE poll_seen;
DROP TABLE trigger_states;
