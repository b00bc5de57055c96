// Package runner executes runs step by step. Each step's result is committed before the
// next starts, so a run taken over after a crash resumes at its first unfinished step and
// a finished step never runs again. A step that fails in a retryable way, or asks to wait
// (core.delay), puts the run to sleep in the database: no goroutine is held meanwhile.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/expr"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trace"
	"github.com/hookflow/hookflow/engine/trigger"
	"github.com/hookflow/hookflow/engine/workflow"
)

// StepTimeoutDefault limits one attempt of a step that sets no timeout.
const StepTimeoutDefault = 30 * time.Second

// Store is what the runner needs of the database.
type Store interface {
	GetEvent(ctx context.Context, id string) (*store.Event, error)
	ListStepRuns(ctx context.Context, runID string) ([]store.StepRun, error)
	SaveStep(ctx context.Context, l store.Lease, st *store.StepRun, nextIndex int, now, leaseUntil time.Time) (bool, error)
	SuspendRun(ctx context.Context, l store.Lease, st *store.StepRun, runAt, now time.Time) error
	ReleaseRun(ctx context.Context, l store.Lease, now time.Time) error
	FinishRun(ctx context.Context, l store.Lease, out store.Outcome) error
}

// Limiter spaces out calls through a connection. Reserve returns how long the caller
// must wait before its call; zero means go now.
type Limiter interface {
	Reserve(conn *connectors.Connection, now time.Time) time.Duration
}

// Observer hears about finished runs and steps, for metrics. Optional.
type Observer interface {
	RunFinished(runID, status string)
	StepFinished(runID, uses, status string, took time.Duration)
	// StepRetried hears of a failed attempt that is scheduled again.
	StepRetried(runID, uses string)
}

// Config wires a Runner.
type Config struct {
	Store Store
	// Version returns the compiled definition of a workflow version (cached by the caller).
	Version func(ctx context.Context, workflowID string, version int) (*workflow.Compiled, error)
	// Connection returns a connection with its secrets decrypted.
	Connection func(ctx context.Context, name string) (*connectors.Connection, error)
	// Limiter applies connections' rate limits. Optional.
	Limiter Limiter
	// Dialer is the outbound network policy, put in the context of every action call
	// (connectors.WithDialer). Optional: connectors/httpclient then applies its default.
	Dialer   connectors.Dialer
	Observer Observer
	// CallContext decorates the context of each action call with the step's connector
	// name (the engine adds its outbound request observer). Optional.
	CallContext func(ctx context.Context, connector string) context.Context
	// Tracer records a span per run, per step attempt and (through CallContext) per
	// outbound call. Nil records nothing.
	Tracer *trace.Tracer
	// FailureAlert builds the alert run (the on_failure workflow's) of a run failing for
	// good, with the failed step's id ("" when no step failed), or returns nil. The alert
	// is stored in the failure's own transaction, so no failure recorded misses its
	// alert. Optional.
	FailureAlert func(ctx context.Context, run *store.Run, stepID, errText string) *store.Started
	// Alerted hears of each alert stored with a failure. Optional.
	Alerted func()
	// Lease is how long a claim or a step checkpoint holds the run.
	Lease time.Duration
	// Stopping is closed when the process shuts down: runs stop at the next step
	// boundary and go back to the queue.
	Stopping <-chan struct{}
	Logger   *slog.Logger
	Now      func() time.Time
	// NewID returns a new unique id for step records.
	NewID func() string
	// Rand returns a float in [0, 1) for backoff jitter. Default math/rand.
	Rand func() float64
	// Limits are the defaults of workflows' limits; a zero field means no limit.
	Limits workflow.Limits
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
	if cfg.Rand == nil {
		cfg.Rand = defaultRand
	}
	return &Runner{cfg: cfg, log: cfg.Logger}
}

// outcome is how a run's execution ended in this claim.
type outcome struct {
	status string // final status, or "" when the run was suspended or released
	err    error
	// last is the final step's record, saved with the outcome in one transaction.
	last *store.StepRun
}

// ErrStopping is what Execute returns for a run it gave back to the queue at shutdown.
var ErrStopping = errors.New("worker shutting down")

// Execute runs a claimed run from its first unfinished step until it ends, waits, or
// the process stops, and records the outcome. Every write is fenced by the claim's lease
// (store.LeaseOf(run)): when a later claim has taken the run, the first write refused
// stops this execution, with nothing more done. It returns an error only when the outcome
// could not be recorded (the database failed or the lease was lost); the run is then
// left for another claim.
func (r *Runner) Execute(ctx context.Context, run *store.Run) error {
	log := withAttrs(r.log, slog.String("run_id", run.ID), slog.String("workflow_id", run.WorkflowID))
	out := r.execute(ctx, run, log)
	if out.status == "" {
		return out.err
	}
	errText := ""
	if out.err != nil {
		errText = out.err.Error()
	}
	errText = cutText(errText, maxErrorText)
	record := store.Outcome{Status: out.status, Error: errText, Now: r.cfg.Now(), Last: out.last}
	if out.status == store.RunFailed && r.cfg.FailureAlert != nil {
		stepID := ""
		if out.last != nil && out.last.Status == store.StepFailed {
			stepID = out.last.StepID
		}
		record.Alert = r.cfg.FailureAlert(ctx, run, stepID, errText)
	}
	if err := r.cfg.Store.FinishRun(ctx, store.LeaseOf(run), record); err != nil {
		return fmt.Errorf("record outcome of run %s: %w", run.ID, err)
	}
	if r.cfg.Observer != nil {
		r.cfg.Observer.RunFinished(run.ID, out.status)
	}
	r.endRunSpan(ctx, run, out, errText)
	if record.Alert != nil && r.cfg.Alerted != nil {
		r.cfg.Alerted()
	}
	switch out.status {
	case store.RunFailed:
		log.Warn("Run failed", slog.String("err", errText))
	default:
		// Debug: at thousands of runs a second an info line each would drown the log.
		log.Debug("Run finished", slog.String("status", out.status))
	}
	return nil
}

func (r *Runner) execute(ctx context.Context, run *store.Run, log *slog.Logger) outcome {
	if run.CancelRequested {
		return outcome{status: store.RunCancelled, err: errors.New("cancelled")}
	}
	if r.overdue(run) {
		return outcome{status: store.RunFailed, err: r.overdueError(run)}
	}
	wf, err := r.cfg.Version(ctx, run.WorkflowID, run.Version)
	if err != nil {
		var invalid *workflow.ValidationError
		if errors.Is(err, store.ErrNotFound) || errors.As(err, &invalid) {
			return outcome{status: store.RunFailed, err: fmt.Errorf("load workflow version %d: %w", run.Version, err)}
		}
		return outcome{err: fmt.Errorf("load workflow version %d of run %s: %w", run.Version, run.ID, err)}
	}
	env, records, err := r.environment(ctx, run, wf)
	if err != nil {
		return outcome{err: err}
	}
	if r.cfg.Tracer.Enabled() {
		ctx = trace.ContextWith(ctx, trace.RunContext(run.ID, callerContext(run.Event)))
	}
	b := newBudget(wf.Def.Limits.Or(r.cfg.Limits), records)
	ctx = expr.WithMemoryLimit(ctx, int64(b.lim.ExpressionMemory))
	if err := resumable(run, wf, records, b.lim); err != nil {
		return outcome{status: store.RunFailed, err: err}
	}
	// A webhook's filter already ran at ingress, where a drop stored the run ended
	// filtered; a run that got here passed it there or failed to evaluate it, and is
	// checked again so that its failure is recorded here. Runs of other triggers (cron,
	// polls, replays) are filtered only here.
	if run.StepIndex == 0 && len(records) == 0 && wf.Filter != nil {
		pass, err := wf.Filter.EvalBool(ctx, env)
		if err != nil {
			return outcome{status: store.RunFailed, err: withLimitHint(fmt.Errorf("evaluate filter: %w", err))}
		}
		if !pass {
			return outcome{status: store.RunFiltered}
		}
	}
	steps := env["steps"].(map[string]any)
	for i := run.StepIndex; i < len(wf.Steps); i++ {
		cs := &wf.Steps[i]
		if r.stopping() {
			return r.release(ctx, run, log)
		}
		if r.overdue(run) {
			return outcome{status: store.RunFailed, err: r.overdueError(run)}
		}
		sctx, span := ctx, (*trace.Span)(nil)
		if r.cfg.Tracer.Enabled() {
			// Guarded so that the span's name is not built when tracing is off.
			sctx, span = r.cfg.Tracer.Start(ctx, "step "+cs.ID, trace.KindInternal)
		}
		res := r.runStep(sctx, run, cs, env, records[cs.ID], b, log)
		endStepSpan(span, cs, res)
		if ctx.Err() != nil {
			// Cancelled mid-step (shutdown grace over): the step's outcome is unknown, so
			// record nothing; the lease lapses and another worker repeats the step with the
			// same idempotency key.
			return outcome{err: fmt.Errorf("run %s interrupted in step %s: %w", run.ID, cs.ID, ctx.Err())}
		}
		now := r.cfg.Now()
		if r.cfg.Observer != nil && res.rec.Status != store.StepWaiting {
			r.cfg.Observer.StepFinished(run.ID, cs.Uses, res.rec.Status, time.Duration(res.rec.DurationMS)*time.Millisecond)
		}
		if !res.wakeAt.IsZero() {
			if err := r.cfg.Store.SuspendRun(ctx, store.LeaseOf(run), res.rec, res.wakeAt, now); err != nil {
				return outcome{err: fmt.Errorf("suspend run %s: %w", run.ID, err)}
			}
			log.Debug("Run waiting", slog.String("step_id", cs.ID), slog.Time("until", res.wakeAt), slog.String("reason", res.waitReason))
			return outcome{}
		}
		if res.err != nil && (!cs.ContinueOnError || IsLimit(res.err)) {
			return outcome{status: store.RunFailed, err: fmt.Errorf("step %s: %w", cs.ID, res.err), last: res.rec}
		}
		if i == len(wf.Steps)-1 {
			return outcome{status: store.RunSucceeded, last: res.rec}
		}
		cancel, err := r.cfg.Store.SaveStep(ctx, store.LeaseOf(run), res.rec, i+1, now, now.Add(r.cfg.Lease))
		if err != nil {
			return outcome{err: fmt.Errorf("checkpoint run %s: %w", run.ID, err)}
		}
		se := stepEnv(res.rec)
		if res.rec.Status == store.StepSucceeded {
			// The output as the action returned it: its record may be cut at step_data.
			se["output"] = res.output
		}
		steps[cs.ID] = se
		if cancel {
			return outcome{status: store.RunCancelled, err: fmt.Errorf("cancelled after step %s", cs.ID)}
		}
	}
	return outcome{status: store.RunSucceeded}
}

func (r *Runner) stopping() bool {
	if r.cfg.Stopping == nil {
		return false
	}
	select {
	case <-r.cfg.Stopping:
		return true
	default:
		return false
	}
}

func (r *Runner) release(ctx context.Context, run *store.Run, log *slog.Logger) outcome {
	if err := r.cfg.Store.ReleaseRun(ctx, store.LeaseOf(run), r.cfg.Now()); err != nil {
		return outcome{err: fmt.Errorf("release run %s at shutdown: %w", run.ID, err)}
	}
	log.Info("Run released at shutdown")
	return outcome{err: ErrStopping}
}

func (r *Runner) overdue(run *store.Run) bool {
	return run.DeadlineAt != nil && r.cfg.Now().After(*run.DeadlineAt)
}

func (r *Runner) overdueError(run *store.Run) error {
	return fmt.Errorf("run exceeded its maximum duration (deadline %s)", run.DeadlineAt.UTC().Format(time.RFC3339))
}

// environment builds the expression environment, with the outputs of the steps finished
// before a takeover read back from the database. It also returns every step record of
// the run by step id, so a waiting step knows its attempts so far.
func (r *Runner) environment(ctx context.Context, run *store.Run, wf *workflow.Compiled) (map[string]any, map[string]*store.StepRun, error) {
	trig := map[string]any{}
	if run.Trigger != nil {
		// Built by the ingress from this run's event; a run resumed or claimed has none.
		trig = run.Trigger
	} else if run.EventID != nil {
		ev := run.Event
		if ev == nil {
			var err error
			if ev, err = r.cfg.Store.GetEvent(ctx, *run.EventID); err != nil {
				return nil, nil, fmt.Errorf("load event of run %s: %w", run.ID, err)
			}
			run.Event = ev // kept for the run's trace parent
		}
		var err error
		if trig, err = trigger.EventEnv(ev, trigger.PresetOf(wf.Def)); err != nil {
			return nil, nil, fmt.Errorf("load event of run %s: %w", run.ID, err)
		}
	}
	steps := map[string]any{}
	records := map[string]*store.StepRun{}
	// A fresh run has no step records; only a resumed one needs the query.
	if run.StepIndex > 0 || run.Attempt > 1 || run.ReplayOf != nil {
		done, err := r.cfg.Store.ListStepRuns(ctx, run.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("load finished steps of run %s: %w", run.ID, err)
		}
		for i := range done {
			records[done[i].StepID] = &done[i]
			if done[i].Status != store.StepWaiting {
				steps[done[i].StepID] = stepEnv(&done[i])
			}
		}
	}
	return map[string]any{
		"trigger":  trig,
		"steps":    steps,
		"run":      map[string]any{"id": run.ID, "attempt": int64(run.Attempt)},
		"workflow": map[string]any{"id": run.WorkflowID, "name": wf.Def.Name, "version": int64(run.Version)},
	}, records, nil
}

// resumable fails a run that resumes (after a wait, a takeover or as a replay) when a
// step whose output was stored cut at step_data is read by a step still to run: the
// full output was only in the memory of the execution that ran it.
func resumable(run *store.Run, wf *workflow.Compiled, records map[string]*store.StepRun, lim workflow.Limits) error {
	for id, rec := range records {
		if rec.Status == store.StepWaiting || !isTruncated(rec.Output) {
			continue
		}
		for i := run.StepIndex; i < len(wf.Steps); i++ {
			if wf.Steps[i].ID != id && mentions(&wf.Steps[i], id) {
				return &LimitError{Limit: "step_data", Value: lim.StepData.String(),
					What: fmt.Sprintf("the output of step %s was stored cut and the run resumed (after a wait, a takeover or as a replay), so step %s cannot read it in full", id, wf.Steps[i].ID)}
			}
		}
	}
	return nil
}

func stepEnv(rec *store.StepRun) map[string]any {
	var out any
	if rec.Output != nil {
		if v, err := connectors.DecodeJSON([]byte(*rec.Output)); err == nil {
			out = v
		}
	}
	m := map[string]any{"output": out, "status": rec.Status}
	if rec.Error != "" {
		m["error"] = rec.Error
	}
	return m
}

// stepResult is one attempt's record, and what happens next.
type stepResult struct {
	rec        *store.StepRun
	output     any       // the full output of a succeeded step
	err        error     // the step failed for good (after its last attempt, or permanently)
	wakeAt     time.Time // non-zero: the run waits until then (retry backoff or delay)
	waitReason string
	retryErr   error // the failed attempt's error, when it is retried
}

// attemptError is one failed attempt, kept in the step's history.
type attemptError struct {
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	Error   string    `json:"error"`
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// runStep runs one attempt of a step and decides what follows.
func (r *Runner) runStep(ctx context.Context, run *store.Run, cs *workflow.CompiledStep, env map[string]any, prev *store.StepRun, b *budget, log *slog.Logger) stepResult {
	now := r.cfg.Now()
	rec := &store.StepRun{ID: r.cfg.NewID(), RunID: run.ID, StepID: cs.ID, Position: cs.Index, StartedAt: now}
	var history []attemptError
	if prev != nil {
		rec.ID, rec.StartedAt, rec.Attempts, rec.DurationMS = prev.ID, prev.StartedAt, prev.Attempts, prev.DurationMS
		if prev.AttemptErrors != nil {
			_ = json.Unmarshal([]byte(*prev.AttemptErrors), &history)
		}
		b.stored -= recordSize(prev) // this attempt's record replaces it
	}
	attemptStart := now
	// finish records the attempt. It fails the step instead when the data would go past
	// run_data, in memory (a succeeded step's full output, kept for later steps) or in
	// the database (the record, its data cut at step_data).
	finish := func(status string, input, output any, err error) stepResult {
		end := r.cfg.Now()
		rec.FinishedAt = &end
		rec.DurationMS += end.Sub(attemptStart).Milliseconds()
		var inSize, outSize int64
		rec.Input, inSize = storeData(input, int64(b.lim.StepData))
		rec.Output, outSize = storeData(output, int64(b.lim.StepData))
		if status == store.StepSucceeded {
			if err = b.checkHeld(outSize, "the output of step "+cs.ID); err != nil {
				status, rec.Output = store.StepFailed, nil
			} else {
				b.held += outSize
			}
		}
		rec.AttemptErrors = encodeHistory(history)
		rec.Error = ""
		if err != nil {
			rec.Error = cutText(err.Error(), maxErrorText)
		}
		if size := recordSize(rec); b.lim.RunData > 0 && b.stored+size > int64(b.lim.RunData) {
			if !IsLimit(err) {
				err = &LimitError{Limit: "run_data", Value: b.lim.RunData.String(),
					What: fmt.Sprintf("the record of step %s (%d bytes) would bring the run's stored data to %d bytes",
						cs.ID, size, b.stored+size)}
			}
			// Keep the sizes, not the data.
			rec.Input, rec.Output = nil, nil
			if inSize > 0 {
				s := truncated("", inSize, 1<<10)
				rec.Input = &s
			}
			status, rec.Error = store.StepFailed, cutText(err.Error(), maxErrorText)
		}
		rec.Status = status
		b.stored += recordSize(rec)
		return stepResult{rec: rec, output: output, err: err}
	}
	if cs.If != nil {
		ok, err := cs.If.EvalBool(ctx, env)
		if err != nil {
			return finish(store.StepFailed, nil, nil, withLimitHint(fmt.Errorf("evaluate if: %w", err)))
		}
		if !ok {
			return finish(store.StepSkipped, nil, nil, nil)
		}
	}
	var (
		input  any
		output any
		err    error
	)
	waiting := prev != nil && prev.Status == store.StepWaiting && prev.Error == ""
	if !waiting {
		rec.Attempts++ // a delay's wake-up is the same attempt, not a new one
	}
	if cs.ForEach == nil {
		input, output, err = r.call(ctx, run, cs, env, cs.ID, rec, log)
		if err == nil {
			err = b.checkHeld(jsonSize(input)+jsonSize(output), "the input and output of step "+cs.ID)
		}
	} else {
		input, output, err = r.forEach(ctx, run, cs, env, rec, b, log)
	}
	err = withLimitHint(err)
	if until, ok := connectors.WaitTime(err); ok {
		res := finish(store.StepWaiting, input, nil, nil)
		if res.rec.Status == store.StepFailed {
			return res // past run_data
		}
		res.err, res.wakeAt, res.waitReason = nil, until, "the step asked to wait"
		rec.FinishedAt = nil
		return res
	}
	if err == nil {
		return finish(store.StepSucceeded, input, output, nil)
	}
	policy := PolicyFor(cs.Retry)
	end := r.cfg.Now()
	entry := attemptError{Attempt: rec.Attempts, At: end, Error: cutText(err.Error(), maxAttemptText)}
	// A limit is not passed by trying again.
	permanent := connectors.IsPermanent(err) || IsLimit(err)
	if !permanent && rec.Attempts < policy.MaxAttempts {
		retryAfter, _ := connectors.RetryDelay(err)
		entry.RetryAt = end.Add(policy.Wait(rec.Attempts, retryAfter, r.cfg.Rand))
		history = append(history, entry)
		res := finish(store.StepWaiting, input, nil, err)
		if res.rec.Status == store.StepFailed {
			return res // past run_data
		}
		rec.FinishedAt = nil
		res.err, res.wakeAt, res.waitReason = nil, entry.RetryAt, "retry after: "+err.Error()
		res.retryErr = err
		if r.cfg.Observer != nil {
			r.cfg.Observer.StepRetried(run.ID, cs.Uses)
		}
		return res
	}
	history = append(history, entry)
	if !permanent {
		err = fmt.Errorf("after %d attempts: %w", rec.Attempts, err)
	}
	return finish(store.StepFailed, input, nil, err)
}

// forEach runs the step once per element of its list. A retry repeats every element;
// each element's call carries its own idempotency key, so receivers that honour it act
// once per element.
// The inputs and outputs gathered count against run_data as they grow, so a long list
// of large items fails at the item that passes the limit.
func (r *Runner) forEach(ctx context.Context, run *store.Run, cs *workflow.CompiledStep, env map[string]any, rec *store.StepRun, b *budget, log *slog.Logger) (any, any, error) {
	listV, err := cs.ForEach.Eval(ctx, env)
	if err != nil {
		return nil, nil, connectors.Permanent(fmt.Errorf("evaluate for_each: %w", err))
	}
	list, ok := listV.([]any)
	if !ok && listV != nil {
		return nil, nil, connectors.Permanent(fmt.Errorf("for_each gave %s, expected a list", connectors.JSONTypeOf(listV)))
	}
	if err := b.checkItems(len(list)); err != nil {
		return nil, nil, err
	}
	inputs := make([]any, 0, len(list))
	outputs := make([]any, 0, len(list))
	var gathered int64
	for i, item := range list {
		itemEnv := make(map[string]any, len(env)+2)
		for k, v := range env {
			itemEnv[k] = v
		}
		itemEnv["item"], itemEnv["index"] = item, int64(i)
		input, output, err := r.call(ctx, run, cs, itemEnv, fmt.Sprintf("%s:%d", cs.ID, i), rec, log)
		inputs = append(inputs, input)
		if err != nil {
			if _, waits := connectors.WaitTime(err); waits {
				return inputs, nil, err
			}
			return inputs, nil, fmt.Errorf("item %d: %w", i, err)
		}
		outputs = append(outputs, output)
		gathered += jsonSize(input) + jsonSize(output)
		if err := b.checkHeld(gathered, fmt.Sprintf("the inputs and outputs of step %s up to item %d", cs.ID, i)); err != nil {
			return inputs, nil, err
		}
	}
	return inputs, outputs, nil
}

// call renders a step's inputs and performs its action once.
func (r *Runner) call(ctx context.Context, run *store.Run, cs *workflow.CompiledStep, env map[string]any, key string, rec *store.StepRun, log *slog.Logger) (map[string]any, any, error) {
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
		if r.cfg.Limiter != nil {
			if wait := r.cfg.Limiter.Reserve(conn, r.cfg.Now()); wait > 0 {
				if wait > maxRateWait {
					// A long wait is spent asleep in the database, not in a worker.
					return input, nil, connectors.WaitUntil(r.cfg.Now().Add(wait))
				}
				select {
				case <-ctx.Done():
					return input, nil, ctx.Err()
				case <-time.After(wait):
				}
			}
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
	if run.DeadlineAt != nil {
		// The deadline is a time on the engine's clock, which need not be the wall clock
		// a context measures by: pass the time left, never the instant.
		var cancelDeadline context.CancelFunc
		callCtx, cancelDeadline = context.WithTimeout(callCtx, run.DeadlineAt.Sub(r.cfg.Now()))
		defer cancelDeadline()
	}
	callCtx = connectors.WithDialer(callCtx, r.cfg.Dialer)
	if r.cfg.CallContext != nil {
		callCtx = r.cfg.CallContext(callCtx, cs.Connector.Name)
	}
	call := &connectors.Call{
		RunID:          run.ID,
		StepID:         cs.ID,
		Attempt:        rec.Attempts,
		StartedAt:      rec.StartedAt,
		IdempotencyKey: run.ID + ":" + key,
		Input:          input,
		Connection:     conn,
		Logger:         withAttrs(log, slog.String("step_id", cs.ID), slog.String("connector", cs.Connector.Name)),
	}
	output, err := action.Run(callCtx, call)
	if err != nil {
		if conn != nil {
			// Second line of defence: a connector's error text must never carry a secret
			// into the run record.
			err = redactedError{err: err, text: conn.Redact(err.Error())}
		}
		return input, nil, err
	}
	return input, output, nil
}

// maxRateWait is the longest a worker sleeps for a rate limit; longer waits suspend the
// run.
const maxRateWait = 2 * time.Second

// redactedError keeps an error's kind (errors.As still sees through it) while its text
// has secrets masked.
type redactedError struct {
	err  error
	text string
}

func (e redactedError) Error() string { return e.text }
func (e redactedError) Unwrap() error { return e.err }

func encodeJSON(v any) *string {
	if v == nil {
		return nil
	}
	// Stored as written: the API serves these records verbatim, and "a > b" should read
	// so, not "a \u003e b".
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		s := fmt.Sprintf("%q", fmt.Sprintf("unencodable value: %v", err))
		return &s
	}
	s := strings.TrimSuffix(b.String(), "\n")
	return &s
}

func encodeHistory(h []attemptError) *string {
	if len(h) == 0 {
		return nil
	}
	return encodeJSON(h)
}
