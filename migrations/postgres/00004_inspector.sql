-- +goose Up
-- The inspector keeps every webhook request, accepted or not: body_size is the size that
-- arrived, which exceeds the stored body's length when it was cut for the record.
ALTER TABLE events ADD COLUMN body_size INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_workflow_id ON events (workflow_id, id);
-- Listing by id (time-ordered) makes the received_at index redundant; one index fewer to
-- maintain per webhook.
DROP INDEX events_workflow_received;

-- +goose Down
CREATE INDEX events_workflow_received ON events (workflow_id, received_at);
DROP INDEX events_workflow_id;
ALTER TABLE events DROP COLUMN body_size;
