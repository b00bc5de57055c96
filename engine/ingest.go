package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/expr"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trigger"
	"github.com/hookflow/hookflow/engine/trigger/signature"
	"github.com/hookflow/hookflow/engine/workflow"
)

// Webhook ingress defaults.
const (
	// WebhookBodyLimitDefault is the largest body a webhook accepts unless its workflow
	// sets max_body_bytes.
	WebhookBodyLimitDefault = 1 << 20
	// InspectorBodyLimit is how much of a body the inspector keeps for a request that
	// started no run (an accepted request's body is kept whole: its run reads it).
	InspectorBodyLimit = 64 << 10
	// InspectorKeepDefault is how many recent requests per workflow the inspector keeps
	// besides those that started runs.
	InspectorKeepDefault = 200
	// FilterAtIngressMaxBody is the largest body whose filter is evaluated at ingress.
	// Decoding a body takes several times its size in memory, and up to 1,024 requests
	// are taken at once: a larger body's run is queued, and its worker evaluates the
	// filter as for every run, bounded by the worker count.
	FilterAtIngressMaxBody = 64 << 10
	// recordRate and recordBurst bound how many refused requests per second and workflow
	// are recorded, so that a flood cannot turn recording into the bottleneck.
	recordRate  = 10
	recordBurst = 20
)

// IngestRequest is a webhook request as received.
type IngestRequest struct {
	Method   string
	Header   http.Header
	RawQuery string
	Body     []byte
	// URL is the public URL the request was sent to; the twilio and hubspot-v3 presets
	// sign it.
	URL string
}

// IngestResult says what a webhook request created and what to answer.
type IngestResult struct {
	WorkflowID string `json:"-"`
	EventID    string `json:"event_id"`
	RunID      string `json:"run_id"`
	// Duplicate says the delivery id was seen before: nothing new was stored or started,
	// and the ids are the first delivery's.
	Duplicate bool `json:"duplicate,omitempty"`
	// Answer, when set, is the answer the workflow asks for (custom mode, or result mode
	// once core.respond ran). Nil means the default: 202 with the ids.
	Answer *Answer `json:"-"`
	// Pending says result mode timed out: answer 202 with the ids and the run's URL.
	Pending bool `json:"-"`
	// Check says the request was the sender's check of the URL (Tilda's test=test): it
	// was recorded with the verdict check and started no run; RunID is empty.
	Check bool `json:"-"`
	// Test says the workflow is switched off and the builder was listening: the request
	// was stored as a test event (the builder's sample) and started no run; RunID is
	// empty.
	Test bool `json:"test,omitempty"`
}

// ErrRejected is wrapped by every *RejectError.
var ErrRejected = errors.New("webhook rejected")

// RejectError is a webhook request refused before it was stored as an accepted event.
// Message is safe to send to the sender; Reason is the precise cause, for the inspector
// and the log only.
type RejectError struct {
	Status     int
	Verdict    string
	Message    string
	Reason     string
	RetryAfter time.Duration
	Allow      []string
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("webhook rejected (%s): %s", e.Verdict, e.Reason)
}

// Is makes errors.Is(err, ErrRejected) true.
func (e *RejectError) Is(target error) bool { return target == ErrRejected }

// Webhook is a workflow's webhook, looked up before its body is read so the body can be
// read under the workflow's own size limit.
type Webhook struct {
	wf       *store.Workflow
	compiled *workflow.Compiled
	// test: the workflow is switched off and the builder listens (listen.go): an
	// accepted request is stored as a test event and starts no run.
	test bool
}

// WorkflowID is the id of the webhook's workflow.
func (w *Webhook) WorkflowID() string { return w.wf.ID }

// MaxBodyBytes is the largest body this webhook accepts.
func (w *Webhook) MaxBodyBytes() int64 {
	if wh := w.compiled.Def.Trigger.Webhook; wh != nil && wh.MaxBodyBytes > 0 {
		return wh.MaxBodyBytes
	}
	return WebhookBodyLimitDefault
}

// OpenWebhook finds the workflow whose webhook token is token. An unknown token, a
// disabled workflow or one without a webhook trigger is ErrNotFound, except a
// switched-off workflow the builder listens on, opened in test mode (listen.go).
func (e *Engine) OpenWebhook(ctx context.Context, token string) (*Webhook, error) {
	hook, err := e.hooks.get(token, func() (*Webhook, error) { return e.openWebhook(ctx, token) })
	if errors.Is(err, ErrNotFound) && e.listening.active("", e.cfg.Now()) {
		if h, err := e.openListening(ctx, token); err == nil {
			return h, nil
		}
	}
	return hook, err
}

func (e *Engine) openWebhook(ctx context.Context, token string) (*Webhook, error) {
	w, err := e.store.WorkflowByHookToken(ctx, token)
	if err != nil {
		return nil, translate(err)
	}
	if !w.Enabled || w.TriggerType != workflow.TriggerWebhook {
		return nil, fmt.Errorf("%w: workflow %s does not take webhooks now", ErrNotFound, w.ID)
	}
	c, err := e.versions.get(ctx, w.ID, w.Version)
	if err != nil {
		return nil, fmt.Errorf("load workflow %s for webhook: %w", w.ID, err)
	}
	return &Webhook{wf: w, compiled: c}, nil
}

// Ingest is OpenWebhook followed by IngestWebhook, for callers holding the whole body.
func (e *Engine) Ingest(ctx context.Context, token string, req IngestRequest) (*IngestResult, error) {
	hook, err := e.OpenWebhook(ctx, token)
	if err != nil {
		return nil, err
	}
	if int64(len(req.Body)) > hook.MaxBodyBytes() {
		return nil, e.RejectTooLarge(ctx, hook, req, int64(len(req.Body)))
	}
	return e.IngestWebhook(ctx, hook, req)
}

// RejectTooLarge records a request whose body exceeded the webhook's limit (req.Body
// holds what was read) and returns the rejection to answer with.
func (e *Engine) RejectTooLarge(ctx context.Context, hook *Webhook, req IngestRequest, size int64) error {
	return e.reject(ctx, hook, req, size, &RejectError{Status: http.StatusRequestEntityTooLarge, Verdict: store.VerdictTooLarge,
		Message: fmt.Sprintf("webhook body is larger than %d bytes", hook.MaxBodyBytes()),
		Reason:  fmt.Sprintf("body of %d bytes or more exceeds the limit of %d", size, hook.MaxBodyBytes())})
}

// RejectWebhook records a request the ingress refused before handing it over (too many
// headers, a body not received in time) as rejected, with reason for the inspector, and
// returns the rejection to answer with: status and message are sent to the sender.
// req.Body holds what was read; size is the body's size as far as it is known.
func (e *Engine) RejectWebhook(ctx context.Context, hook *Webhook, req IngestRequest, size int64, status int, message, reason string) error {
	return e.reject(ctx, hook, req, size, &RejectError{Status: status, Verdict: store.VerdictRejected, Message: message, Reason: reason})
}

// IngestWebhook checks a request against its webhook's settings (method, rate limit,
// verification, delivery id) and stores it with its queued run in one transaction; only
// then may the caller acknowledge. Refused requests are recorded for the inspector
// (sampled under a flood) and returned as *RejectError.
func (e *Engine) IngestWebhook(ctx context.Context, hook *Webhook, req IngestRequest) (*IngestResult, error) {
	w, wf := hook.wf, hook.compiled
	wh := wf.Def.Trigger.Webhook
	if wh == nil {
		wh = &workflow.WebhookTrigger{}
	}
	size := int64(len(req.Body))
	methods := workflow.DefaultMethods
	if len(wh.Methods) > 0 {
		methods = wh.Methods
	}
	if !slices.Contains(methods, req.Method) {
		return nil, e.reject(ctx, hook, req, size, &RejectError{Status: http.StatusMethodNotAllowed, Verdict: store.VerdictRejected,
			Message: "this webhook does not accept " + req.Method, Reason: "method " + req.Method + " not accepted",
			Allow: methods})
	}
	now := e.cfg.Now()
	if wh.RateLimit > 0 {
		burst := wh.RateBurst
		if burst == 0 {
			burst = int(math.Ceil(wh.RateLimit))
		}
		if ok, wait := e.limiter.Allow("webhook:"+w.ID, wh.RateLimit, burst, now); !ok {
			return nil, e.reject(ctx, hook, req, size, &RejectError{Status: http.StatusTooManyRequests, Verdict: store.VerdictRateLimited,
				Message: "too many requests; retry later", Reason: fmt.Sprintf("over %g requests per second", wh.RateLimit),
				RetryAfter: wait})
		}
	}
	sr := signatureRequest(req)
	if wh.Auth != nil && signature.IsProbe(wh.Auth.Type, sr) {
		return e.probe(ctx, hook, req, size, now), nil
	}
	if err := e.verify(ctx, wh.Auth, sr, now); err != nil {
		var rej *RejectError
		if errors.As(err, &rej) {
			return nil, e.reject(ctx, hook, req, size, rej)
		}
		return nil, err
	}

	headers := trigger.FlattenHeaders(req.Header)
	if hook.test {
		ev := e.newEvent(w, wh, req, headers, now)
		ev.Verdict, ev.Reason = store.VerdictAccepted, "test event: the workflow is switched off; the builder was listening"
		if err := e.store.RecordEvent(ctx, ev); err != nil {
			return nil, err
		}
		e.metrics.webhooks.WithLabelValues(store.VerdictAccepted).Inc()
		return &IngestResult{WorkflowID: w.ID, EventID: ev.ID, Test: true}, nil
	}
	var dedupeKey *string
	if wf.Dedupe != nil {
		key, err := e.dedupeKey(ctx, wf, req, headers, now)
		if err != nil {
			// A webhook is never lost for its shape: without a delivery id it is stored
			// and run like any other.
			e.log.Warn("Dedupe expression failed; storing the webhook without a delivery id",
				slog.String("workflow_id", w.ID), slog.Any("err", err))
		}
		dedupeKey = key
	}
	ev := e.newEvent(w, wh, req, headers, now)
	ev.DedupeKey, ev.Verdict = dedupeKey, store.VerdictAccepted
	run := e.queuedRun(w.ID, w.Version, ev.ID, wf, now)
	filtered, trig := e.filteredAtIngress(ctx, w, wf, run, ev)
	var worker reservation
	direct := false
	if filtered {
		run.Filtered(now)
	} else {
		// Direct dispatch: with a worker idle here (or a place in its backlog), the run is
		// stored already leased to this process and handed to that worker after the commit.
		if worker, direct = e.reserveWorker(wf); direct {
			run.Leased(e.owner, now, now.Add(e.cfg.Lease))
		}
	}
	err := e.store.IngestEvent(ctx, ev, run)
	if direct {
		if err == nil {
			run.Trigger = trig
			e.dispatch(worker, run, ev)
		} else {
			// Not stored (a duplicate, a failed batch): no run for the worker. Should a
			// failed commit have stored it after all, its lease expires and a claim takes it.
			worker.unreserve()
		}
	}
	if errors.Is(err, store.ErrDuplicate) {
		orig, runID, err := e.store.OriginalDelivery(ctx, w.ID, *dedupeKey)
		if err != nil {
			return nil, err
		}
		e.metrics.webhooks.WithLabelValues(store.VerdictDuplicate).Inc()
		dup := e.newEvent(w, wh, req, headers, now)
		dup.Verdict, dup.Reason = store.VerdictDuplicate, fmt.Sprintf("delivery id %q already stored as event %s", *dedupeKey, orig.ID)
		e.recordSampled(ctx, dup)
		return &IngestResult{WorkflowID: w.ID, EventID: orig.ID, RunID: runID, Duplicate: true}, nil
	}
	if err != nil {
		return nil, err
	}
	e.metrics.webhooks.WithLabelValues(store.VerdictAccepted).Inc()
	switch {
	case filtered:
		e.metrics.runsFinished.WithLabelValues(store.RunFiltered).Inc()
	case !direct:
		if pool := e.pool.Load(); pool != nil {
			pool.Queued()
		}
		e.notifier.Notify()
	}
	res := &IngestResult{WorkflowID: w.ID, EventID: ev.ID, RunID: run.ID}
	if st := acceptedStatus(wh); st != 0 {
		// The sender wants another status than 202 (Tilda: 200); the body stays the ids.
		res.Answer = &Answer{Status: st, Body: map[string]any{"event_id": ev.ID, "run_id": run.ID}}
	}
	if wh.Response != nil {
		switch wh.Response.Mode {
		case "custom":
			res.Answer = e.customAnswer(ctx, wf, wh.Response, ev, headers)
		case "result":
			timeout := wh.Response.Timeout.Std()
			if timeout <= 0 {
				timeout = workflow.ResultTimeoutDefault
			}
			res.Answer, res.Pending = e.awaitAnswer(ctx, run.ID, timeout)
		}
		if res.Answer != nil {
			res.Answer.AllowHTML = wh.Response.AllowHTML
		}
	}
	return res, nil
}

// filteredAtIngress evaluates the workflow's filter on a request about to be stored, in
// the environment its run's worker would give it (the stored event as trigger, no steps,
// the run's id and first attempt, the workflow, the same expression memory limit). False
// means the filter drops the event: the run is stored already ended filtered, in the
// event's own commit, and no claim, worker or second write is spent on it. An error,
// like a pass, leaves the decision to the worker, which records a failing filter as the
// run's failure, as it always did. trig is the trigger environment it built, for a run
// dispatched to a worker here; nil when there is no filter.
func (e *Engine) filteredAtIngress(ctx context.Context, w *store.Workflow, wf *workflow.Compiled, run *store.Run, ev *store.Event) (filtered bool, trig map[string]any) {
	if wf.Filter == nil || len(ev.Body) > FilterAtIngressMaxBody {
		return false, nil
	}
	stored := ev
	if e.store.Dialect() == store.Postgres {
		// The worker reads received_at back from a timestamptz, which keeps microseconds.
		c := *ev
		c.ReceivedAt = ev.ReceivedAt.Truncate(time.Microsecond)
		stored = &c
	}
	trig, err := trigger.EventEnv(stored, trigger.PresetOf(wf.Def))
	if err != nil {
		return false, nil
	}
	lim := wf.Def.Limits.Or(*e.cfg.limits())
	ctx = expr.WithMemoryLimit(ctx, int64(lim.ExpressionMemory))
	pass, err := wf.Filter.EvalBool(ctx, map[string]any{
		"trigger":  trig,
		"steps":    map[string]any{},
		"run":      map[string]any{"id": run.ID, "attempt": int64(1)},
		"workflow": map[string]any{"id": w.ID, "name": wf.Def.Name, "version": int64(run.Version)},
	})
	return err == nil && !pass, trig
}

// newEvent builds the stored form of a request: headers and token query parameters
// masked, so the inspector and the run records never keep a credential.
func (e *Engine) newEvent(w *store.Workflow, wh *workflow.WebhookTrigger, req IngestRequest, headers map[string]string, now time.Time) *store.Event {
	var extraHeader, tokenQuery string
	if wh.Auth != nil {
		extraHeader, tokenQuery = wh.Auth.Header, wh.Auth.Query
	}
	body := req.Body
	if ct, fields := credentialFields(wh.Auth, req.Header.Get("Content-Type")); len(fields) > 0 {
		// A key sent in a form field (Tilda's API key, Bitrix24's tokens) is as much a
		// credential as a header.
		body = trigger.MaskFormField(ct, body, fields...)
	}
	return &store.Event{
		ID:          newID(),
		WorkflowID:  w.ID,
		ReceivedAt:  now,
		Method:      req.Method,
		Headers:     trigger.EncodeHeaders(trigger.MaskHeaders(headers, extraHeader)),
		Query:       trigger.MaskQuery(req.RawQuery, tokenQuery),
		ContentType: req.Header.Get("Content-Type"),
		Body:        body,
		BodySize:    int64(len(body)),
	}
}

// reject records a refused request (sampled) and returns the rejection.
func (e *Engine) reject(ctx context.Context, hook *Webhook, req IngestRequest, size int64, rej *RejectError) error {
	e.metrics.webhooks.WithLabelValues(rej.Verdict).Inc()
	wh := hook.compiled.Def.Trigger.Webhook
	if wh == nil {
		wh = &workflow.WebhookTrigger{}
	}
	ev := e.newEvent(hook.wf, wh, req, trigger.FlattenHeaders(req.Header), e.cfg.Now())
	ev.Verdict, ev.Reason, ev.BodySize = rej.Verdict, rej.Reason, storedSize(size, req, ev)
	if len(ev.Body) > InspectorBodyLimit {
		ev.Body = ev.Body[:InspectorBodyLimit]
	}
	e.recordSampled(ctx, ev)
	e.log.Info("Webhook refused", slog.String("workflow_id", hook.wf.ID), slog.String("verdict", rej.Verdict),
		slog.String("reason", rej.Reason))
	return rej
}

// recordSampled stores a request that started no run, unless this workflow's refused
// requests already fill their recording budget this second.
func (e *Engine) recordSampled(ctx context.Context, ev *store.Event) {
	if ok, _ := e.limiter.Allow("record:"+ev.WorkflowID, recordRate, recordBurst, e.cfg.Now()); !ok {
		e.metrics.unrecorded.Inc()
		return
	}
	if len(ev.Body) > InspectorBodyLimit {
		ev.Body = ev.Body[:InspectorBodyLimit]
	}
	if err := e.store.RecordEvent(ctx, ev); err != nil {
		e.log.Warn("Record refused webhook failed", slog.String("workflow_id", ev.WorkflowID), slog.Any("err", err))
	}
}

// acceptedStatus is the status of the default answer to a stored request when the
// webhook's preset wants one other than 202, or 0.
func acceptedStatus(wh *workflow.WebhookTrigger) int {
	if wh.Auth == nil || wh.Response != nil && wh.Response.Mode != "" && wh.Response.Mode != "accepted" {
		return 0
	}
	return signature.AcceptedStatus(wh.Auth.Type)
}

// probe answers a sender's check of a new webhook URL (Tilda's test=test) with 200 and
// starts nothing. It is recorded for the inspector with the verdict check, so that a user
// setting up the sender sees it arrive, not an error.
func (e *Engine) probe(ctx context.Context, hook *Webhook, req IngestRequest, size int64, now time.Time) *IngestResult {
	e.metrics.webhooks.WithLabelValues(store.VerdictCheck).Inc()
	wh := hook.compiled.Def.Trigger.Webhook
	ev := e.newEvent(hook.wf, wh, req, trigger.FlattenHeaders(req.Header), now)
	ev.Verdict, ev.BodySize = store.VerdictCheck, storedSize(size, req, ev)
	ev.Reason = fmt.Sprintf("%s checked the webhook URL; answered 200, no run started", wh.Auth.Type)
	e.recordSampled(ctx, ev)
	return &IngestResult{WorkflowID: hook.wf.ID, EventID: ev.ID, Check: true,
		Answer: &Answer{Status: http.StatusOK, Body: "ok"}}
}

// signatureRequest is what verification sees of a request, its form parsed once.
func signatureRequest(req IngestRequest) *signature.Request {
	sr := &signature.Request{Method: req.Method, URL: req.URL, Header: req.Header, Body: req.Body}
	if strings.HasPrefix(strings.ToLower(req.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(req.Body)); err == nil {
			sr.Form = form
		}
	}
	return sr
}

// verify checks a request against the webhook's auth settings.
func (e *Engine) verify(ctx context.Context, auth *workflow.WebhookAuth, sr *signature.Request, now time.Time) error {
	if auth == nil || auth.Type == "" || auth.Type == "none" {
		return nil
	}
	if auth.Connection == "" && signature.ConnectionOptional(auth.Type) {
		// No connection, no key: the preset still shapes answers and dedupe.
		return nil
	}
	conn, err := e.resolveConnection(ctx, auth.Connection)
	if err != nil {
		// Not the sender's fault: answer 503 so it retries once the setup is fixed, and say
		// why in the record.
		return &RejectError{Status: http.StatusServiceUnavailable, Verdict: store.VerdictRejected,
			Message: "webhook verification is misconfigured; retry later",
			Reason:  fmt.Sprintf("webhook connection %s unusable: %v", auth.Connection, err)}
	}
	cfg := authConfig(auth, conn)
	if err := signature.Verify(cfg, sr, now); err != nil {
		reason := err.Error()
		var se *signature.Error
		if errors.As(err, &se) {
			reason = se.Reason
		}
		if !signature.IsRejection(err) {
			return &RejectError{Status: http.StatusServiceUnavailable, Verdict: store.VerdictRejected,
				Message: "webhook verification is misconfigured; retry later", Reason: "configuration: " + reason}
		}
		// Rejections all answer the same generic 401; the precise reason goes to the record.
		return &RejectError{Status: http.StatusUnauthorized, Verdict: store.VerdictRejected, Message: "unauthorized", Reason: reason}
	}
	return nil
}

// authConfig joins a webhook's auth settings with its connection's secrets.
func authConfig(auth *workflow.WebhookAuth, conn *connectors.Connection) signature.Config {
	cfg := signature.Config{Type: auth.Type, Header: auth.Header, Query: auth.Query, Field: auth.Field,
		Algorithm: auth.Algorithm, Encoding: auth.Encoding, Prefix: auth.Prefix, Tolerance: auth.Tolerance.Std()}
	for _, k := range []string{"secret", "previous_secret"} {
		if s := conn.String(k); s != "" {
			cfg.Secrets = append(cfg.Secrets, s)
		}
	}
	cfg.Username, cfg.Password = conn.String("username"), conn.String("password")
	return cfg
}

// dedupeKey evaluates the webhook's dedupe expression on the request. An empty result
// means the request carries no delivery id and is not de-duplicated.
func (e *Engine) dedupeKey(ctx context.Context, wf *workflow.Compiled, req IngestRequest, headers map[string]string, now time.Time) (*string, error) {
	wh := trigger.Webhook{Method: req.Method, Headers: headers, Query: req.RawQuery,
		ContentType: req.Header.Get("Content-Type"), Body: req.Body, ReceivedAt: now, Preset: trigger.PresetOf(wf.Def)}
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

// customAnswer renders a custom-mode answer. A body template that fails on this request
// still answers with the configured status (the event is stored), with an empty body.
func (e *Engine) customAnswer(ctx context.Context, wf *workflow.Compiled, r *workflow.WebhookResponse, ev *store.Event, headers map[string]string) *Answer {
	a := &Answer{Status: r.Status, Headers: r.Headers}
	if a.Status == 0 {
		a.Status = http.StatusOK
	}
	if wf.ResponseBody == nil {
		return a
	}
	wh := trigger.Webhook{EventID: ev.ID, Method: ev.Method, Headers: headers, Query: ev.Query,
		ContentType: ev.ContentType, Body: ev.Body, ReceivedAt: ev.ReceivedAt, Preset: trigger.PresetOf(wf.Def)}
	v, err := wf.ResponseBody.Render(ctx, map[string]any{"trigger": wh.Env()})
	if err != nil {
		e.log.Warn("Render custom webhook answer failed", slog.String("workflow_id", ev.WorkflowID), slog.Any("err", err))
		a.Body = ""
		return a
	}
	a.Body = v
	return a
}
