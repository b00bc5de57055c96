package engine

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// coreConnector holds the built-in actions that need no service. It is added to every
// engine's registry rather than registered globally, because core actions may need the
// engine's state (core.delay reads its clock).
func coreConnector(now func() time.Time) *connectors.Connector {
	return &connectors.Connector{
		Name:        "core",
		Title:       "Core",
		Description: "Built-in actions that need no outside service.",
		Actions: []*connectors.ActionDef{
			coreSetAction,
			coreRespondAction,
			{
				ActionSpec: coreDelaySpec,
				New:        func() connectors.Action { return &coreDelay{now: now} },
			},
		},
	}
}

var coreSetAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "set",
		Title: "Set values",
		Description: "Computes values for later steps: every input, templates rendered, becomes " +
			"the step's output (steps.<id>.output.<name>).",
		FreeInputs: true,
	},
	New: func() connectors.Action { return coreSet{} },
}

type coreSet struct{}

var _ connectors.Action = coreSet{}

// Run returns the rendered inputs as the output.
func (coreSet) Run(_ context.Context, call *connectors.Call) (any, error) {
	return call.Input, nil
}

var coreRespondAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "respond",
		Title: "Respond to the webhook",
		Description: "Sets the webhook's answer when its response mode is result: the request that started " +
			"the run waits (up to response.timeout) and gets this status, these headers and this body. " +
			"The run goes on with its next steps. In other modes the step only records the answer.",
		Inputs: []connectors.Field{
			{Name: "status", Type: connectors.TypeInteger, Default: int64(200), Description: "HTTP status, 200 to 599."},
			{Name: "headers", Type: connectors.TypeObject, Description: "Response headers, name to value."},
			{Name: "body", Type: connectors.TypeAny, Description: "The body: an object or list is sent as JSON, a string as text."},
		},
		Outputs: []connectors.Field{
			{Name: "status", Type: connectors.TypeInteger},
			{Name: "headers", Type: connectors.TypeObject},
			{Name: "body", Type: connectors.TypeAny},
		},
	},
	New: func() connectors.Action { return coreRespond{} },
}

type coreRespond struct{}

var (
	_ connectors.Action    = coreRespond{}
	_ connectors.Validator = coreRespond{}
)

// Validate checks the status and the headers.
func (coreRespond) Validate(input map[string]any) error {
	_, err := respondAnswer(input)
	return err
}

// Run returns the answer as the step's output, where the waiting request reads it.
func (coreRespond) Run(_ context.Context, call *connectors.Call) (any, error) {
	a, err := respondAnswer(call.Input)
	if err != nil {
		return nil, connectors.Permanent(err)
	}
	return map[string]any{"status": int64(a.Status), "headers": a.Headers, "body": a.Body}, nil
}

// Answer is an HTTP answer set by core.respond or a custom response.
type Answer struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body,omitempty"`
	// AllowHTML is the webhook's allow_html: whether the answer may carry a type that
	// browsers render as a page. It comes from the workflow, never from a step's output.
	AllowHTML bool `json:"-"`
}

func respondAnswer(input map[string]any) (*Answer, error) {
	a := &Answer{Status: 200, Headers: map[string]string{}, Body: input["body"]}
	if v, ok := input["status"]; ok && v != nil {
		n, ok := v.(int64)
		if f, isFloat := v.(float64); isFloat && f == float64(int64(f)) {
			n, ok = int64(f), true
		}
		if !ok || n < 200 || n > 599 {
			return nil, fmt.Errorf("status must be a whole number from 200 to 599, got %v", v)
		}
		a.Status = int(n)
	}
	if v, ok := input["headers"]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("headers must be an object, got %s", connectors.JSONTypeOf(v))
		}
		for k, hv := range m {
			a.Headers[k] = fmt.Sprint(hv)
		}
	}
	return a, nil
}

const (
	delayFor   = "for"
	delayUntil = "until"
)

var coreDelaySpec = connectors.ActionSpec{
	Name:  "delay",
	Title: "Delay",
	Description: "Waits before the next step, from seconds to days. The run sleeps in the database " +
		"(status waiting), holding no worker, and survives restarts. Give either for or until. " +
		"A delay cannot outlast the workflow's max_duration.",
	Inputs: []connectors.Field{
		{Name: delayFor, Type: connectors.TypeString, Title: "For",
			Description: "How long to wait, as a Go duration counted from the step's start, such as \"90s\", \"15m\" or \"48h\".",
			Examples:    []any{"10m"}},
		{Name: delayUntil, Type: connectors.TypeString, Title: "Until",
			Description: "When to go on: an RFC 3339 time such as 2026-12-01T09:00:00+03:00, or unix seconds. A time in the past goes on at once.",
			Examples:    []any{"{{ trigger.body.remind_at }}"}},
	},
	Outputs: []connectors.Field{
		{Name: "waited_until", Type: connectors.TypeString, Description: "When the wait ended, RFC 3339 in UTC."},
	},
}

type coreDelay struct {
	now func() time.Time
}

var (
	_ connectors.Action    = (*coreDelay)(nil)
	_ connectors.Validator = (*coreDelay)(nil)
)

// Validate checks that exactly one of for and until is given and parses.
func (d *coreDelay) Validate(input map[string]any) error {
	_, err := delayTarget(input, time.Time{})
	return err
}

// Run asks the runner to come back at the target time, then returns once it has passed.
func (d *coreDelay) Run(_ context.Context, call *connectors.Call) (any, error) {
	target, err := delayTarget(call.Input, call.StartedAt)
	if err != nil {
		return nil, connectors.Permanent(err)
	}
	if d.now().Before(target) {
		return nil, connectors.WaitUntil(target)
	}
	return map[string]any{"waited_until": target.UTC().Format(time.RFC3339Nano)}, nil
}

// delayTarget works out when a delay that started at start ends.
func delayTarget(input map[string]any, start time.Time) (time.Time, error) {
	forV, hasFor := input[delayFor]
	untilV, hasUntil := input[delayUntil]
	switch {
	case hasFor == hasUntil:
		return time.Time{}, fmt.Errorf("give either %q or %q", delayFor, delayUntil)
	case hasFor:
		s, ok := forV.(string)
		if !ok {
			return time.Time{}, fmt.Errorf("%s must be a duration string such as \"10m\", got %s", delayFor, connectors.JSONTypeOf(forV))
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return time.Time{}, fmt.Errorf("%s %q is not a duration such as \"10m\" or \"48h\"", delayFor, s)
		}
		return start.Add(d), nil
	}
	switch v := untilV.(type) {
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, nil
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(n, 0), nil
		}
		return time.Time{}, fmt.Errorf("%s %q is neither an RFC 3339 time nor unix seconds", delayUntil, v)
	case int64:
		return time.Unix(v, 0), nil
	case float64:
		return time.Unix(int64(v), 0), nil
	}
	return time.Time{}, fmt.Errorf("%s must be a time, got %s", delayUntil, connectors.JSONTypeOf(untilV))
}
