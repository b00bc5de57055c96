package store

import (
	"context"
	"fmt"
	"time"
)

// WorkflowStat is a workflow's recent activity, for the workflows list: its newest run
// and how many runs it started, and how many of those failed, since a given time.
type WorkflowStat struct {
	WorkflowID string
	// Runs and Failures count the runs created since the asked time; Failures are those
	// whose status is failed.
	Runs     int64
	Failures int64
	// The Last fields describe the newest run; nil when the workflow has no run.
	LastRunID      *string
	LastStatus     *string
	LastCreatedAt  *time.Time
	LastFinishedAt *time.Time
	LastRunError   *string
}

// WorkflowStats returns the activity of the given workflows in one query: for each, its
// newest run (by id, as the runs list orders them) and its runs and failures created at
// or after since. A workflow without runs has zero counts and no last run; ids that are
// not workflows are left out.
func (s *Store) WorkflowStats(ctx context.Context, ids []string, since time.Time) (map[string]WorkflowStat, error) {
	out := make(map[string]WorkflowStat, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// One statement for the whole page: the counts group the window's runs of the page's
	// workflows; the newest run is the first of each workflow's runs_workflow index
	// (workflow_id, id), read backwards.
	var rows []WorkflowStat
	err := s.rdb.WithContext(ctx).Raw(`WITH day AS (
		SELECT workflow_id, COUNT(*) AS runs, SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS failures
		FROM runs WHERE workflow_id IN ? AND created_at >= ? GROUP BY workflow_id
	), latest AS (
		SELECT w.id AS workflow_id,
			(SELECT r.id FROM runs r WHERE r.workflow_id = w.id ORDER BY r.id DESC LIMIT 1) AS run_id
		FROM workflows w WHERE w.id IN ?
	)
	SELECT latest.workflow_id, COALESCE(day.runs, 0) AS runs, COALESCE(day.failures, 0) AS failures,
		r.id AS last_run_id, r.status AS last_status, r.created_at AS last_created_at,
		r.finished_at AS last_finished_at, r.error AS last_run_error
	FROM latest
	LEFT JOIN day ON day.workflow_id = latest.workflow_id
	LEFT JOIN runs r ON r.id = latest.run_id`, RunFailed, ids, since.UTC(), ids).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("workflow stats of %d workflows: %w", len(ids), err)
	}
	for _, r := range rows {
		if r.LastCreatedAt != nil {
			t := r.LastCreatedAt.UTC()
			r.LastCreatedAt = &t
		}
		if r.LastFinishedAt != nil {
			t := r.LastFinishedAt.UTC()
			r.LastFinishedAt = &t
		}
		out[r.WorkflowID] = r
	}
	return out, nil
}
