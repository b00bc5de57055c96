package declarative

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
	"github.com/hookflow/hookflow/engine/expr"
)

// Defaults of the error handling, exported so docs and callers can name them.
const (
	BackoffInitialDefault     = time.Second
	BackoffMaxDefault         = 60 * time.Second
	BackoffMaxAttemptsDefault = 5
	// MessageBytes bounds the service's error text kept in an error.
	MessageBytes = 300
)

// ResponseError is a response the file's error rules reject. Its text is
// "<METHOD> <redacted URL>: <status> <text>: <message>", the message coming from the
// file's message expression, or else the start of the body; secrets are redacted.
type ResponseError struct {
	Method string
	URL    string
	Status int
	// Message is the service's own error text, redacted.
	Message string
	// Snippet is the start of the body, redacted.
	Snippet string
}

func (e *ResponseError) Error() string {
	status := strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		status += " " + t
	}
	msg := e.Message
	if msg == "" {
		msg = e.Snippet
	}
	if msg == "" {
		return fmt.Sprintf("%s %s: %s", e.Method, e.URL, status)
	}
	return fmt.Sprintf("%s %s: %s: %s", e.Method, e.URL, status, msg)
}

// Unwrap gives the shared client's StatusError, so code that inspects Go connectors'
// HTTP errors reads declarative ones the same way.
func (e *ResponseError) Unwrap() error {
	return &httpclient.StatusError{Status: e.Status, Body: e.Snippet, Method: e.Method, URL: e.URL}
}

// errorPolicy is Errors resolved: defaults filled, expressions compiled.
type errorPolicy struct {
	retryOn     []int // nil: 408, 429, 500–599
	failOn      []int
	refreshOn   []int // oauth2 kinds only
	waitFrom    []WaitHeader
	backoff     backoff
	message     *expression
	successWhen *expression
	retryWhen   *expression
}

type backoff struct {
	initial, max time.Duration
	maxAttempts  int
}

// delay is the wait after the given failed attempt (1 for the first).
func (b backoff) delay(attempt int) time.Duration {
	d := b.initial
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// resolveErrors merges an action's or trigger's overrides into the connector's defaults:
// a list that is set replaces the default's.
func resolveErrors(where string, defaults Errors, override *Errors, oauth bool) (*errorPolicy, error) {
	e := defaults
	if o := override; o != nil {
		if o.RetryOn != nil {
			e.RetryOn = o.RetryOn
		}
		if o.FailOn != nil {
			e.FailOn = o.FailOn
		}
		if o.RefreshAuthOn != nil {
			e.RefreshAuthOn = o.RefreshAuthOn
		}
		if o.WaitFrom != nil {
			e.WaitFrom = o.WaitFrom
		}
		if o.Backoff != (Backoff{}) {
			e.Backoff = o.Backoff
		}
		if o.Message != "" {
			e.Message = o.Message
		}
		if o.SuccessWhen != "" {
			e.SuccessWhen = o.SuccessWhen
		}
		if o.RetryWhen != "" {
			e.RetryWhen = o.RetryWhen
		}
	}
	p := &errorPolicy{
		retryOn:  e.RetryOn,
		failOn:   e.FailOn,
		waitFrom: e.WaitFrom,
		backoff: backoff{initial: time.Duration(e.Backoff.Initial), max: time.Duration(e.Backoff.Max),
			maxAttempts: e.Backoff.MaxAttempts},
	}
	if len(p.waitFrom) == 0 {
		p.waitFrom = []WaitHeader{{Header: "Retry-After", Unit: "s"}}
	}
	if p.backoff.initial <= 0 {
		p.backoff.initial = BackoffInitialDefault
	}
	if p.backoff.max <= 0 {
		p.backoff.max = BackoffMaxDefault
	}
	if p.backoff.maxAttempts <= 0 {
		p.backoff.maxAttempts = BackoffMaxAttemptsDefault
	}
	if oauth {
		p.refreshOn = e.RefreshAuthOn
		if p.refreshOn == nil {
			p.refreshOn = []int{http.StatusUnauthorized}
		}
	}
	var err error
	if p.message, err = compileExpr(where+".message", e.Message); err != nil {
		return nil, err
	}
	if p.successWhen, err = compileExpr(where+".success_when", e.SuccessWhen); err != nil {
		return nil, err
	}
	if p.retryWhen, err = compileExpr(where+".retry_when", e.RetryWhen); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *errorPolicy) retryable(status int) bool {
	if p.retryOn == nil {
		return httpclient.RetryableStatus(status)
	}
	return hasStatus(p.retryOn, status)
}

func (p *errorPolicy) refreshes(status int) bool { return hasStatus(p.refreshOn, status) }

func hasStatus(list []int, status int) bool {
	for _, s := range list {
		if s == status {
			return true
		}
	}
	return false
}

// classify applies the rules to a response: nil for success, else a *ResponseError,
// wrapped in connectors.Permanent, or in connectors.RetryAfter when the response says how
// long to wait. env is the response's template environment; redact masks the call's
// secrets.
func (p *errorPolicy) classify(ctx context.Context, resp *httpclient.Response, env map[string]any, now time.Time, redact func(string) string) error {
	ok := resp.Status >= 200 && resp.Status <= 299
	if ok && p.successWhen == nil {
		return nil
	}
	if ok {
		v, err := p.successWhen.eval(ctx, env)
		if err != nil {
			return connectors.Permanent(fmt.Errorf("%s %s: check success_when: %w", resp.Method, resp.URL, err))
		}
		if b, _ := v.(bool); b {
			return nil
		}
	}
	rerr := &ResponseError{
		Method:  resp.Method,
		URL:     resp.URL,
		Status:  resp.Status,
		Snippet: redact(httpclient.Snippet(resp.Body, httpclient.SnippetBytes)),
		Message: p.messageOf(ctx, env, redact),
	}
	switch {
	case ok, hasStatus(p.failOn, resp.Status):
		return connectors.Permanent(rerr)
	case !p.retryable(resp.Status) && !p.retryWhenHolds(ctx, env):
		return connectors.Permanent(rerr)
	}
	if d, found := p.wait(resp.Header, resp.Status, now); found {
		return connectors.RetryAfter(rerr, d)
	}
	return rerr
}

// retryWhenHolds evaluates retry_when; one that cannot be evaluated does not hold, so the
// response keeps the verdict of the status lists.
func (p *errorPolicy) retryWhenHolds(ctx context.Context, env map[string]any) bool {
	if p.retryWhen == nil {
		return false
	}
	v, err := p.retryWhen.eval(ctx, env)
	b, _ := v.(bool)
	return err == nil && b
}

// messageOf evaluates the message expression; a message that cannot be read is left out
// rather than hiding the status behind an evaluation error.
func (p *errorPolicy) messageOf(ctx context.Context, env map[string]any, redact func(string) string) string {
	if p.message == nil {
		return ""
	}
	v, err := p.message.eval(ctx, env)
	if err != nil || v == nil {
		return ""
	}
	s, err := expr.Text(v)
	if err != nil {
		return ""
	}
	return redact(httpclient.Snippet([]byte(s), MessageBytes))
}

// waitStatusesDefault are the statuses a wait header is read on unless it lists its own:
// those that mean "come back later".
var waitStatusesDefault = []int{http.StatusTooManyRequests, http.StatusServiceUnavailable}

// wait reads the first wait header present that applies to status, in the file's order.
func (p *errorPolicy) wait(h http.Header, status int, now time.Time) (time.Duration, bool) {
	for _, w := range p.waitFrom {
		statuses := w.Statuses
		if len(statuses) == 0 {
			statuses = waitStatusesDefault
		}
		if !hasStatus(statuses, status) {
			continue
		}
		v := strings.TrimSpace(h.Get(w.Header))
		if v == "" {
			continue
		}
		if d, ok := parseWait(v, w.Unit, now); ok {
			return d, true
		}
	}
	return 0, false
}

// parseWait reads one wait header value in its unit: s (seconds, or an HTTP date), ms,
// or epoch (the Unix time in seconds at which to retry). The wait is capped at
// httpclient.RetryAfterMax.
func parseWait(v, unit string, now time.Time) (time.Duration, bool) {
	var d time.Duration
	switch unit {
	case "", "s":
		if got, ok := httpclient.ParseRetryAfter(v, now); ok {
			return got, true
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return 0, false
		}
		d = seconds(f)
	case "ms":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return 0, false
		}
		d = seconds(f / 1000)
	case "epoch":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return 0, false
		}
		if f > math.MaxInt32*4 { // far beyond any real reset time: the cap applies
			return httpclient.RetryAfterMax, true
		}
		sec, frac := math.Modf(f)
		d = max(time.Unix(int64(sec), int64(frac*1e9)).Sub(now), 0)
	default:
		return 0, false
	}
	return min(d, httpclient.RetryAfterMax), true
}

// seconds converts without overflowing on absurd values.
func seconds(f float64) time.Duration {
	if f >= float64(httpclient.RetryAfterMax/time.Second)*2 {
		return 2 * httpclient.RetryAfterMax
	}
	return time.Duration(f * float64(time.Second))
}
