package runner

import (
	"context"
	"errors"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trace"
	"github.com/hookflow/hookflow/engine/trigger"
	"github.com/hookflow/hookflow/engine/workflow"
)

// callerContext is the span context of the request that started the run: the
// traceparent header kept with its event. A run executed later, or by another process,
// so continues the caller's trace.
func callerContext(ev *store.Event) trace.SpanContext {
	if ev == nil || ev.Headers == "" {
		return trace.SpanContext{}
	}
	h, err := trigger.DecodeHeaders(ev.Headers)
	if err != nil {
		return trace.SpanContext{}
	}
	sc, _ := trace.ParseTraceparent(h["traceparent"])
	return sc
}

// endRunSpan records the run's span once the run has ended. Its ids are derived from the
// run id (trace.RunContext), so the step spans of every claim of the run, recorded
// earlier and maybe by other processes, are its children.
func (r *Runner) endRunSpan(ctx context.Context, run *store.Run, out outcome, errText string) {
	if !r.cfg.Tracer.Enabled() {
		return
	}
	if run.Event == nil && run.EventID != nil {
		// The run ended before its event was read (cancelled, overdue): read it for the parent.
		if ev, err := r.cfg.Store.GetEvent(ctx, *run.EventID); err == nil {
			run.Event = ev
		}
	}
	caller := callerContext(run.Event)
	span := r.cfg.Tracer.StartWith(trace.RunContext(run.ID, caller), caller.SpanID, "run", trace.KindInternal)
	if !run.CreatedAt.IsZero() {
		span.StartedAgo(r.cfg.Now().Sub(run.CreatedAt))
	}
	span.SetString("hookflow.workflow.id", run.WorkflowID)
	span.SetInt("hookflow.workflow.version", int64(run.Version))
	span.SetString("hookflow.run.id", run.ID)
	span.SetString("hookflow.run.status", out.status)
	if out.status == store.RunFailed {
		span.End(errors.New(errText))
		return
	}
	span.EndOK()
}

// RunSpan records the span of a run that ended outside Execute: the watchdog failed it
// while it was queued or waiting. Like Execute's, its ids come from the run id, so it is
// the parent of the step spans the run's claims recorded.
func (r *Runner) RunSpan(ctx context.Context, run *store.Run, status, errText string) {
	r.endRunSpan(ctx, run, outcome{status: status}, errText)
}

// endStepSpan records one attempt of a step.
func endStepSpan(span *trace.Span, cs *workflow.CompiledStep, res stepResult) {
	if span == nil {
		return
	}
	span.SetString("hookflow.step.id", cs.ID)
	span.SetString("hookflow.step.uses", cs.Uses)
	if res.rec != nil {
		span.SetInt("hookflow.step.attempt", int64(res.rec.Attempts))
		span.SetString("hookflow.step.status", res.rec.Status)
	}
	switch {
	case res.err != nil:
		span.End(res.err)
	case res.retryErr != nil:
		span.End(res.retryErr)
	case res.rec != nil && res.rec.Status == store.StepFailed:
		span.End(errors.New(res.rec.Error))
	default:
		span.EndOK()
	}
}
