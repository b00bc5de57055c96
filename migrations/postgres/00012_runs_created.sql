-- +goose Up
-- The dashboard counts the runs created in the last 24 hours or 7 days, by hour and
-- status. Without an index on created_at each count scans the whole runs table, which
-- retention may let grow to millions of rows; with it, only the window's rows are read.
-- created_at never changes after the insert, so the index costs one entry per run and
-- nothing on the run's many status updates.
CREATE INDEX runs_created ON runs (created_at);

-- +goose Down
DROP INDEX runs_created;
