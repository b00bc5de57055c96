-- +goose Up
-- Runs learn cancellation, replay lineage and a deadline (the watchdog); steps keep the
-- error of every attempt; workflows carry their concurrency cap for the claim query.
ALTER TABLE runs ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE runs ADD COLUMN replay_of TEXT;
ALTER TABLE runs ADD COLUMN deadline_at TIMESTAMPTZ;
ALTER TABLE step_runs ADD COLUMN attempt_errors TEXT;
ALTER TABLE workflows ADD COLUMN concurrency INTEGER NOT NULL DEFAULT 0;
-- Deduplication is a unique index, not a read-then-write: concurrent deliveries of one id
-- cannot both insert. NULL keys (no dedupe) never collide.
CREATE UNIQUE INDEX events_dedupe ON events (workflow_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
-- The claim query walks these partial indexes in order and stops after a batch, however
-- long the history of finished runs grows.
DROP INDEX runs_due;
CREATE INDEX runs_ready ON runs (run_at, id) WHERE status IN ('queued', 'waiting');
CREATE INDEX runs_expiring ON runs (lease_until) WHERE status = 'running';
CREATE INDEX runs_open ON runs (workflow_id, id) WHERE status IN ('queued', 'waiting', 'running');

-- +goose Down
DROP INDEX runs_open;
DROP INDEX runs_expiring;
DROP INDEX runs_ready;
CREATE INDEX runs_due ON runs (status, run_at);
DROP INDEX events_dedupe;
ALTER TABLE workflows DROP COLUMN concurrency;
ALTER TABLE step_runs DROP COLUMN attempt_errors;
ALTER TABLE runs DROP COLUMN deadline_at;
ALTER TABLE runs DROP COLUMN replay_of;
ALTER TABLE runs DROP COLUMN cancel_requested;
