package runner

import (
	"context"
	"fmt"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/workflow"
)

// PreviewOne runs one step of a workflow in memory, as Preview runs each (the builder's
// "test this step"): earlier steps are not run, their outputs come from outputs (keyed by
// step id, from earlier tests); an earlier step missing there reads as an empty object (its fields nil).
// The workflow's filter is not evaluated; the step's if is. In a dry run no connector is
// called. ok is false when wf has no step stepID.
func (r *Runner) PreviewOne(ctx context.Context, wf *workflow.Compiled, trig map[string]any, workflowID string, version int,
	runID, stepID string, outputs map[string]any, dryRun bool) (ps PreviewStep, ok bool) {
	ctx, b, steps, env := r.previewEnv(ctx, wf, trig, workflowID, version, runID)
	for i := range wf.Steps {
		cs := &wf.Steps[i]
		if cs.ID != stepID {
			out, given := outputs[cs.ID]
			status := store.StepSucceeded
			if !given {
				// Untested: an empty object, so its fields read as nil.
				out, status = map[string]any{}, ""
			}
			steps[cs.ID] = map[string]any{"output": out, "status": status}
			continue
		}
		ps = PreviewStep{ID: cs.ID, Uses: cs.Uses}
		if cs.If != nil {
			pass, err := cs.If.EvalBool(ctx, env)
			if err != nil {
				ps.Status, ps.Error = store.StepFailed, fmt.Sprintf("evaluate if: %v", err)
				return ps, true
			}
			ps.If = &pass
			if !pass {
				ps.Status = store.StepSkipped
				return ps, true
			}
		}
		rec := &store.StepRun{Attempts: 1, StartedAt: r.cfg.Now()}
		r.previewStep(ctx, &store.Run{ID: runID}, cs, env, rec, dryRun, b, &ps)
		return ps, true
	}
	return ps, false
}
