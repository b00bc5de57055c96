package engine

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trigger"
	"github.com/hookflow/hookflow/engine/workflow"
)

// IngestRequest is a webhook request as received.
type IngestRequest struct {
	Method   string
	Header   http.Header
	RawQuery string
	Body     []byte
}

// IngestResult identifies what a webhook request created.
type IngestResult struct {
	WorkflowID string `json:"-"`
	EventID    string `json:"event_id"`
	RunID      string `json:"run_id"`
}

// Ingest stores a webhook request for the workflow whose token it names, with its queued
// run, in one transaction, and wakes a worker. When Ingest returns without error both are
// durable, so the caller may acknowledge. An unknown token, a disabled workflow or one
// without a webhook trigger is ErrNotFound; a method the webhook does not accept is
// ErrMethodNotAllowed.
func (e *Engine) Ingest(ctx context.Context, token string, req IngestRequest) (*IngestResult, error) {
	w, err := e.store.WorkflowByHookToken(ctx, token)
	if err != nil {
		return nil, translate(err)
	}
	if !w.Enabled || w.TriggerType != workflow.TriggerWebhook {
		return nil, fmt.Errorf("%w: workflow %s does not take webhooks now", ErrNotFound, w.ID)
	}
	wf, err := e.versions.get(ctx, w.ID, w.Version)
	if err != nil {
		return nil, fmt.Errorf("load workflow %s for webhook: %w", w.ID, err)
	}
	methods := workflow.DefaultMethods
	if wh := wf.Def.Trigger.Webhook; wh != nil && len(wh.Methods) > 0 {
		methods = wh.Methods
	}
	if !slices.Contains(methods, req.Method) {
		return nil, fmt.Errorf("%w: %s (accepted: %v)", ErrMethodNotAllowed, req.Method, methods)
	}
	now := e.cfg.Now()
	ev := &store.Event{
		ID:          newID(),
		WorkflowID:  w.ID,
		ReceivedAt:  now,
		Method:      req.Method,
		Headers:     trigger.EncodeHeaders(trigger.FlattenHeaders(req.Header)),
		Query:       req.RawQuery,
		ContentType: req.Header.Get("Content-Type"),
		Body:        req.Body,
		Verdict:     "accepted",
	}
	run := &store.Run{
		ID:         newID(),
		WorkflowID: w.ID,
		Version:    w.Version,
		EventID:    &ev.ID,
		Status:     store.RunQueued,
		RunAt:      now,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if err := e.store.CreateEventAndRun(ctx, ev, run); err != nil {
		return nil, err
	}
	e.notifier.Notify()
	return &IngestResult{WorkflowID: w.ID, EventID: ev.ID, RunID: run.ID}, nil
}
