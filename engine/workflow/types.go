package workflow

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The struct tags below drive three things at once: JSON decoding, the shape check that
// reports every unknown or mistyped field by path (shape.go), and the generated JSON
// Schema (schema.go). `doc` is the field's description, `enum` its allowed values.

// Workflow is a workflow definition, the JSON document users write and version.
type Workflow struct {
	// Schema lets a file name its JSON Schema for editors; it is kept and otherwise ignored.
	Schema      string  `json:"$schema,omitempty" doc:"The JSON Schema of this file, for editors (workflows/workflow.schema.json)."`
	Name        string  `json:"name" doc:"Human-readable name." required:"true"`
	Description string  `json:"description,omitempty" doc:"Free text for people reading the workflow."`
	Enabled     *bool   `json:"enabled,omitempty" doc:"Whether triggers start runs. Default true."`
	Trigger     Trigger `json:"trigger" doc:"What starts a run." required:"true"`
	Filter      string  `json:"filter,omitempty" doc:"An expression; when false the run ends as filtered." format:"expression"`
	Steps       []Step  `json:"steps" doc:"The actions, run in order." required:"true"`
	// Concurrency caps the runs of this workflow executing at once; 1 runs them one at a
	// time in the order their events arrived (to respect a CRM's limits, say).
	Concurrency int      `json:"concurrency,omitempty" doc:"Most runs of this workflow executing at once; 1 runs them one at a time, in arrival order. Default 0: no cap."`
	MaxDuration Duration `json:"max_duration,omitempty" doc:"Longest a run may take from its event to its end, waits and retries included; past it the run fails. Default 24h."`
	// Limits bound the data of each run; see limits.go.
	Limits *Limits `json:"limits,omitempty" doc:"Bounds on each run's data: step_data, run_data, for_each_items, expression_memory. Fields left out take the server's defaults."`
	// OnFailure names the workflow that is told when a run fails for good or a poll keeps
	// failing, so alerts can go to Telegram or email like any other run.
	OnFailure string `json:"on_failure,omitempty" doc:"Id of a workflow to run when a run of this one fails for good, or its poll fails alert_after times in a row; that run's trigger describes the failure."`
	// Retention overrides the server's bounds on this workflow's history.
	Retention *Retention `json:"retention,omitempty" doc:"How long this workflow's finished runs, their steps and events are kept. Default: the server's settings (30 days, 10000 runs)."`
}

// IsEnabled reports whether triggers start runs (true unless "enabled" is false).
func (w *Workflow) IsEnabled() bool { return w.Enabled == nil || *w.Enabled }

// Trigger types.
const (
	TriggerWebhook  = "webhook"
	TriggerSchedule = "schedule"
	TriggerPoll     = "poll"
	TriggerManual   = "manual"
)

// Trigger says what starts a run. Type picks which of the other fields applies.
type Trigger struct {
	Type     string           `json:"type" enum:"webhook,schedule,poll,manual" doc:"The kind of trigger." required:"true"`
	Webhook  *WebhookTrigger  `json:"webhook,omitempty" doc:"Settings of a webhook trigger."`
	Schedule *ScheduleTrigger `json:"schedule,omitempty" doc:"Settings of a schedule trigger."`
	Poll     *PollTrigger     `json:"poll,omitempty" doc:"Settings of a poll trigger."`
}

// WebhookTrigger configures the workflow's webhook URL, POST /hooks/{token}.
type WebhookTrigger struct {
	Methods  []string         `json:"methods,omitempty" enum:"GET,POST,PUT,PATCH,DELETE" doc:"Accepted HTTP methods. Default POST."`
	Auth     *WebhookAuth     `json:"auth,omitempty" doc:"How requests are authenticated. Default none."`
	Dedupe   string           `json:"dedupe,omitempty" doc:"An expression giving a delivery id; a repeated id starts nothing. Presets whose sender stamps a delivery id (github, standard-webhooks, shopify, telegram, tilda) de-duplicate by it by default." format:"expression"`
	Response *WebhookResponse `json:"response,omitempty" doc:"What the webhook answers."`
	// MaxBodyBytes overrides the server's body size limit for this webhook.
	MaxBodyBytes int64 `json:"max_body_bytes,omitempty" doc:"Largest body accepted, in bytes; larger gets 413. Default 1048576 (1 MiB)."`
	// RateLimit and RateBurst throttle this webhook; beyond them requests get 429.
	RateLimit float64 `json:"rate_limit,omitempty" doc:"Most requests per second this webhook accepts; beyond, 429 with Retry-After. Default 0: no limit."`
	RateBurst int     `json:"rate_burst,omitempty" doc:"Requests accepted back to back before rate_limit applies. Default: rate_limit rounded up."`
}

// WebhookAuth configures request verification.
type WebhookAuth struct {
	Type       string   `json:"type" enum:"none,token,basic,hmac,github,stripe,slack,shopify,standard-webhooks,telegram,hubspot-v3,meta,twilio,tilda,bitrix24" doc:"The scheme." required:"true"`
	Connection string   `json:"connection,omitempty" doc:"The webhook connection holding the secret. Optional for tilda: without one no API key is checked."`
	Header     string   `json:"header,omitempty" doc:"The header carrying the token or signature; for tilda, the API key's header (Tilda's Header name)."`
	Query      string   `json:"query,omitempty" doc:"The query parameter carrying the token."`
	Field      string   `json:"field,omitempty" doc:"For tilda: the form field carrying the API key (Tilda's Field name)."`
	Algorithm  string   `json:"algorithm,omitempty" enum:"sha1,sha256,sha512" doc:"HMAC hash."`
	Encoding   string   `json:"encoding,omitempty" enum:"hex,base64" doc:"HMAC signature encoding."`
	Prefix     string   `json:"prefix,omitempty" doc:"Text before the signature, such as sha256=."`
	Tolerance  Duration `json:"tolerance,omitempty" doc:"Accepted timestamp age for schemes that sign one. Default 5m."`
}

// WebhookResponse configures the webhook's answer.
type WebhookResponse struct {
	Mode    string            `json:"mode,omitempty" enum:"accepted,custom,result" doc:"accepted (202 with ids), custom, or result (wait for the run)."`
	Status  int               `json:"status,omitempty" doc:"HTTP status of a custom answer."`
	Headers map[string]string `json:"headers,omitempty" doc:"Headers of a custom answer."`
	Body    string            `json:"body,omitempty" doc:"Body of a custom answer; may be a template." format:"template"`
	Timeout Duration          `json:"timeout,omitempty" doc:"How long result mode waits for core.respond; past it, 202 with the run's ids. Default 10s, at most 60s."`
	// AllowHTML lets the answer carry a type browsers render as a page (HTML, XHTML,
	// SVG, XML) on the server's origin; without it such a type is refused when saved
	// (custom) or replaced with text/plain when answered (result).
	AllowHTML bool `json:"allow_html,omitempty" doc:"Allow a Content-Type that browsers render as a page (text/html, XHTML, SVG, XML); the answer still gets a sandboxing Content-Security-Policy. Default false."`
}

// ScheduleTrigger starts runs on a cron schedule.
type ScheduleTrigger struct {
	Cron     string `json:"cron" doc:"Five-field cron expression (minute hour day-of-month month day-of-week) or a descriptor: @hourly, @daily, @weekly, @monthly, @yearly, @every 5m." required:"true"`
	Timezone string `json:"timezone,omitempty" doc:"IANA time zone the cron fields are read in, such as Europe/Moscow. Default UTC."`
	CatchUp  string `json:"catch_up,omitempty" enum:"none,latest,all" doc:"Ticks missed while no process ran: none (skip them), latest (one run for the newest; the default) or all (one run each, at most 100)."`
}

// PollTrigger starts one run per new item found by polling.
type PollTrigger struct {
	Uses       string         `json:"uses" doc:"The poller, as connector.name." required:"true"`
	Connection string         `json:"connection,omitempty" doc:"The connection the poller uses."`
	Cron       string         `json:"cron" doc:"When to poll: a cron expression or a descriptor such as @every 1m (down to @every 1s)." required:"true"`
	Timezone   string         `json:"timezone,omitempty" doc:"IANA time zone the cron fields are read in. Default UTC."`
	With       map[string]any `json:"with,omitempty" doc:"The poller's inputs; strings may hold {{ }} templates, which see the saved cursor as cursor."`
	Key        string         `json:"key,omitempty" doc:"An expression over item giving its unique key; an item whose key was seen before starts nothing. Default: the poller's key (item.id for http.poll)." format:"expression"`
	Backfill   int            `json:"backfill,omitempty" doc:"Newest items the first poll starts runs for. Default 0: the first poll only records what exists."`
	AlertAfter int            `json:"alert_after,omitempty" doc:"Consecutive failed polls after which on_failure runs (once per failure streak). Default 5."`
}

// Step is one action of a workflow.
type Step struct {
	ID              string         `json:"id" doc:"Unique step id; later steps read steps.<id>.output." required:"true"`
	Name            string         `json:"name,omitempty" doc:"Human-readable name."`
	Uses            string         `json:"uses" doc:"The action, as connector.action." required:"true"`
	Connection      string         `json:"connection,omitempty" doc:"The connection the action uses."`
	If              string         `json:"if,omitempty" doc:"An expression; when false the step is skipped." format:"expression"`
	ForEach         string         `json:"for_each,omitempty" doc:"An expression giving a list; the step runs once per element (item, index)." format:"expression"`
	With            map[string]any `json:"with,omitempty" doc:"The action's inputs; strings may hold {{ }} templates."`
	Retry           *Retry         `json:"retry,omitempty" doc:"Retry policy for retryable errors."`
	Timeout         Duration       `json:"timeout,omitempty" doc:"Time limit of one attempt."`
	ContinueOnError bool           `json:"continue_on_error,omitempty" doc:"Go on with the next step when this one fails."`
}

// Retry is a step's retry policy.
type Retry struct {
	MaxAttempts int      `json:"max_attempts,omitempty" doc:"Attempts in all, the first included. Default 5."`
	Initial     Duration `json:"initial,omitempty" doc:"First backoff. Default 1s."`
	Max         Duration `json:"max,omitempty" doc:"Longest backoff. Default 10m."`
	Multiplier  float64  `json:"multiplier,omitempty" doc:"Backoff growth per attempt. Default 2."`
	Jitter      float64  `json:"jitter,omitempty" doc:"Random spread of each backoff, 0 to 1. Default 0.2."`
}

// Retention bounds how much of a workflow's history is kept: finished runs older than
// MaxAge, and those beyond the newest MaxRuns, are pruned with their steps and events.
type Retention struct {
	MaxAge  Duration `json:"max_age,omitempty" doc:"Finished runs are deleted this long after they ended, such as \"7d\" or \"12h\". Default: the server's HOOKFLOW_RETENTION_MAX_AGE (30d)."`
	MaxRuns int      `json:"max_runs,omitempty" doc:"Finished runs beyond the newest max_runs runs are deleted. Default: the server's HOOKFLOW_RETENTION_MAX_RUNS (10000)."`
}

// Duration is a time span written as a Go duration string such as "2s" or "1h30m", or
// with a leading number of days: "7d", "1d12h".
type Duration time.Duration

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"10s\": %w", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// ParseDuration reads a Go duration string, which may start with a whole number of days
// ("30d", "1d12h"): retention periods are counted in days, and Go durations stop at
// hours.
func ParseDuration(s string) (time.Duration, error) {
	days, rest, found := strings.Cut(s, "d")
	if !found || days == "" || strings.Trim(days, "0123456789") != "" {
		return time.ParseDuration(s)
	}
	n, err := strconv.Atoi(days)
	if err != nil || n > maxDays {
		return 0, fmt.Errorf("time: invalid duration %q", s)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest == "" {
		return d, nil
	}
	r, err := time.ParseDuration(rest)
	if err != nil || r < 0 {
		return 0, fmt.Errorf("time: invalid duration %q", s)
	}
	return d + r, nil
}

// maxDays keeps a number of days within time.Duration (about 292 years).
const maxDays = 100_000
