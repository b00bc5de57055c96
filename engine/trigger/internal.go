package trigger

import (
	"encoding/json"
	"fmt"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trigger/body"
)

// InternalContentType marks the events that a schedule tick, a poll or a failure alert
// stored: their body is the run's trigger object as JSON, not a request.
const InternalContentType = "application/vnd.hookflow.trigger+json"

// Trigger types of internal events, as runs see them in trigger.type.
const (
	TypeSchedule = "schedule"
	TypePoll     = "poll"
	TypeFailure  = "failure"
)

// EncodeInternal encodes the trigger object of an internal event.
func EncodeInternal(obj map[string]any) ([]byte, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode %v trigger: %w", obj["type"], err)
	}
	return b, nil
}

// InternalEnv returns the "trigger" object of a run started by an internal event: the
// stored object, numbers decoded as webhook bodies' are, plus the event's id.
func InternalEnv(eventID string, data []byte) map[string]any {
	decoded := body.Decode("application/json", data, body.Options{})
	env, ok := decoded.Value.(map[string]any)
	if !ok {
		env = map[string]any{"body": decoded.Value}
	}
	env["event_id"] = eventID
	return env
}

// EventEnv returns the "trigger" object of a run started by a stored event: the request
// of a webhook, or the stored object of a tick, poll item or failure alert. preset is the
// workflow's verification preset (PresetOf), which may shape a webhook's body.
func EventEnv(ev *store.Event, preset string) (map[string]any, error) {
	if ev.ContentType == InternalContentType {
		return InternalEnv(ev.ID, ev.Body), nil
	}
	headers, err := decodeHeadersEnv(ev.Headers)
	if err != nil {
		return nil, err
	}
	wh := Webhook{EventID: ev.ID, Method: ev.Method, Query: ev.Query,
		ContentType: ev.ContentType, Body: ev.Body, ReceivedAt: ev.ReceivedAt, Preset: preset}
	return wh.env(headers), nil
}
