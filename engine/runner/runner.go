// Package runner executes runs step by step. Each step's result is committed before the
// next starts, so a run taken over after a crash resumes at its first unfinished step and
// a finished step never runs again.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trigger"
	"github.com/hookflow/hookflow/engine/workflow"
)

// StepTimeoutDefault limits one attempt of a step that sets no timeout.
const StepTimeoutDefault = 30 * time.Second

// Store is what the runner needs of the database.
type Store interface {
	GetEvent(ctx context.Context, id string) (*store.Event, error)
	ListStepRuns(ctx context.Context, runID string) ([]store.StepRun, error)
	SaveStep(ctx context.Context, owner string, st *store.StepRun, nextIndex int, now, leaseUntil time.Time) error
	FinishRun(ctx context.Context, owner, runID, status, errText string, now time.Time) error
}

// Config wires a Runner.
type Config struct {
	Store Store
	// Version returns the compiled definition of a workflow version (cached by the caller).
	Version func(ctx context.Context, workflowID string, version int) (*workflow.Compiled, error)
	// Connection returns a connection with its secrets decrypted.
	Connection func(ctx context.Context, name string) (*connectors.Connection, error)
	// Owner names this worker in leases.
	Owner string
	// Lease is how long a claim or a step checkpoint holds the run.
	Lease  time.Duration
	Logger *slog.Logger
	Now    func() time.Time
	// NewID returns a new unique id for step records.
	NewID func() string
}

// Runner executes claimed runs.
type Runner struct {
	cfg Config
	log *slog.Logger
}

// New returns a Runner.
func New(cfg Config) *Runner {
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, log: cfg.Logger}
}

// stepFailure is a step error that ends the run.
type stepFailure struct {
	stepID string
	err    error
}

func (e *stepFailure) Error() string { return fmt.Sprintf("step %s: %v", e.stepID, e.err) }
func (e *stepFailure) Unwrap() error { return e.err }

// Execute runs a claimed run from its first unfinished step to its end and records the
// outcome. It returns an error only when the outcome could not be recorded (the database
// failed or the lease was lost); the run is then left for another claim.
func (r *Runner) Execute(ctx context.Context, run *store.Run) error {
	log := r.log.With(slog.String("run_id", run.ID), slog.String("workflow_id", run.WorkflowID))
	status, runErr := r.execute(ctx, run, log)
	errText := ""
	if runErr != nil {
		errText = runErr.Error()
	}
	if status == "" {
		return runErr
	}
	if err := r.cfg.Store.FinishRun(ctx, r.cfg.Owner, run.ID, status, errText, r.cfg.Now()); err != nil {
		return fmt.Errorf("record outcome of run %s: %w", run.ID, err)
	}
	if status == store.RunFailed {
		log.Warn("Run failed", slog.String("err", errText))
	} else {
		log.Info("Run finished", slog.String("status", status))
	}
	return nil
}

// execute returns the final status, or "" with an error when the run must be left
// unfinished for another attempt.
func (r *Runner) execute(ctx context.Context, run *store.Run, log *slog.Logger) (string, error) {
	wf, err := r.cfg.Version(ctx, run.WorkflowID, run.Version)
	if err != nil {
		var invalid *workflow.ValidationError
		if errors.Is(err, store.ErrNotFound) || errors.As(err, &invalid) {
			return store.RunFailed, fmt.Errorf("load workflow version %d: %w", run.Version, err)
		}
		return "", fmt.Errorf("load workflow version %d of run %s: %w", run.Version, run.ID, err)
	}
	env, err := r.environment(ctx, run, wf)
	if err != nil {
		return "", err
	}
	// The filter runs in the worker, not at ingress, so the webhook path stays a single
	// insert; a filtered run is recorded and cheap.
	if run.StepIndex == 0 && wf.Filter != nil {
		pass, err := wf.Filter.EvalBool(ctx, env)
		if err != nil {
			return store.RunFailed, fmt.Errorf("evaluate filter: %w", err)
		}
		if !pass {
			return store.RunFiltered, nil
		}
	}
	steps := env["steps"].(map[string]any)
	for i := run.StepIndex; i < len(wf.Steps); i++ {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("run %s interrupted before step %d: %w", run.ID, i, err)
		}
		cs := &wf.Steps[i]
		rec, err := r.runStep(ctx, run, cs, env, log)
		if ctx.Err() != nil {
			// Shutting down mid-step: the step's outcome is unknown, so record nothing and
			// let the lease expire; another worker repeats the step with the same
			// idempotency key.
			return "", fmt.Errorf("run %s interrupted in step %s: %w", run.ID, cs.ID, ctx.Err())
		}
		if err := r.cfg.Store.SaveStep(ctx, r.cfg.Owner, rec, i+1, r.cfg.Now(), r.cfg.Now().Add(r.cfg.Lease)); err != nil {
			return "", fmt.Errorf("checkpoint run %s: %w", run.ID, err)
		}
		steps[cs.ID] = stepEnv(rec)
		if err != nil && !cs.ContinueOnError {
			return store.RunFailed, &stepFailure{stepID: cs.ID, err: err}
		}
	}
	return store.RunSucceeded, nil
}

// environment builds the expression environment, with the outputs of the steps finished
// before a takeover read back from the database.
func (r *Runner) environment(ctx context.Context, run *store.Run, wf *workflow.Compiled) (map[string]any, error) {
	trig := map[string]any{}
	if run.EventID != nil {
		ev, err := r.cfg.Store.GetEvent(ctx, *run.EventID)
		if err != nil {
			return nil, fmt.Errorf("load event of run %s: %w", run.ID, err)
		}
		headers, err := trigger.DecodeHeaders(ev.Headers)
		if err != nil {
			return nil, fmt.Errorf("load event of run %s: %w", run.ID, err)
		}
		wh := trigger.Webhook{EventID: ev.ID, Method: ev.Method, Headers: headers, Query: ev.Query,
			ContentType: ev.ContentType, Body: ev.Body, ReceivedAt: ev.ReceivedAt}
		trig = wh.Env()
	}
	steps := map[string]any{}
	if run.StepIndex > 0 {
		done, err := r.cfg.Store.ListStepRuns(ctx, run.ID)
		if err != nil {
			return nil, fmt.Errorf("load finished steps of run %s: %w", run.ID, err)
		}
		for i := range done {
			steps[done[i].StepID] = stepEnv(&done[i])
		}
	}
	return map[string]any{
		"trigger":  trig,
		"steps":    steps,
		"run":      map[string]any{"id": run.ID, "attempt": int64(run.Attempt)},
		"workflow": map[string]any{"id": run.WorkflowID, "name": wf.Def.Name, "version": int64(run.Version)},
	}, nil
}

func stepEnv(rec *store.StepRun) map[string]any {
	var out any
	if rec.Output != nil {
		if v, err := workflow.DecodeJSON([]byte(*rec.Output)); err == nil {
			out = v
		}
	}
	m := map[string]any{"output": out, "status": rec.Status}
	if rec.Error != "" {
		m["error"] = rec.Error
	}
	return m
}

// runStep runs one step and returns its record. The error is the step's failure.
func (r *Runner) runStep(ctx context.Context, run *store.Run, cs *workflow.CompiledStep, env map[string]any, log *slog.Logger) (*store.StepRun, error) {
	start := r.cfg.Now()
	rec := &store.StepRun{ID: r.cfg.NewID(), RunID: run.ID, StepID: cs.ID, Position: cs.Index, StartedAt: start}
	finish := func(status string, input, output any, err error) (*store.StepRun, error) {
		end := r.cfg.Now()
		rec.Status, rec.FinishedAt, rec.DurationMS = status, &end, end.Sub(start).Milliseconds()
		rec.Input = encodeJSON(input)
		rec.Output = encodeJSON(output)
		if err != nil {
			rec.Error = err.Error()
		}
		return rec, err
	}
	if cs.If != nil {
		ok, err := cs.If.EvalBool(ctx, env)
		if err != nil {
			return finish(store.StepFailed, nil, nil, connectors.Permanent(fmt.Errorf("evaluate if: %w", err)))
		}
		if !ok {
			return finish(store.StepSkipped, nil, nil, nil)
		}
	}
	rec.Attempts = 1
	if cs.ForEach == nil {
		input, output, err := r.call(ctx, run, cs, env, cs.ID, log)
		if err != nil {
			return finish(store.StepFailed, input, nil, err)
		}
		return finish(store.StepSucceeded, input, output, nil)
	}
	listV, err := cs.ForEach.Eval(ctx, env)
	if err != nil {
		return finish(store.StepFailed, nil, nil, connectors.Permanent(fmt.Errorf("evaluate for_each: %w", err)))
	}
	list, ok := listV.([]any)
	if !ok && listV != nil {
		return finish(store.StepFailed, nil, nil, connectors.Permanent(fmt.Errorf("for_each gave %s, expected a list", connectors.JSONTypeOf(listV))))
	}
	inputs := make([]any, 0, len(list))
	outputs := make([]any, 0, len(list))
	for i, item := range list {
		itemEnv := make(map[string]any, len(env)+2)
		for k, v := range env {
			itemEnv[k] = v
		}
		itemEnv["item"], itemEnv["index"] = item, int64(i)
		input, output, err := r.call(ctx, run, cs, itemEnv, fmt.Sprintf("%s:%d", cs.ID, i), log)
		inputs = append(inputs, input)
		if err != nil {
			return finish(store.StepFailed, inputs, outputs, fmt.Errorf("item %d: %w", i, err))
		}
		outputs = append(outputs, output)
	}
	return finish(store.StepSucceeded, inputs, outputs, nil)
}

// call renders a step's inputs and performs its action once.
func (r *Runner) call(ctx context.Context, run *store.Run, cs *workflow.CompiledStep, env map[string]any, key string, log *slog.Logger) (map[string]any, any, error) {
	rendered, err := cs.With.Render(ctx, env)
	if err != nil {
		return nil, nil, connectors.Permanent(fmt.Errorf("render inputs: %w", err))
	}
	input, _ := rendered.(map[string]any)
	if input == nil {
		input = map[string]any{}
	}
	var conn *connectors.Connection
	if cs.Connection != "" {
		conn, err = r.cfg.Connection(ctx, cs.Connection)
		if err != nil {
			return input, nil, fmt.Errorf("load connection %s: %w", cs.Connection, err)
		}
	}
	action := cs.Action.New()
	if c, ok := action.(connectors.Closer); ok {
		defer func() {
			if err := c.Close(); err != nil {
				log.Warn("Close action failed", slog.String("step_id", cs.ID), slog.Any("err", err))
			}
		}()
	}
	if v, ok := action.(connectors.Validator); ok {
		if err := v.Validate(input); err != nil {
			return input, nil, connectors.Permanent(fmt.Errorf("invalid inputs: %w", err))
		}
	}
	timeout := cs.Timeout.Std()
	if timeout <= 0 {
		timeout = StepTimeoutDefault
	}
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	call := &connectors.Call{
		RunID:          run.ID,
		StepID:         cs.ID,
		Attempt:        1,
		IdempotencyKey: run.ID + ":" + key,
		Input:          input,
		Connection:     conn,
		Logger:         log.With(slog.String("step_id", cs.ID), slog.String("connector", cs.Connector.Name)),
	}
	output, err := action.Run(callCtx, call)
	if err != nil {
		return input, nil, err
	}
	return input, output, nil
}

func encodeJSON(v any) *string {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		s := fmt.Sprintf("%q", fmt.Sprintf("unencodable value: %v", err))
		return &s
	}
	s := string(b)
	return &s
}
