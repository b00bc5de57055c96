package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/expr"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/workflow"
)

// Preview is a workflow run in memory on a sample event: what the filter and each step
// did, or in a dry run would do. Nothing of it is stored.
type Preview struct {
	// Status is succeeded, filtered or failed.
	Status      string        `json:"status"`
	Filter      *bool         `json:"filter,omitempty"`
	FilterError string        `json:"filter_error,omitempty"`
	Steps       []PreviewStep `json:"steps"`
}

// PreviewStep is one step of a preview.
type PreviewStep struct {
	ID   string `json:"id"`
	Uses string `json:"uses"`
	// Status is succeeded, failed, skipped, waiting (core.delay), or would_call in a dry
	// run for an action that calls a service.
	Status string `json:"status"`
	// If is the verdict of the step's condition, when it has one.
	If     *bool  `json:"if,omitempty"`
	Input  any    `json:"input,omitempty"`
	Output any    `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
}

// PreviewStatuses beyond the stored step statuses.
const (
	PreviewWouldCall = "would_call"
)

// previewEnv is what a preview evaluates in: the workflow's data budget (and its
// expression memory in ctx), and the environment of a run's first attempt, whose steps
// map the caller fills as steps end.
func (r *Runner) previewEnv(ctx context.Context, wf *workflow.Compiled, trig map[string]any, workflowID string, version int,
	runID string) (context.Context, *budget, map[string]any, map[string]any) {
	b := newBudget(wf.Def.Limits.Or(r.cfg.Limits), nil)
	ctx = expr.WithMemoryLimit(ctx, int64(b.lim.ExpressionMemory))
	steps := map[string]any{}
	env := map[string]any{
		"trigger":  trig,
		"steps":    steps,
		"run":      map[string]any{"id": runID, "attempt": int64(1)},
		"workflow": map[string]any{"id": workflowID, "name": wf.Def.Name, "version": int64(version)},
	}
	return ctx, b, steps, env
}

// Preview runs a workflow on a trigger without touching the database. In a dry run no
// connector is called: each step reports its rendered input, and the built-in core.set
// and core.respond compute their outputs so later steps can use them. Otherwise every
// step calls its service once, without retries, with the idempotency key
// "<run id>:<step id>" of a one-off run id.
func (r *Runner) Preview(ctx context.Context, wf *workflow.Compiled, trig map[string]any, workflowID string, version int, runID string, dryRun bool) *Preview {
	p := &Preview{Status: store.RunSucceeded, Steps: []PreviewStep{}}
	ctx, b, steps, env := r.previewEnv(ctx, wf, trig, workflowID, version, runID)
	if wf.Filter != nil {
		pass, err := wf.Filter.EvalBool(ctx, env)
		if err != nil {
			p.Status, p.FilterError = store.RunFailed, err.Error()
			return p
		}
		p.Filter = &pass
		if !pass {
			p.Status = store.RunFiltered
			return p
		}
	}
	now := r.cfg.Now()
	run := &store.Run{ID: runID}
	for i := range wf.Steps {
		cs := &wf.Steps[i]
		ps := PreviewStep{ID: cs.ID, Uses: cs.Uses}
		if cs.If != nil {
			ok, err := cs.If.EvalBool(ctx, env)
			if err != nil {
				ps.Status, ps.Error = store.StepFailed, "evaluate if: "+err.Error()
			} else {
				ps.If = &ok
				if !ok {
					ps.Status = store.StepSkipped
				}
			}
		}
		if ps.Status == "" {
			rec := &store.StepRun{Attempts: 1, StartedAt: now}
			r.previewStep(ctx, run, cs, env, rec, dryRun, b, &ps)
		}
		p.Steps = append(p.Steps, ps)
		out := map[string]any{"output": ps.Output, "status": ps.Status}
		if ps.Error != "" {
			out["error"] = ps.Error
		}
		steps[cs.ID] = out
		if ps.Status == store.StepFailed && !cs.ContinueOnError {
			p.Status = store.RunFailed
			return p
		}
	}
	return p
}

// localActions compute without calling a service, so a dry run still runs them.
var localActions = map[string]bool{"core.set": true, "core.respond": true}

func (r *Runner) previewStep(ctx context.Context, run *store.Run, cs *workflow.CompiledStep, env map[string]any, rec *store.StepRun, dryRun bool, b *budget, ps *PreviewStep) {
	if dryRun && !localActions[cs.Uses] {
		var (
			input any
			err   error
		)
		if cs.ForEach != nil {
			input, err = r.renderEach(ctx, cs, env, b)
		} else {
			input, err = cs.With.Render(ctx, env)
		}
		ps.Input = input
		if err != nil {
			ps.Status, ps.Error = store.StepFailed, "render inputs: "+err.Error()
			return
		}
		ps.Status = PreviewWouldCall
		if cs.Uses == "core.delay" {
			ps.Status = store.StepWaiting
		}
		return
	}
	var (
		input, output any
		err           error
	)
	if cs.ForEach == nil {
		input, output, err = r.call(ctx, run, cs, env, cs.ID, rec, r.log)
	} else {
		input, output, err = r.forEach(ctx, run, cs, env, rec, b, r.log)
	}
	ps.Input, ps.Output = input, output
	if until, ok := connectors.WaitTime(err); ok {
		ps.Status, ps.Error = store.StepWaiting, "would wait until "+until.UTC().Format(time.RFC3339)
		return
	}
	if err != nil {
		ps.Status, ps.Error = store.StepFailed, err.Error()
		return
	}
	ps.Status = store.StepSucceeded
}

// renderEach renders a for_each step's inputs for every element.
func (r *Runner) renderEach(ctx context.Context, cs *workflow.CompiledStep, env map[string]any, b *budget) (any, error) {
	listV, err := cs.ForEach.Eval(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("evaluate for_each: %w", err)
	}
	list, ok := listV.([]any)
	if !ok && listV != nil {
		return nil, fmt.Errorf("for_each gave %s, expected a list", strings.ToLower(connectors.JSONTypeOf(listV)))
	}
	if err := b.checkItems(len(list)); err != nil {
		return nil, err
	}
	inputs := make([]any, 0, len(list))
	for i, item := range list {
		itemEnv := make(map[string]any, len(env)+2)
		for k, v := range env {
			itemEnv[k] = v
		}
		itemEnv["item"], itemEnv["index"] = item, int64(i)
		in, err := cs.With.Render(ctx, itemEnv)
		if err != nil {
			return inputs, fmt.Errorf("item %d: %w", i, err)
		}
		inputs = append(inputs, in)
	}
	return inputs, nil
}
