package engine

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hookflow/hookflow/engine/store"
)

// Run statuses, as the API reports them.
const (
	RunQueued    = store.RunQueued
	RunRunning   = store.RunRunning
	RunWaiting   = store.RunWaiting
	RunSucceeded = store.RunSucceeded
	RunFailed    = store.RunFailed
	RunFiltered  = store.RunFiltered
	RunCancelled = store.RunCancelled
)

// RunStatuses lists every run status, for validating filters.
var RunStatuses = []string{RunQueued, RunRunning, RunWaiting, RunSucceeded, RunFailed, RunFiltered, RunCancelled}

// Run is a run as the API shows it.
type Run struct {
	ID         string     `json:"id"`
	WorkflowID string     `json:"workflow_id"`
	Version    int        `json:"version"`
	EventID    string     `json:"event_id,omitempty"`
	Status     string     `json:"status"`
	Attempt    int        `json:"attempt"`
	Error      string     `json:"error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Steps      []StepRun  `json:"steps,omitempty"`
}

// StepRun is the record of one step of a run.
type StepRun struct {
	StepID     string          `json:"step_id"`
	Position   int             `json:"position"`
	Status     string          `json:"status"`
	Attempts   int             `json:"attempts"`
	Input      json.RawMessage `json:"input,omitempty"`
	Output     json.RawMessage `json:"output,omitempty"`
	Error      string          `json:"error,omitempty"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	DurationMS int64           `json:"duration_ms"`
}

// RunFilter selects runs to list.
type RunFilter struct {
	WorkflowID string
	Status     string
	Cursor     string
	Limit      int
}

// ListRuns returns a page of runs, newest first, without their steps.
func (e *Engine) ListRuns(ctx context.Context, f RunFilter) (*Page[Run], error) {
	limit := clampLimit(f.Limit)
	rows, err := e.store.ListRuns(ctx, store.RunFilter{WorkflowID: f.WorkflowID, Status: f.Status, Before: f.Cursor, Limit: limit + 1})
	if err != nil {
		return nil, err
	}
	page := &Page[Run]{Items: make([]Run, 0, len(rows))}
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextCursor = rows[limit-1].ID
	}
	for i := range rows {
		page.Items = append(page.Items, runDTO(&rows[i]))
	}
	return page, nil
}

// GetRun returns a run with every step's input, output and error.
func (e *Engine) GetRun(ctx context.Context, id string) (*Run, error) {
	row, err := e.store.GetRun(ctx, id)
	if err != nil {
		return nil, translate(err)
	}
	steps, err := e.store.ListStepRuns(ctx, id)
	if err != nil {
		return nil, err
	}
	r := runDTO(row)
	r.Steps = make([]StepRun, len(steps))
	for i, s := range steps {
		r.Steps[i] = StepRun{StepID: s.StepID, Position: s.Position, Status: s.Status, Attempts: s.Attempts,
			Input: rawJSON(s.Input), Output: rawJSON(s.Output), Error: s.Error, StartedAt: s.StartedAt.UTC(),
			FinishedAt: utcPtr(s.FinishedAt), DurationMS: s.DurationMS}
	}
	return &r, nil
}

func runDTO(r *store.Run) Run {
	out := Run{ID: r.ID, WorkflowID: r.WorkflowID, Version: r.Version, Status: r.Status, Attempt: r.Attempt,
		Error: r.Error, CreatedAt: r.CreatedAt.UTC(), StartedAt: utcPtr(r.StartedAt), FinishedAt: utcPtr(r.FinishedAt)}
	if r.EventID != nil {
		out.EventID = *r.EventID
	}
	return out
}

func rawJSON(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Counts totals what the engine has recorded.
type Counts struct {
	Events int64            `json:"events"`
	Runs   map[string]int64 `json:"runs"`
	Steps  int64            `json:"steps"`
}

// Count returns the totals of events, runs by status and step records.
func (e *Engine) Count(ctx context.Context) (*Counts, error) {
	c, err := e.store.Count(ctx)
	if err != nil {
		return nil, err
	}
	return &Counts{Events: c.Events, Runs: c.Runs, Steps: c.Steps}, nil
}
