// Package ingress serves /hooks/{token}, the fast path: look the webhook up, read the
// body within its limit, hand it to the engine, which verifies it and stores the event
// with its queued run in one transaction, and only then answer.
package ingress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/web/api"
)

// Ingress limits, each the default of a Config field.
const (
	// MaxInFlightDefault caps webhook requests handled at once, so that a flood cannot
	// exhaust memory with bodies; beyond it requests get 503 with Retry-After.
	MaxInFlightDefault = 1024
	// MaxInFlightBytesDefault caps the webhook body bytes held at once: 256 requests at
	// the default 1 MiB body limit, or four at the largest max_body_bytes (64 MiB).
	MaxInFlightBytesDefault = 256 << 20
	// BodyReadTimeoutDefault is how long a webhook body may take to arrive, well under
	// the server's 60 s read timeout, so that a stalled sender frees its slot quickly.
	BodyReadTimeoutDefault = 10 * time.Second
	// MaxHeadersDefault caps the header lines of a webhook request; senders use a few
	// dozen at most.
	MaxHeadersDefault = 100
)

// lookupKey holds requests in the limiter while their token is looked up, before their
// workflow is known, so that a flood of unknown tokens is bounded like any workflow.
const lookupKey = ""

// readChunk is the step in which a body of unknown length reserves bytes as it arrives.
const readChunk = 64 << 10

// errBytesBudget says a body of unknown length outgrew the bytes left in flight.
var errBytesBudget = errors.New("webhook bytes in flight over budget")

// Config configures the ingress. Zero values mean the defaults.
type Config struct {
	// BaseURL is the public address the senders use; empty means each request's host.
	// The twilio and hubspot-v3 presets sign the full URL.
	BaseURL string
	// MaxInFlight caps webhook requests handled at once, across workflows.
	MaxInFlight int
	// MaxInFlightBytes caps the body bytes of those requests.
	MaxInFlightBytes int64
	// BodyReadTimeout bounds how long a body may take to arrive; past it, 408.
	BodyReadTimeout time.Duration
	// MaxHeaders caps a request's header lines; beyond it, 431.
	MaxHeaders int
	Logger     *slog.Logger
}

// WithDefaults returns c with zero values replaced by the defaults.
func (c Config) WithDefaults() Config {
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = MaxInFlightDefault
	}
	if c.MaxInFlightBytes <= 0 {
		c.MaxInFlightBytes = MaxInFlightBytesDefault
	}
	if c.BodyReadTimeout <= 0 {
		c.BodyReadTimeout = BodyReadTimeoutDefault
	}
	if c.MaxHeaders <= 0 {
		c.MaxHeaders = MaxHeadersDefault
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Handler receives webhooks.
type Handler struct {
	Engine *engine.Engine
	cfg    Config
	limit  *limiter
}

// New returns a Handler for cfg.
func New(eng *engine.Engine, cfg Config) *Handler {
	cfg = cfg.WithDefaults()
	return &Handler{Engine: eng, cfg: cfg, limit: newLimiter(cfg.MaxInFlight, cfg.MaxInFlightBytes)}
}

// Receive handles any method on /hooks/{token}.
func (h *Handler) Receive(c *gin.Context) {
	if c.Request.ContentLength != 0 {
		// Until the body is read, any answer closes the connection: otherwise net/http
		// would first drain the rest of the body, at the sender's pace.
		c.Header("Connection", "close")
	}
	t := h.limit.acquire(lookupKey)
	if t == nil {
		busy(c)
		return
	}
	defer t.release()
	ctx := c.Request.Context()
	hook, err := h.Engine.OpenWebhook(ctx, c.Param("token"))
	if err != nil {
		h.fail(c, err)
		return
	}
	if !t.move(hook.WorkflowID()) {
		busy(c)
		return
	}
	req := engine.IngestRequest{
		Method:   c.Request.Method,
		Header:   c.Request.Header,
		RawQuery: c.Request.URL.RawQuery,
		URL:      h.publicURL(c.Request),
	}
	if n := headerLines(c.Request.Header); n > h.cfg.MaxHeaders {
		h.fail(c, h.Engine.RejectWebhook(ctx, hook, req, max(c.Request.ContentLength, 0), http.StatusRequestHeaderFieldsTooLarge,
			fmt.Sprintf("more than %d request headers", h.cfg.MaxHeaders),
			fmt.Sprintf("%d header lines, over the limit of %d", n, h.cfg.MaxHeaders)))
		return
	}
	limit := hook.MaxBodyBytes()
	body, err := h.readBody(c, t, limit)
	req.Body = body
	var netErr net.Error
	switch {
	case errors.Is(err, errBytesBudget):
		busy(c)
		return
	case errors.As(err, &netErr) && netErr.Timeout():
		// The timeout cancelled the request's context; the record must still be written.
		h.fail(c, h.Engine.RejectWebhook(context.WithoutCancel(ctx), hook, req, max(c.Request.ContentLength, int64(len(body))), http.StatusRequestTimeout,
			fmt.Sprintf("webhook body not received within %s", h.cfg.BodyReadTimeout),
			fmt.Sprintf("body not received within %s (%d bytes arrived)", h.cfg.BodyReadTimeout, len(body))))
		return
	case err != nil:
		api.Abort(c, http.StatusBadRequest, api.CodeBadRequest, "cannot read webhook body")
		return
	}
	if int64(len(body)) > limit {
		size := c.Request.ContentLength
		if size < int64(len(body)) {
			size = int64(len(body))
		}
		h.fail(c, h.Engine.RejectTooLarge(ctx, hook, req, size))
		return
	}
	res, err := h.Engine.IngestWebhook(ctx, hook, req)
	if err != nil {
		h.fail(c, err)
		return
	}
	switch {
	case res.Duplicate:
		// A repeated delivery: the sender sees the first delivery's ids and stops retrying.
		c.PureJSON(http.StatusOK, res)
	case res.Answer != nil:
		h.writeAnswer(c, res.WorkflowID, res.Answer)
	case res.Pending:
		c.PureJSON(http.StatusAccepted, gin.H{"event_id": res.EventID, "run_id": res.RunID,
			"status_url": "/api/v1/runs/" + res.RunID})
	default:
		c.PureJSON(http.StatusAccepted, res)
	}
}

func busy(c *gin.Context) {
	c.Header("Retry-After", "1")
	api.Abort(c, http.StatusServiceUnavailable, api.CodeUnavailable, "too many webhooks in flight; retry shortly")
}

// headerLines counts a request's header lines (a repeated name counts each time).
func headerLines(h http.Header) int {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	return n
}

// readBody reads up to limit+1 bytes of the body within the body read timeout, holding
// the bytes in t: a declared Content-Length is reserved up front, a body of unknown
// length as it arrives.
func (h *Handler) readBody(c *gin.Context, t *ticket, limit int64) ([]byte, error) {
	rc := http.NewResponseController(c.Writer)
	// The server's read timeout (60 s) also serves the API; a webhook body that takes
	// longer than BodyReadTimeout only holds its slot.
	deadline := rc.SetReadDeadline(time.Now().Add(h.cfg.BodyReadTimeout)) == nil
	r := &budgetReader{r: c.Request.Body, t: t, max: limit + 1}
	if cl := c.Request.ContentLength; cl > 0 {
		r.reserved = min(cl, limit+1)
		if !t.grow(r.reserved) {
			return nil, errBytesBudget
		}
	}
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil || int64(len(body)) > limit {
		// The rest of the body stays unread: the connection closes after the answer (see
		// Receive), and the expired deadline stops anything from waiting on it.
		return body, err
	}
	c.Writer.Header().Del("Connection")
	if deadline {
		// The whole body arrived; the deadline must not cut the connection while the
		// request waits for its answer (result mode).
		_ = rc.SetReadDeadline(time.Time{})
	}
	return body, nil
}

// budgetReader reserves bytes in the limiter as a body arrives, in readChunk steps.
type budgetReader struct {
	r        io.Reader
	t        *ticket
	read     int64
	reserved int64
	max      int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += int64(n)
	if b.read > b.reserved {
		// The LimitReader above keeps read within max, so this step covers what arrived.
		step := min(max(b.read-b.reserved, readChunk), b.max-b.reserved)
		if !b.t.grow(step) {
			return n, errBytesBudget
		}
		b.reserved += step
	}
	return n, err
}

func (h *Handler) fail(c *gin.Context, err error) {
	var rej *engine.RejectError
	switch {
	case errors.As(err, &rej):
		if len(rej.Allow) > 0 {
			c.Header("Allow", strings.Join(rej.Allow, ", "))
		}
		if rej.RetryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(rej.RetryAfter.Seconds()))))
		}
		api.Abort(c, rej.Status, codeFor(rej.Status), rej.Message)
	case errors.Is(err, engine.ErrNotFound):
		api.Abort(c, http.StatusNotFound, api.CodeNotFound, "unknown webhook")
	default:
		// Not stored, so not acknowledged: the sender will retry.
		h.cfg.Logger.Error("Store webhook failed", slog.Any("err", err))
		api.Abort(c, http.StatusServiceUnavailable, api.CodeUnavailable, "webhook could not be stored; retry later")
	}
}

func codeFor(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return api.CodeUnauthorized
	case http.StatusMethodNotAllowed:
		return api.CodeMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return api.CodeTooLarge
	case http.StatusRequestHeaderFieldsTooLarge:
		return api.CodeHeadersTooLarge
	case http.StatusRequestTimeout:
		return api.CodeTimeout
	case http.StatusTooManyRequests:
		return api.CodeRateLimited
	case http.StatusServiceUnavailable:
		return api.CodeUnavailable
	}
	return api.CodeBadRequest
}

// AnswerCSP is the Content-Security-Policy of every answer a workflow writes: the
// answer is served from our origin with content an anonymous sender may choose, so a
// browser must load nothing for it and run it in a sandbox (no script, an opaque origin).
const AnswerCSP = "default-src 'none'; sandbox"

// writeAnswer sends a workflow's own answer: a string body as text (unless the headers
// set a Content-Type), anything else as JSON. A page type (HTML, SVG, XML) is sent only
// when the workflow allows it; the safety headers come last, so no workflow overrides
// them.
func (h *Handler) writeAnswer(c *gin.Context, workflowID string, a *engine.Answer) {
	for k, v := range a.Headers {
		c.Header(k, v)
	}
	hdr := c.Writer.Header()
	if ct := hdr.Get("Content-Type"); !a.AllowHTML && workflow.IsDocumentType(ct) {
		// Only a result-mode answer gets here (a custom one is checked when saved): its
		// headers come from a step, possibly from the request itself.
		h.cfg.Logger.Warn("Webhook answer's page type replaced with text/plain; set allow_html to send it",
			slog.String("workflow_id", workflowID), slog.String("content_type", ct))
		hdr.Set("Content-Type", "text/plain; charset=utf-8")
	}
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", AnswerCSP)
	switch b := a.Body.(type) {
	case nil:
		c.Status(a.Status)
	case string:
		if c.Writer.Header().Get("Content-Type") == "" {
			c.Header("Content-Type", "text/plain; charset=utf-8")
		}
		c.Status(a.Status)
		_, _ = io.WriteString(c.Writer, b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.Status(a.Status)
			return
		}
		if c.Writer.Header().Get("Content-Type") == "" {
			c.Header("Content-Type", "application/json; charset=utf-8")
		}
		c.Status(a.Status)
		_, _ = c.Writer.Write(data)
	}
}

// publicURL is the address the sender signed: the configured base URL (behind a proxy
// the request's own host may differ) with the request's path and query.
func (h *Handler) publicURL(r *http.Request) string {
	u := api.PublicBase(h.cfg.BaseURL, r) + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	return u
}
