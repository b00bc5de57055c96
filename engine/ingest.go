package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/hookflow/hookflow/connectors"
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

// IngestResult identifies what a webhook request created, or for a repeated delivery
// what the first delivery created.
type IngestResult struct {
	WorkflowID string `json:"-"`
	EventID    string `json:"event_id"`
	RunID      string `json:"run_id"`
	// Duplicate says the delivery id was seen before: nothing new was stored or started.
	Duplicate bool `json:"duplicate,omitempty"`
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
		return nil, &MethodError{Method: req.Method, Allowed: methods}
	}
	now := e.cfg.Now()
	headers := trigger.FlattenHeaders(req.Header)
	var dedupeKey *string
	if wh := wf.Def.Trigger.Webhook; wh != nil && wh.Dedupe != "" {
		key, err := e.dedupeKey(ctx, wf, req, headers, now)
		if err != nil {
			// A webhook is never lost for its shape: without a delivery id it is stored
			// and run like any other.
			e.log.Warn("Dedupe expression failed; storing the webhook without a delivery id",
				slog.String("workflow_id", w.ID), slog.Any("err", err))
		}
		dedupeKey = key
	}
	ev := &store.Event{
		ID:          newID(),
		WorkflowID:  w.ID,
		ReceivedAt:  now,
		Method:      req.Method,
		Headers:     trigger.EncodeHeaders(headers),
		Query:       req.RawQuery,
		ContentType: req.Header.Get("Content-Type"),
		Body:        req.Body,
		DedupeKey:   dedupeKey,
		Verdict:     "accepted",
	}
	maxDuration := e.cfg.RunMaxDuration
	if d := wf.Def.MaxDuration.Std(); d > 0 {
		maxDuration = d
	}
	deadline := now.Add(maxDuration)
	run := &store.Run{
		ID:         newID(),
		WorkflowID: w.ID,
		Version:    w.Version,
		EventID:    &ev.ID,
		Status:     store.RunQueued,
		RunAt:      now,
		CreatedAt:  now,
		UpdatedAt:  now,
		DeadlineAt: &deadline,
	}
	err = e.store.CreateEventAndRun(ctx, ev, run)
	if errors.Is(err, store.ErrDuplicate) {
		orig, runID, err := e.store.OriginalDelivery(ctx, w.ID, *dedupeKey)
		if err != nil {
			return nil, err
		}
		e.metrics.webhooks.WithLabelValues("duplicate").Inc()
		return &IngestResult{WorkflowID: w.ID, EventID: orig.ID, RunID: runID, Duplicate: true}, nil
	}
	if err != nil {
		return nil, err
	}
	e.metrics.webhooks.WithLabelValues("accepted").Inc()
	e.notifier.Notify()
	return &IngestResult{WorkflowID: w.ID, EventID: ev.ID, RunID: run.ID}, nil
}

// dedupeKey evaluates the webhook's dedupe expression on the request. An empty result
// means the request carries no delivery id and is not de-duplicated.
func (e *Engine) dedupeKey(ctx context.Context, wf *workflow.Compiled, req IngestRequest, headers map[string]string, now time.Time) (*string, error) {
	wh := trigger.Webhook{Method: req.Method, Headers: headers, Query: req.RawQuery,
		ContentType: req.Header.Get("Content-Type"), Body: req.Body, ReceivedAt: now}
	v, err := wf.Dedupe.Eval(ctx, map[string]any{"trigger": wh.Env()})
	if err != nil {
		return nil, fmt.Errorf("evaluate dedupe expression: %w", err)
	}
	var key string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		key = x
	case int64, int, float64, bool:
		key = fmt.Sprint(x)
	default:
		return nil, fmt.Errorf("dedupe expression gave %s, expected a string", connectors.JSONTypeOf(v))
	}
	if key == "" {
		return nil, nil
	}
	return &key, nil
}
