package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/workflow"
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
	// RunAt is when a queued or waiting run is due.
	RunAt           *time.Time `json:"run_at,omitempty"`
	DeadlineAt      *time.Time `json:"deadline_at,omitempty"`
	ReplayOf        string     `json:"replay_of,omitempty"`
	CancelRequested bool       `json:"cancel_requested,omitempty"`
	Steps           []StepRun  `json:"steps,omitempty"`
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
	// AttemptErrors lists every failed attempt: attempt, at, error and retry_at.
	AttemptErrors json.RawMessage `json:"attempt_errors,omitempty"`
}

// RunFilter selects runs to list.
type RunFilter struct {
	WorkflowID string
	Status     string
	// From and To bound the runs' creation time: From included, To excluded; zero means
	// no bound.
	From, To time.Time
	Cursor   string
	Limit    int
}

// ListRuns returns a page of runs, newest first, without their steps.
func (e *Engine) ListRuns(ctx context.Context, f RunFilter) (*Page[Run], error) {
	limit := clampLimit(f.Limit)
	rows, err := e.store.ListRuns(ctx, store.RunFilter{WorkflowID: f.WorkflowID, Status: f.Status,
		CreatedFrom: f.From, CreatedTo: f.To, Before: f.Cursor, Limit: limit + 1})
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
			FinishedAt: utcPtr(s.FinishedAt), DurationMS: s.DurationMS, AttemptErrors: rawJSON(s.AttemptErrors)}
	}
	return &r, nil
}

func runDTO(r *store.Run) Run {
	out := Run{ID: r.ID, WorkflowID: r.WorkflowID, Version: r.Version, Status: r.Status, Attempt: r.Attempt,
		Error: r.Error, CreatedAt: r.CreatedAt.UTC(), StartedAt: utcPtr(r.StartedAt), FinishedAt: utcPtr(r.FinishedAt)}
	if r.EventID != nil {
		out.EventID = *r.EventID
	}
	if r.ReplayOf != nil {
		out.ReplayOf = *r.ReplayOf
	}
	if r.Status == RunQueued || r.Status == RunWaiting {
		out.RunAt = utcPtr(&r.RunAt)
	}
	out.DeadlineAt = utcPtr(r.DeadlineAt)
	out.CancelRequested = r.CancelRequested && r.Status == RunRunning
	return out
}

// ReplayFrom says where a replay starts.
type ReplayFrom string

// Replay starting points.
const (
	// ReplayStart runs the event again, from the first step, on the workflow's current
	// version.
	ReplayStart ReplayFrom = ""
	// ReplayFailed continues a failed run from its failed step on the version it ran,
	// keeping the outputs of the steps before it.
	ReplayFailed ReplayFrom = "failed"
)

// Replay queues a new run of a past run's event. The past run is left as it was; the new
// one names it in replay_of.
func (e *Engine) Replay(ctx context.Context, runID string, from ReplayFrom) (*Run, error) {
	if err := allow(ctx, RoleEditor, "replay runs"); err != nil {
		return nil, err
	}
	old, err := e.store.GetRun(ctx, runID)
	if err != nil {
		return nil, translate(err)
	}
	if old.EventID == nil {
		return nil, fmt.Errorf("%w: run %s has no event to replay", ErrConflict, runID)
	}
	w, err := e.store.GetWorkflow(ctx, old.WorkflowID)
	if err != nil {
		return nil, translate(err)
	}
	def, err := e.versions.get(ctx, w.ID, w.Version)
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	run := &store.Run{ID: newID(), WorkflowID: old.WorkflowID, Version: w.Version, EventID: old.EventID,
		Status: store.RunQueued, RunAt: now, CreatedAt: now, UpdatedAt: now, ReplayOf: &old.ID}
	var keep []store.StepRun
	switch from {
	case ReplayStart:
	case ReplayFailed:
		if old.Status != RunFailed {
			return nil, fmt.Errorf("%w: run %s is %s; only a failed run continues from its failed step", ErrConflict, runID, old.Status)
		}
		steps, err := e.store.ListStepRuns(ctx, runID)
		if err != nil {
			return nil, err
		}
		failed := -1
		for _, st := range steps {
			if st.Status == store.StepFailed && (failed < 0 || st.Position < failed) {
				failed = st.Position
			}
		}
		if failed < 0 {
			failed = old.StepIndex // failed outside a step (the filter, the watchdog)
		}
		run.Version, run.StepIndex = old.Version, failed
		if def, err = e.versions.get(ctx, w.ID, old.Version); err != nil {
			return nil, err
		}
		for _, st := range steps {
			if st.Position < failed {
				st.ID, st.RunID = newID(), run.ID
				keep = append(keep, st)
			}
		}
	default:
		return nil, &workflow.ValidationError{Errors: []workflow.FieldError{{Path: "from", Message: fmt.Sprintf("%q is not a replay starting point; use failed or leave it out", from)}}}
	}
	deadline := e.deadline(def, now)
	run.DeadlineAt = &deadline
	if err := e.store.CreateRun(ctx, run, keep); err != nil {
		return nil, err
	}
	e.notifier.Notify()
	e.log.Info("Run replayed", slog.String("run_id", run.ID), slog.String("replay_of", runID), slog.String("from", string(from)))
	e.audit(ctx, AuditRunReplay, AuditKindRun, runID, "", map[string]any{"replay_run_id": run.ID, "starting_point": string(from), "workflow_id": run.WorkflowID})
	out := runDTO(run)
	return &out, nil
}

// Cancel stops a run: a queued or waiting one at once, a running one at its next step
// boundary. Cancelling a run that has ended is ErrConflict.
func (e *Engine) Cancel(ctx context.Context, runID string) (*Run, error) {
	if err := allow(ctx, RoleEditor, "cancel runs"); err != nil {
		return nil, err
	}
	r, changed, err := e.store.CancelRun(ctx, runID, "cancelled by request", e.cfg.Now())
	if err != nil {
		return nil, translate(err)
	}
	if !changed {
		return nil, fmt.Errorf("%w: run %s already ended as %s", ErrConflict, runID, r.Status)
	}
	if r.Status == store.RunRunning {
		// Other processes hear of it through the database (a notification on PostgreSQL,
		// their next heartbeat on either); this one need not wait.
		e.hearCancel(runID)
	}
	e.log.Info("Run cancel requested", slog.String("run_id", runID), slog.String("status", r.Status))
	e.audit(ctx, AuditRunCancel, AuditKindRun, runID, "", map[string]any{"status": r.Status, "workflow_id": r.WorkflowID})
	out := runDTO(r)
	return &out, nil
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
	Events map[string]int64 `json:"events"`
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
