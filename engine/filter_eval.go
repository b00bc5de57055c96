package engine

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/hookflow/hookflow/engine/expr"
	"github.com/hookflow/hookflow/engine/trigger"
)

// FilterError is a filter expression that does not compile or does not evaluate to a
// boolean on the sample. Line and Column (1-based, Column in runes) point into the
// expression; they are zero when the position is unknown.
type FilterError struct {
	Msg          string
	Line, Column int
	Err          error
}

func (e *FilterError) Error() string { return e.Err.Error() }

func (e *FilterError) Unwrap() error { return e.Err }

// filterError locates err, a compile or evaluation error of a filter.
func filterError(err error) *FilterError {
	fe := &FilterError{Msg: err.Error(), Err: err}
	var xe *expr.Error
	if errors.As(err, &xe) {
		fe.Msg, fe.Line, fe.Column = xe.Msg, xe.Line, xe.Column
	}
	return fe
}

// EvaluateFilter evaluates src, a filter expression not yet saved (the builder's filter
// card), on a sample trigger of the workflow, in the environment a run's filter sees
// (trigger, steps empty, run, workflow) with the saved version's limits and webhook
// preset. It stores nothing. An expression that does not compile, fails or gives
// something other than a boolean (nil counts as false, as in a run) is a *FilterError;
// an empty one is true (no filter lets every event through). Editors only, like
// TestStep.
func (e *Engine) EvaluateFilter(ctx context.Context, workflowID, src string, sample TestSample) (bool, error) {
	if err := allow(ctx, RoleEditor, "test workflow filters"); err != nil {
		return false, err
	}
	w, err := e.store.GetWorkflow(ctx, workflowID)
	if err != nil {
		return false, translate(err)
	}
	wf, err := e.versions.get(ctx, w.ID, w.Version)
	if err != nil {
		return false, err
	}
	trig, err := e.sampleEnv(ctx, workflowID, trigger.PresetOf(wf.Def), sample)
	if err != nil {
		return false, err
	}
	if strings.TrimSpace(src) == "" {
		return true, nil
	}
	prog, err := expr.Compile(src)
	if err != nil {
		return false, filterError(err)
	}
	lim := wf.Def.Limits.Or(*e.cfg.limits())
	ctx = expr.WithMemoryLimit(ctx, int64(lim.ExpressionMemory))
	env := map[string]any{
		"trigger":  trig,
		"steps":    map[string]any{},
		"run":      map[string]any{"id": "test-" + uuid.NewString(), "attempt": int64(1)},
		"workflow": map[string]any{"id": w.ID, "name": wf.Def.Name, "version": int64(w.Version)},
	}
	pass, err := prog.EvalBool(ctx, env)
	if err != nil {
		return false, filterError(err)
	}
	return pass, nil
}
