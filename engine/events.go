package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/hookflow/hookflow/engine/runner"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trigger"
	"github.com/hookflow/hookflow/engine/trigger/body"
	"github.com/hookflow/hookflow/engine/workflow"
)

// Event is a webhook request as the inspector shows it: credentials and signatures
// masked, the body cut past InspectorBodyLimit for requests that started no run.
type Event struct {
	ID          string            `json:"id"`
	ReceivedAt  time.Time         `json:"received_at"`
	Method      string            `json:"method"`
	Headers     map[string]string `json:"headers"`
	Query       string            `json:"query,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
	// Body is the text of the body; BodyBase64 holds it instead when it is not UTF-8.
	Body       string `json:"body,omitempty"`
	BodyBase64 string `json:"body_base64,omitempty"`
	BodySize   int64  `json:"body_size"`
	Truncated  bool   `json:"truncated,omitempty"`
	// Verdict is accepted, rejected, duplicate, rate_limited, too_large or check (a sender checking the URL); Reason says why
	// a request was refused.
	Verdict string `json:"verdict"`
	Reason  string `json:"reason,omitempty"`
	// RunID is the run the request started.
	RunID string `json:"run_id,omitempty"`
}

// ListEvents returns a page of a workflow's webhook requests, newest first.
func (e *Engine) ListEvents(ctx context.Context, workflowID, cursor string, limit int) (*Page[Event], error) {
	if _, err := e.store.GetWorkflow(ctx, workflowID); err != nil {
		return nil, translate(err)
	}
	limit = clampLimit(limit)
	rows, err := e.store.ListEvents(ctx, workflowID, cursor, limit+1)
	if err != nil {
		return nil, err
	}
	page := &Page[Event]{Items: make([]Event, 0, len(rows))}
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextCursor = rows[limit-1].ID
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	runs, err := e.store.FirstRuns(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		ev := eventDTO(&rows[i])
		ev.RunID = runs[ev.ID]
		page.Items = append(page.Items, ev)
	}
	return page, nil
}

func eventDTO(r *store.Event) Event {
	headers, _ := trigger.DecodeHeaders(r.Headers)
	ev := Event{ID: r.ID, ReceivedAt: r.ReceivedAt.UTC(), Method: r.Method, Headers: headers, Query: r.Query,
		ContentType: r.ContentType, BodySize: r.BodySize, Truncated: int64(len(r.Body)) < r.BodySize,
		Verdict: r.Verdict, Reason: r.Reason}
	if utf8.Valid(r.Body) {
		ev.Body = string(r.Body)
	} else {
		ev.BodyBase64 = base64.StdEncoding.EncodeToString(r.Body)
	}
	return ev
}

// RotateHookToken gives a workflow a new webhook token: the old URL answers 404 at once.
func (e *Engine) RotateHookToken(ctx context.Context, id string) (*Workflow, error) {
	if err := allow(ctx, RoleEditor, "rotate webhook URLs"); err != nil {
		return nil, err
	}
	token, err := newHookToken()
	if err != nil {
		return nil, err
	}
	if err := e.store.SetHookToken(ctx, id, token); err != nil {
		return nil, translate(err)
	}
	e.hooks.reset()
	e.log.Info("Webhook token rotated", slog.String("workflow_id", id))
	e.audit(ctx, AuditWorkflowRotateToken, AuditKindWorkflow, id, "", map[string]any{"hook_token": "rotated"})
	return e.GetWorkflow(ctx, id)
}

// TestEvent is a sample webhook request for a test run.
type TestEvent struct {
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
	Query   string            `json:"query"`
	// Body is the request body: JSON, or with a non-JSON content_type a string sent as is.
	Body        json.RawMessage `json:"body"`
	ContentType string          `json:"content_type"`
}

// TestInput asks for a test run: on Event, or on the workflow's last captured event.
type TestInput struct {
	Event  *TestEvent `json:"event"`
	DryRun bool       `json:"dry_run"`
}

// TestResult is a test run's outcome.
type TestResult struct {
	// EventID is the captured event the test ran on, when no event was given.
	EventID string `json:"event_id,omitempty"`
	*runner.Preview
}

// ErrNoEvent is returned by TestWorkflow when no event is given and none was captured.
var ErrNoEvent = errors.New("no captured event to test with")

// TestWorkflow runs a workflow's current version in memory on a sample event, storing
// nothing. With DryRun no connector is called (the UI's test button).
func (e *Engine) TestWorkflow(ctx context.Context, id string, in TestInput) (*TestResult, error) {
	if err := allow(ctx, RoleEditor, "test-run workflows"); err != nil {
		return nil, err
	}
	w, err := e.store.GetWorkflow(ctx, id)
	if err != nil {
		return nil, translate(err)
	}
	wf, err := e.versions.get(ctx, w.ID, w.Version)
	if err != nil {
		return nil, err
	}
	res := &TestResult{}
	var trig map[string]any
	if in.Event == nil {
		ev, err := e.store.LatestAcceptedEvent(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: %w for workflow %s; send one to its webhook or give one", ErrConflict, ErrNoEvent, id)
		}
		if err != nil {
			return nil, err
		}
		res.EventID = ev.ID
		if trig, err = trigger.EventEnv(ev, trigger.PresetOf(wf.Def)); err != nil {
			return nil, err
		}
	} else {
		wh, err := testWebhook(in.Event, e.cfg.Now())
		if err != nil {
			return nil, err
		}
		wh.Preset = trigger.PresetOf(wf.Def)
		trig = wh.Env()
	}
	runID := "test-" + uuid.NewString()
	res.Preview = e.runner.Preview(ctx, wf, trig, w.ID, w.Version, runID, in.DryRun)
	return res, nil
}

func testWebhook(te *TestEvent, now time.Time) (trigger.Webhook, error) {
	header := http.Header{}
	for k, v := range te.Headers {
		header.Set(k, v)
	}
	wh := trigger.Webhook{EventID: "test", Method: te.Method, Query: te.Query, ReceivedAt: now,
		Headers: trigger.FlattenHeaders(header)}
	if wh.Method == "" {
		wh.Method = http.MethodPost
	}
	wh.ContentType = te.ContentType
	switch {
	case len(te.Body) == 0:
	case te.ContentType == "" || body.Decode(te.ContentType, te.Body, body.Options{}).Format == body.FormatJSON:
		if wh.ContentType == "" {
			wh.ContentType = "application/json"
		}
		wh.Body = te.Body
	default:
		var s string
		if err := json.Unmarshal(te.Body, &s); err != nil {
			return wh, &workflow.ValidationError{Errors: []workflow.FieldError{{Path: "event.body",
				Message: "with a content_type other than JSON, body must be a string"}}}
		}
		wh.Body = []byte(s)
	}
	if _, ok := wh.Headers["content-type"]; !ok && wh.ContentType != "" {
		wh.Headers["content-type"] = wh.ContentType
	}
	return wh, nil
}
