package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/runner"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trigger"
	"github.com/hookflow/hookflow/engine/workflow"
)

// TestSample is the trigger the builder tests on: a stored request of the workflow
// (EventID), else a pasted JSON body sent as a POST request (JSON).
type TestSample struct {
	EventID string
	JSON    []byte
}

// StepTest is the outcome of testing one step of an unsaved workflow.
type StepTest struct {
	runner.PreviewStep
	DryRun   bool          `json:"dry_run"`
	Duration time.Duration `json:"duration"`
	// Missing lists the earlier steps that had no output from an earlier test: they read
	// as an empty object (their fields nil); test them first for their real output.
	Missing []string `json:"missing,omitempty"`
}

// ErrNoSample is returned when a step test has neither an event nor a pasted JSON.
var ErrNoSample = errors.New("no sample: listen for a test event, pick a request or paste JSON")

// TestStep runs one step of def, a workflow document not yet saved (the builder's
// "test this step"), on a sample trigger, storing nothing: no run, no event. Earlier
// steps are not run: their outputs come from outputs (from earlier tests); one missing
// there reads as an empty object (its fields nil) and is listed in Missing. The workflow's filter is not
// evaluated, the step's if is. The step calls its connector as a run does (its
// connection, secrets, outbound policy), once, without retries; with dryRun it only
// renders its input. An invalid def is a *workflow.ValidationError naming its paths.
func (e *Engine) TestStep(ctx context.Context, workflowID string, def []byte, stepID string, sample TestSample,
	outputs map[string]json.RawMessage, dryRun bool) (*StepTest, error) {
	if err := allow(ctx, RoleEditor, "test workflow steps"); err != nil {
		return nil, err
	}
	w, err := e.store.GetWorkflow(ctx, workflowID)
	if err != nil {
		return nil, translate(err)
	}
	parsed, wf, err := workflow.Load(def, e.reg)
	if err != nil {
		return nil, err
	}
	if err := e.checkConnections(ctx, parsed); err != nil {
		return nil, err
	}
	if err := presetDedupe(wf); err != nil {
		return nil, err
	}
	trig, err := e.sampleEnv(ctx, workflowID, trigger.PresetOf(parsed), sample)
	if err != nil {
		return nil, err
	}
	earlier := map[string]any{}
	res := &StepTest{DryRun: dryRun}
	found := false
	for i, st := range parsed.Steps {
		if st.ID == stepID {
			found = true
			break
		}
		raw, ok := outputs[st.ID]
		if !ok {
			res.Missing = append(res.Missing, st.ID)
			continue
		}
		v, err := connectors.DecodeJSON(raw)
		if err != nil {
			return nil, &workflow.ValidationError{Errors: []workflow.FieldError{{Path: fmt.Sprintf("steps[%d].output", i),
				Message: "the output of an earlier test is not JSON: " + err.Error()}}}
		}
		earlier[st.ID] = v
	}
	if !found {
		return nil, &workflow.ValidationError{Errors: []workflow.FieldError{{Path: "steps",
			Message: fmt.Sprintf("there is no step %q", stepID)}}}
	}
	start := time.Now()
	ps, _ := e.runner.PreviewOne(ctx, wf, trig, w.ID, w.Version, "test-"+uuid.NewString(), stepID, earlier, dryRun)
	res.PreviewStep, res.Duration = ps, time.Since(start)
	return res, nil
}

// SampleTrigger is the trigger a sample gives, as a step's expressions see it under
// trigger (the builder's variable picker and request tree).
func (e *Engine) SampleTrigger(ctx context.Context, workflowID string, sample TestSample) (map[string]any, error) {
	if err := allow(ctx, RoleEditor, "test workflow steps"); err != nil {
		return nil, err
	}
	w, err := e.store.GetWorkflow(ctx, workflowID)
	if err != nil {
		return nil, translate(err)
	}
	wf, err := e.versions.get(ctx, w.ID, w.Version)
	if err != nil {
		return nil, err
	}
	return e.sampleEnv(ctx, workflowID, trigger.PresetOf(wf.Def), sample)
}

func (e *Engine) sampleEnv(ctx context.Context, workflowID, preset string, sample TestSample) (map[string]any, error) {
	if sample.EventID != "" {
		ev, err := e.store.GetEvent(ctx, sample.EventID)
		if err != nil {
			return nil, translate(err)
		}
		if ev.WorkflowID != workflowID {
			return nil, fmt.Errorf("%w: event %s of workflow %s", ErrNotFound, sample.EventID, workflowID)
		}
		return trigger.EventEnv(ev, preset)
	}
	if len(sample.JSON) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrConflict, ErrNoSample)
	}
	if !json.Valid(sample.JSON) {
		return nil, &workflow.ValidationError{Errors: []workflow.FieldError{{Path: "sample_json", Message: "is not valid JSON"}}}
	}
	wh, err := testWebhook(&TestEvent{Body: sample.JSON}, e.cfg.Now())
	if err != nil {
		return nil, err
	}
	wh.Preset = preset
	return wh.Env(), nil
}

// NextEvent returns the newest accepted request of a workflow received after the event
// afterEventID (any, when empty), or nil when there is none yet: the builder's "listen
// for a test event" polls it. Each call keeps a switched-off workflow's webhook open for
// ListenWindow, taking requests as test events (listen.go).
func (e *Engine) NextEvent(ctx context.Context, workflowID, afterEventID string) (*Event, error) {
	if _, err := e.store.GetWorkflow(ctx, workflowID); err != nil {
		return nil, translate(err)
	}
	e.listening.listen(workflowID, e.cfg.Now().Add(ListenWindow))
	ev, err := e.store.LatestAcceptedEvent(ctx, workflowID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if afterEventID != "" && ev.ID <= afterEventID {
		return nil, nil
	}
	dto := eventDTO(ev)
	return &dto, nil
}

// RecentEvents lists up to limit of a workflow's newest accepted requests (the
// builder's "use a request from the history").
func (e *Engine) RecentEvents(ctx context.Context, workflowID string, limit int) ([]Event, error) {
	page, err := e.ListEvents(ctx, workflowID, "", 100)
	if err != nil {
		return nil, err
	}
	out := []Event{}
	for _, ev := range page.Items {
		if ev.Verdict == store.VerdictAccepted && ev.ContentType != trigger.InternalContentType && len(out) < limit {
			out = append(out, ev)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}
