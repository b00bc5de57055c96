// Package trigger turns what starts a run into the run's "trigger" data: webhook requests
// today; schedules and pollers share the package as they arrive.
package trigger

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine/trigger/body"
	"github.com/hookflow/hookflow/engine/workflow"
)

// Webhook is a received webhook request as stored with its event.
type Webhook struct {
	EventID     string
	Method      string
	Headers     map[string]string // lower-case names; repeated headers joined with ", "
	Query       string            // raw query string
	ContentType string
	Body        []byte
	ReceivedAt  time.Time
	// Preset is the workflow's verification preset (PresetOf); tilda parses its payment
	// JSON and reads UTM fields from its cookies.
	Preset string
}

// FlattenHeaders lower-cases header names and joins repeated values, the form
// expressions see as trigger.headers.
func FlattenHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		out[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	return out
}

// EncodeHeaders stores flattened headers as a JSON object.
func EncodeHeaders(h map[string]string) string {
	b, err := json.Marshal(h)
	if err != nil {
		return "{}" // a map of strings always encodes; keep the signature simple
	}
	return string(b)
}

// decodeHeadersEnv reads headers stored by EncodeHeaders straight into the form of
// trigger.headers, without the map of strings DecodeHeaders returns and a copy of it:
// every run of a webhook does this.
func decodeHeadersEnv(s string) (map[string]any, error) {
	out := map[string]any{}
	if s == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("decode stored headers: %w", err)
	}
	for k, v := range out {
		if _, ok := v.(string); !ok {
			return nil, fmt.Errorf("decode stored headers: %s is %T, not a string", k, v)
		}
	}
	return out, nil
}

// DecodeHeaders reads headers stored by EncodeHeaders.
func DecodeHeaders(s string) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("decode stored headers: %w", err)
	}
	return out, nil
}

// QueryValues turns a raw query into the object expressions see as trigger.query: one
// value as a string, a repeated parameter as a list of strings.
func QueryValues(raw string) map[string]any {
	out := map[string]any{}
	vals, err := url.ParseQuery(raw)
	if err != nil && len(vals) == 0 {
		return out
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := vals[k]
		if len(vs) == 1 {
			out[k] = vs[0]
			continue
		}
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		out[k] = list
	}
	return out
}

// Env returns the "trigger" object of a webhook run's expression environment. The body
// is decoded by its content type (engine/trigger/body): JSON, nested forms, multipart
// fields, or text.
func (w *Webhook) Env() map[string]any {
	headers := make(map[string]any, len(w.Headers))
	for k, v := range w.Headers {
		headers[k] = v
	}
	return w.env(headers)
}

// env is Env with trigger.headers already built (w.Headers is not read).
func (w *Webhook) env(headers map[string]any) map[string]any {
	decoded := body.Decode(w.ContentType, w.Body, body.Options{})
	bodyValue, malformed := shapeBody(w.Preset, decoded.Value), decoded.Malformed
	env := map[string]any{
		"type":        workflow.TriggerWebhook,
		"event_id":    w.EventID,
		"method":      w.Method,
		"headers":     headers,
		"query":       QueryValues(w.Query),
		"body":        bodyValue,
		"received_at": w.ReceivedAt.UTC().Format(time.RFC3339Nano),
	}
	if malformed {
		env["body_malformed"] = true
	}
	return env
}
