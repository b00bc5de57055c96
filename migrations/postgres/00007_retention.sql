-- +goose Up
-- Retention. A deleted workflow is only marked: the pruner removes its runs, steps and
-- events in small batches, then the row, so a delete never holds the writer for long.
ALTER TABLE workflows ADD COLUMN deleted_at TIMESTAMPTZ;
-- Jobs that one process at a time may do across a cluster (the pruner) hold a named
-- lease here, taken with a conditional UPDATE.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    lease_owner TEXT,
    lease_until TIMESTAMPTZ
);
INSERT INTO leases (name) VALUES ('retention');
-- Deleting an event looks up the runs that refer to it (ON DELETE SET NULL, and the
-- pruner's own check that none does): without this index, every event deleted scanned
-- the whole runs table.
CREATE INDEX runs_event ON runs (event_id);

-- +goose Down
DROP INDEX runs_event;
DROP TABLE leases;
ALTER TABLE workflows DROP COLUMN deleted_at;
