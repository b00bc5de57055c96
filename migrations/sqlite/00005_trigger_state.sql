-- +goose Up
-- The state of a workflow's schedule or poll trigger, shared by every process: which tick
-- fired last, when the next poll is due and which process holds it, the poll's cursor,
-- and its health for the API.
CREATE TABLE trigger_states (
    workflow_id          TEXT PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
    version              INTEGER NOT NULL,
    last_slot            DATETIME,
    next_at              DATETIME NOT NULL,
    lease_owner          TEXT,
    lease_until          DATETIME,
    cursor               TEXT,
    seeded               BOOLEAN NOT NULL DEFAULT 0,
    last_poll_at         DATETIME,
    last_success_at      DATETIME,
    last_error           TEXT NOT NULL DEFAULT '',
    failing_since        DATETIME,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    items_seen           INTEGER NOT NULL DEFAULT 0,
    runs_started         INTEGER NOT NULL DEFAULT 0,
    updated_at           DATETIME NOT NULL
);

-- The keys of the items a poll trigger has seen: an item whose key is here starts no run.
-- Retention is bounded per workflow (the oldest keys go first).
CREATE TABLE poll_seen (
    workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    item_key    TEXT NOT NULL,
    seen_at     DATETIME NOT NULL,
    PRIMARY KEY (workflow_id, item_key)
);
CREATE INDEX poll_seen_age ON poll_seen (workflow_id, seen_at);

-- +goose Down
DROP TABLE poll_seen;
DROP TABLE trigger_states;
