-- +goose Up
-- Every time is stored in UTC. On SQLite this version rewrites the times stored in their
-- own offset; PostgreSQL's timestamptz columns always held instants, so there is nothing
-- to do here. The file keeps the two folders at the same versions.
SELECT 1;

-- +goose Down
SELECT 1;
