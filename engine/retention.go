package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hookflow/hookflow/engine/store"
)

// Defaults of the retention settings of Config.
const (
	// RetentionMaxAgeDefault is how long a finished run (with its steps and event) is
	// kept after it ended, unless its workflow says otherwise.
	RetentionMaxAgeDefault = 30 * 24 * time.Hour
	// RetentionMaxRunsDefault is how many of a workflow's newest runs are kept, unless
	// its workflow says otherwise.
	RetentionMaxRunsDefault = 10_000
	// RetentionIntervalDefault is how often a process tries to prune. Only one process
	// at a time prunes (it holds the retention lease); the others find it taken.
	RetentionIntervalDefault = 5 * time.Minute
	// RetentionBatchDefault is how many runs one prune transaction deletes at most. Small
	// batches keep each transaction to milliseconds, so webhooks arriving meanwhile wait
	// for the writer no longer than they wait for each other: with 50, the webhooks' p99
	// on SQLite rose about 1.6 times while pruning, against about 2 with 200
	// (store.BenchmarkIngestWhilePruning, docs/performance.md).
	RetentionBatchDefault = 50
)

const (
	// retentionLease is how long a pruning process holds the lease without renewing it;
	// every batch renews it, so only a process that died mid-pass makes others wait.
	retentionLease = time.Minute
	// retentionPause is the least breath between two batches: the writer goes to
	// whoever waits for it (webhooks, run outcomes) before the next batch. The pause is
	// at least as long as the batch took, so the pruner holds the writer at most half the
	// time even when the database is slow (a SQLite checkpoint, a busy disk).
	retentionPause = 5 * time.Millisecond
)

// retention is one workflow's bounds: finished runs older than maxAge, or beyond the
// newest maxRuns, go. A bound of zero or less is none.
type retention struct {
	maxAge  time.Duration
	maxRuns int
}

// retentionOf returns the bounds of a workflow's current version: its own retention
// settings, the engine's otherwise.
func (e *Engine) retentionOf(ctx context.Context, w store.RetainedWorkflow) retention {
	r := retention{maxAge: e.cfg.RetentionMaxAge, maxRuns: e.cfg.RetentionMaxRuns}
	wf, err := e.versions.get(ctx, w.ID, w.Version)
	if err != nil {
		// Prune by the engine's settings rather than not at all; a version that does not
		// compile any more (a connector removed) still has history to bound.
		e.log.Warn("Read retention settings of workflow failed; using the defaults", slog.String("workflow_id", w.ID), slog.Any("err", err))
		return r
	}
	if o := wf.Def.Retention; o != nil {
		if o.MaxAge > 0 {
			r.maxAge = o.MaxAge.Std()
		}
		if o.MaxRuns > 0 {
			r.maxRuns = o.MaxRuns
		}
	}
	return r
}

// retain prunes on its own ticker, and at once when a workflow is deleted here, until ctx
// ends. The first pass comes one interval after start, so a restart loop does not
// prune in a loop too.
func (e *Engine) retain(ctx context.Context) {
	t := time.NewTicker(e.cfg.RetentionInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.pruneWake:
		}
		if _, err := e.Prune(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("Prune history failed", slog.Any("err", err))
		}
	}
}

// wakePruner asks this process's pruner for a pass now, without waiting for it.
func (e *Engine) wakePruner() {
	select {
	case e.pruneWake <- struct{}{}:
	default:
	}
}

// Prune makes one retention pass, if no other process is making one: every workflow's
// finished runs beyond its bounds go, with their steps and the events no run needs any
// more, and deleted workflows' whole history, in batches of at most RetentionBatch runs
// each in its own short transaction. It returns the rows deleted by table (nil when
// another process holds the retention lease). The workers call it on their own;
// it is exported for tests and tools.
func (e *Engine) Prune(ctx context.Context) (store.Pruned, error) {
	e.pruning.Lock()
	defer e.pruning.Unlock()
	now := e.cfg.Now()
	held, err := e.store.ClaimLease(ctx, store.RetentionLease, e.owner, now, now.Add(retentionLease))
	if err != nil || !held {
		return nil, err
	}
	defer func() {
		if err := e.store.ReleaseLease(context.WithoutCancel(ctx), store.RetentionLease, e.owner); err != nil {
			e.log.Warn("Release retention lease failed", slog.Any("err", err))
		}
	}()
	workflows, err := e.store.RetainedWorkflows(ctx)
	if err != nil {
		return nil, err
	}
	total := store.Pruned{}
	var errs []error
	for _, w := range workflows {
		if err := e.pruneWorkflow(ctx, w, total); err != nil {
			if ctx.Err() != nil || errors.Is(err, store.ErrLeaseNotHeld) {
				return total, err
			}
			errs = append(errs, err) // one workflow's failure does not stop the others'
		}
	}
	if n := total.Total(); n > 0 {
		e.log.Info("Pruned history", slog.Int64("runs", total["runs"]), slog.Int64("steps", total["step_runs"]),
			slog.Int64("events", total["events"]), slog.Int64("workflows", total["workflows"]))
	}
	return total, errors.Join(errs...)
}

// pruneWorkflow prunes one workflow batch by batch until it is within its bounds (or
// gone, when deleted), adding what it deleted to total and to the metrics.
func (e *Engine) pruneWorkflow(ctx context.Context, w store.RetainedWorkflow, total store.Pruned) error {
	var r retention
	if !w.Deleted {
		r = e.retentionOf(ctx, w)
		if r.maxAge <= 0 && r.maxRuns <= 0 {
			return nil
		}
	}
	for {
		start := time.Now()
		now := e.cfg.Now()
		fence := store.Fence{Name: store.RetentionLease, Owner: e.owner, Now: now, Until: now.Add(retentionLease)}
		var (
			p    store.Pruned
			more bool
			err  error
		)
		if w.Deleted {
			var gone bool
			p, gone, err = e.store.PruneDeleted(ctx, fence, w.ID, e.cfg.RetentionBatch)
			more = !gone && p.Total() > 0
		} else {
			var bound store.Retention
			if r.maxAge > 0 {
				bound.Before = now.Add(-r.maxAge)
			}
			bound.Keep = max(r.maxRuns, 0)
			p, err = e.store.PruneRuns(ctx, fence, w.ID, bound, e.cfg.RetentionBatch)
			more = p["runs"] >= int64(e.cfg.RetentionBatch)
		}
		for table, n := range p {
			total[table] += n
			e.metrics.pruned.WithLabelValues(table).Add(float64(n))
		}
		if err != nil || !more {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(max(retentionPause, time.Since(start))):
		}
	}
}
