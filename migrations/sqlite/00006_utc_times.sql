-- +goose Up
-- Every time is stored in UTC. Before this version, the SQLite driver wrote a time in the
-- offset it was given ("2026-12-01 12:00:00.5+03:00") and SQLite compared the text, so a
-- time in +03:00 came three hours late and one in -05:00 five hours early. The store now
-- turns every time into UTC before writing it; this rewrites the rows written before, in
-- the same text form: "YYYY-MM-DD HH:MM:SS[.fraction]+00:00".
--
-- strftime moves the date and time, to the second, to UTC; the fraction of a second is
-- kept as written, since strftime keeps only milliseconds of it and an offset (whole
-- minutes) never changes it. A value already in UTC, or without an offset, is left as is.

UPDATE users SET created_at = strftime('%Y-%m-%d %H:%M:%S', substr(created_at, 1, 19) || substr(created_at, -6))
    || substr(created_at, 20, length(created_at) - 25) || '+00:00'
    WHERE created_at LIKE '____-__-__ __:__:__%__:__' AND created_at NOT LIKE '%+00:00'
    AND substr(created_at, -6, 1) IN ('+', '-');
UPDATE api_tokens SET created_at = strftime('%Y-%m-%d %H:%M:%S', substr(created_at, 1, 19) || substr(created_at, -6))
    || substr(created_at, 20, length(created_at) - 25) || '+00:00'
    WHERE created_at LIKE '____-__-__ __:__:__%__:__' AND created_at NOT LIKE '%+00:00'
    AND substr(created_at, -6, 1) IN ('+', '-');
UPDATE api_tokens SET last_used_at = strftime('%Y-%m-%d %H:%M:%S', substr(last_used_at, 1, 19) || substr(last_used_at, -6))
    || substr(last_used_at, 20, length(last_used_at) - 25) || '+00:00'
    WHERE last_used_at LIKE '____-__-__ __:__:__%__:__' AND last_used_at NOT LIKE '%+00:00'
    AND substr(last_used_at, -6, 1) IN ('+', '-');
UPDATE workflows SET created_at = strftime('%Y-%m-%d %H:%M:%S', substr(created_at, 1, 19) || substr(created_at, -6))
    || substr(created_at, 20, length(created_at) - 25) || '+00:00'
    WHERE created_at LIKE '____-__-__ __:__:__%__:__' AND created_at NOT LIKE '%+00:00'
    AND substr(created_at, -6, 1) IN ('+', '-');
UPDATE workflows SET updated_at = strftime('%Y-%m-%d %H:%M:%S', substr(updated_at, 1, 19) || substr(updated_at, -6))
    || substr(updated_at, 20, length(updated_at) - 25) || '+00:00'
    WHERE updated_at LIKE '____-__-__ __:__:__%__:__' AND updated_at NOT LIKE '%+00:00'
    AND substr(updated_at, -6, 1) IN ('+', '-');
UPDATE workflow_versions SET created_at = strftime('%Y-%m-%d %H:%M:%S', substr(created_at, 1, 19) || substr(created_at, -6))
    || substr(created_at, 20, length(created_at) - 25) || '+00:00'
    WHERE created_at LIKE '____-__-__ __:__:__%__:__' AND created_at NOT LIKE '%+00:00'
    AND substr(created_at, -6, 1) IN ('+', '-');
UPDATE connections SET created_at = strftime('%Y-%m-%d %H:%M:%S', substr(created_at, 1, 19) || substr(created_at, -6))
    || substr(created_at, 20, length(created_at) - 25) || '+00:00'
    WHERE created_at LIKE '____-__-__ __:__:__%__:__' AND created_at NOT LIKE '%+00:00'
    AND substr(created_at, -6, 1) IN ('+', '-');
UPDATE connections SET updated_at = strftime('%Y-%m-%d %H:%M:%S', substr(updated_at, 1, 19) || substr(updated_at, -6))
    || substr(updated_at, 20, length(updated_at) - 25) || '+00:00'
    WHERE updated_at LIKE '____-__-__ __:__:__%__:__' AND updated_at NOT LIKE '%+00:00'
    AND substr(updated_at, -6, 1) IN ('+', '-');
UPDATE events SET received_at = strftime('%Y-%m-%d %H:%M:%S', substr(received_at, 1, 19) || substr(received_at, -6))
    || substr(received_at, 20, length(received_at) - 25) || '+00:00'
    WHERE received_at LIKE '____-__-__ __:__:__%__:__' AND received_at NOT LIKE '%+00:00'
    AND substr(received_at, -6, 1) IN ('+', '-');
UPDATE runs SET run_at = strftime('%Y-%m-%d %H:%M:%S', substr(run_at, 1, 19) || substr(run_at, -6))
    || substr(run_at, 20, length(run_at) - 25) || '+00:00'
    WHERE run_at LIKE '____-__-__ __:__:__%__:__' AND run_at NOT LIKE '%+00:00'
    AND substr(run_at, -6, 1) IN ('+', '-');
UPDATE runs SET lease_until = strftime('%Y-%m-%d %H:%M:%S', substr(lease_until, 1, 19) || substr(lease_until, -6))
    || substr(lease_until, 20, length(lease_until) - 25) || '+00:00'
    WHERE lease_until LIKE '____-__-__ __:__:__%__:__' AND lease_until NOT LIKE '%+00:00'
    AND substr(lease_until, -6, 1) IN ('+', '-');
UPDATE runs SET created_at = strftime('%Y-%m-%d %H:%M:%S', substr(created_at, 1, 19) || substr(created_at, -6))
    || substr(created_at, 20, length(created_at) - 25) || '+00:00'
    WHERE created_at LIKE '____-__-__ __:__:__%__:__' AND created_at NOT LIKE '%+00:00'
    AND substr(created_at, -6, 1) IN ('+', '-');
UPDATE runs SET started_at = strftime('%Y-%m-%d %H:%M:%S', substr(started_at, 1, 19) || substr(started_at, -6))
    || substr(started_at, 20, length(started_at) - 25) || '+00:00'
    WHERE started_at LIKE '____-__-__ __:__:__%__:__' AND started_at NOT LIKE '%+00:00'
    AND substr(started_at, -6, 1) IN ('+', '-');
UPDATE runs SET finished_at = strftime('%Y-%m-%d %H:%M:%S', substr(finished_at, 1, 19) || substr(finished_at, -6))
    || substr(finished_at, 20, length(finished_at) - 25) || '+00:00'
    WHERE finished_at LIKE '____-__-__ __:__:__%__:__' AND finished_at NOT LIKE '%+00:00'
    AND substr(finished_at, -6, 1) IN ('+', '-');
UPDATE runs SET updated_at = strftime('%Y-%m-%d %H:%M:%S', substr(updated_at, 1, 19) || substr(updated_at, -6))
    || substr(updated_at, 20, length(updated_at) - 25) || '+00:00'
    WHERE updated_at LIKE '____-__-__ __:__:__%__:__' AND updated_at NOT LIKE '%+00:00'
    AND substr(updated_at, -6, 1) IN ('+', '-');
UPDATE runs SET deadline_at = strftime('%Y-%m-%d %H:%M:%S', substr(deadline_at, 1, 19) || substr(deadline_at, -6))
    || substr(deadline_at, 20, length(deadline_at) - 25) || '+00:00'
    WHERE deadline_at LIKE '____-__-__ __:__:__%__:__' AND deadline_at NOT LIKE '%+00:00'
    AND substr(deadline_at, -6, 1) IN ('+', '-');
UPDATE step_runs SET started_at = strftime('%Y-%m-%d %H:%M:%S', substr(started_at, 1, 19) || substr(started_at, -6))
    || substr(started_at, 20, length(started_at) - 25) || '+00:00'
    WHERE started_at LIKE '____-__-__ __:__:__%__:__' AND started_at NOT LIKE '%+00:00'
    AND substr(started_at, -6, 1) IN ('+', '-');
UPDATE step_runs SET finished_at = strftime('%Y-%m-%d %H:%M:%S', substr(finished_at, 1, 19) || substr(finished_at, -6))
    || substr(finished_at, 20, length(finished_at) - 25) || '+00:00'
    WHERE finished_at LIKE '____-__-__ __:__:__%__:__' AND finished_at NOT LIKE '%+00:00'
    AND substr(finished_at, -6, 1) IN ('+', '-');
UPDATE settings SET created_at = strftime('%Y-%m-%d %H:%M:%S', substr(created_at, 1, 19) || substr(created_at, -6))
    || substr(created_at, 20, length(created_at) - 25) || '+00:00'
    WHERE created_at LIKE '____-__-__ __:__:__%__:__' AND created_at NOT LIKE '%+00:00'
    AND substr(created_at, -6, 1) IN ('+', '-');
UPDATE trigger_states SET last_slot = strftime('%Y-%m-%d %H:%M:%S', substr(last_slot, 1, 19) || substr(last_slot, -6))
    || substr(last_slot, 20, length(last_slot) - 25) || '+00:00'
    WHERE last_slot LIKE '____-__-__ __:__:__%__:__' AND last_slot NOT LIKE '%+00:00'
    AND substr(last_slot, -6, 1) IN ('+', '-');
UPDATE trigger_states SET next_at = strftime('%Y-%m-%d %H:%M:%S', substr(next_at, 1, 19) || substr(next_at, -6))
    || substr(next_at, 20, length(next_at) - 25) || '+00:00'
    WHERE next_at LIKE '____-__-__ __:__:__%__:__' AND next_at NOT LIKE '%+00:00'
    AND substr(next_at, -6, 1) IN ('+', '-');
UPDATE trigger_states SET lease_until = strftime('%Y-%m-%d %H:%M:%S', substr(lease_until, 1, 19) || substr(lease_until, -6))
    || substr(lease_until, 20, length(lease_until) - 25) || '+00:00'
    WHERE lease_until LIKE '____-__-__ __:__:__%__:__' AND lease_until NOT LIKE '%+00:00'
    AND substr(lease_until, -6, 1) IN ('+', '-');
UPDATE trigger_states SET last_poll_at = strftime('%Y-%m-%d %H:%M:%S', substr(last_poll_at, 1, 19) || substr(last_poll_at, -6))
    || substr(last_poll_at, 20, length(last_poll_at) - 25) || '+00:00'
    WHERE last_poll_at LIKE '____-__-__ __:__:__%__:__' AND last_poll_at NOT LIKE '%+00:00'
    AND substr(last_poll_at, -6, 1) IN ('+', '-');
UPDATE trigger_states SET last_success_at = strftime('%Y-%m-%d %H:%M:%S', substr(last_success_at, 1, 19) || substr(last_success_at, -6))
    || substr(last_success_at, 20, length(last_success_at) - 25) || '+00:00'
    WHERE last_success_at LIKE '____-__-__ __:__:__%__:__' AND last_success_at NOT LIKE '%+00:00'
    AND substr(last_success_at, -6, 1) IN ('+', '-');
UPDATE trigger_states SET failing_since = strftime('%Y-%m-%d %H:%M:%S', substr(failing_since, 1, 19) || substr(failing_since, -6))
    || substr(failing_since, 20, length(failing_since) - 25) || '+00:00'
    WHERE failing_since LIKE '____-__-__ __:__:__%__:__' AND failing_since NOT LIKE '%+00:00'
    AND substr(failing_since, -6, 1) IN ('+', '-');
UPDATE trigger_states SET updated_at = strftime('%Y-%m-%d %H:%M:%S', substr(updated_at, 1, 19) || substr(updated_at, -6))
    || substr(updated_at, 20, length(updated_at) - 25) || '+00:00'
    WHERE updated_at LIKE '____-__-__ __:__:__%__:__' AND updated_at NOT LIKE '%+00:00'
    AND substr(updated_at, -6, 1) IN ('+', '-');
UPDATE poll_seen SET seen_at = strftime('%Y-%m-%d %H:%M:%S', substr(seen_at, 1, 19) || substr(seen_at, -6))
    || substr(seen_at, 20, length(seen_at) - 25) || '+00:00'
    WHERE seen_at LIKE '____-__-__ __:__:__%__:__' AND seen_at NOT LIKE '%+00:00'
    AND substr(seen_at, -6, 1) IN ('+', '-');

-- +goose Down
-- Times in UTC are what every earlier version reads and writes too: nothing to undo.
SELECT 1;
