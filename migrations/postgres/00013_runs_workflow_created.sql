-- +goose Up
-- The workflows list counts each workflow's runs of the last 24 hours: this index reads
-- just that window of one workflow's runs, however long its history.
CREATE INDEX runs_workflow_created ON runs (workflow_id, created_at);

-- +goose Down
DROP INDEX runs_workflow_created;
