-- +goose Up
-- The audit log: who changed which workflow, connection, user or token, when, how and
-- what. The diff holds non-secret fields only (a secret appears by name as "set" or
-- "removed"). Rows are never updated; ids are UUIDv7, so "id DESC" is newest first and
-- pages like the runs listing.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          DATETIME NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    actor_email TEXT NOT NULL DEFAULT '',
    via         TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id   TEXT NOT NULL DEFAULT '',
    target_name TEXT NOT NULL DEFAULT '',
    diff        TEXT NOT NULL DEFAULT '{}',
    client_addr TEXT NOT NULL DEFAULT ''
);
-- The listing filters by target kind, target and actor, each newest first.
CREATE INDEX audit_log_kind ON audit_log (target_kind, id);
CREATE INDEX audit_log_target ON audit_log (target_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);

-- +goose Down
DROP TABLE audit_log;
