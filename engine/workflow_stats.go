package engine

import (
	"context"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine/store"
)

// WorkflowStatsWindow is how far back WorkflowStats counts runs.
const WorkflowStatsWindow = 24 * time.Hour

// WorkflowStats is a workflow's recent activity, as the workflows list shows it.
type WorkflowStats struct {
	// Runs and Failures count the runs created in the last WorkflowStatsWindow, and the
	// failed ones among them.
	Runs     int64 `json:"runs"`
	Failures int64 `json:"failures"`
	// LastRun is the newest run; nil when the workflow never ran.
	LastRun *LastRun `json:"last_run,omitempty"`
}

// LastRun is the newest run of a workflow, briefly.
type LastRun struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// WorkflowStats returns the recent activity of the given workflows (a page of a list),
// keyed by workflow id, read in one query; the window ends at the engine's now. Ids that
// are not workflows are left out.
func (e *Engine) WorkflowStats(ctx context.Context, ids []string) (map[string]WorkflowStats, error) {
	rows, err := e.store.WorkflowStats(ctx, ids, e.cfg.Now().Add(-WorkflowStatsWindow))
	if err != nil {
		return nil, err
	}
	out := make(map[string]WorkflowStats, len(rows))
	for id, r := range rows {
		s := WorkflowStats{Runs: r.Runs, Failures: r.Failures}
		if r.LastRunID != nil && r.LastStatus != nil && r.LastCreatedAt != nil {
			s.LastRun = &LastRun{ID: *r.LastRunID, Status: *r.LastStatus, CreatedAt: *r.LastCreatedAt, FinishedAt: r.LastFinishedAt}
		}
		out[id] = s
	}
	return out, nil
}

// searchBatch is how many workflows SearchWorkflows reads at a time.
const searchBatch = 500

// SearchWorkflows is ListWorkflows restricted to the workflows whose name contains query,
// ignoring case in any script ("заказ" finds "Заказы с сайта"); an empty query lists all.
// Names are matched here rather than in SQL, where SQLite folds only ASCII letters; the
// workflows are read in batches of their id order, so a page costs a scan of the
// workflows up to it, not of the runs.
func (e *Engine) SearchWorkflows(ctx context.Context, query, cursor string, limit int) (*Page[Workflow], error) {
	needle := foldName(query)
	if needle == "" {
		return e.ListWorkflows(ctx, cursor, limit)
	}
	limit = clampLimit(limit)
	var hits []store.Workflow
	before := cursor
	for len(hits) <= limit {
		rows, err := e.store.ListWorkflows(ctx, before, searchBatch)
		if err != nil {
			return nil, err
		}
		for _, w := range rows {
			if strings.Contains(foldName(w.Name), needle) {
				hits = append(hits, w)
			}
		}
		if len(rows) < searchBatch {
			break
		}
		before = rows[len(rows)-1].ID
	}
	page := &Page[Workflow]{Items: make([]Workflow, 0, min(len(hits), limit))}
	if len(hits) > limit {
		hits = hits[:limit]
		page.NextCursor = hits[limit-1].ID
	}
	for i := range hits {
		page.Items = append(page.Items, *workflowDTO(&hits[i], nil))
	}
	return page, nil
}

// foldName prepares a name or a query for matching: lower case, ё as е (Russian
// writers often leave out the dots), spaces trimmed.
func foldName(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "ё", "е")
}
