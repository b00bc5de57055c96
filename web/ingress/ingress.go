// Package ingress serves /hooks/{token}, the fast path: look the webhook up, read the
// body within its limit, hand it to the engine, which verifies it and stores the event
// with its queued run in one transaction, and only then answer.
package ingress

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/web/api"
)

// MaxInFlightDefault caps webhook requests handled at once, so that a flood cannot
// exhaust memory with bodies; beyond it requests get 503 with Retry-After.
const MaxInFlightDefault = 1024

// Handler receives webhooks.
type Handler struct {
	Engine *engine.Engine
	// BaseURL is the public address the senders use; empty means each request's host.
	// The twilio and hubspot-v3 presets sign the full URL.
	BaseURL string
	Logger  *slog.Logger
	slots   chan struct{}
}

// New returns a Handler admitting at most maxInFlight requests at once (zero means
// MaxInFlightDefault).
func New(eng *engine.Engine, baseURL string, maxInFlight int, log *slog.Logger) *Handler {
	if maxInFlight <= 0 {
		maxInFlight = MaxInFlightDefault
	}
	return &Handler{Engine: eng, BaseURL: baseURL, Logger: log, slots: make(chan struct{}, maxInFlight)}
}

// Receive handles any method on /hooks/{token}.
func (h *Handler) Receive(c *gin.Context) {
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		c.Header("Retry-After", "1")
		api.Abort(c, http.StatusServiceUnavailable, api.CodeUnavailable, "too many webhooks in flight; retry shortly")
		return
	}
	ctx := c.Request.Context()
	hook, err := h.Engine.OpenWebhook(ctx, c.Param("token"))
	if err != nil {
		h.fail(c, err)
		return
	}
	limit := hook.MaxBodyBytes()
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, limit+1))
	if err != nil {
		api.Abort(c, http.StatusBadRequest, api.CodeBadRequest, "cannot read webhook body")
		return
	}
	req := engine.IngestRequest{
		Method:   c.Request.Method,
		Header:   c.Request.Header,
		RawQuery: c.Request.URL.RawQuery,
		Body:     body,
		URL:      h.publicURL(c.Request),
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
		writeAnswer(c, res.Answer)
	case res.Pending:
		c.PureJSON(http.StatusAccepted, gin.H{"event_id": res.EventID, "run_id": res.RunID,
			"status_url": "/api/v1/runs/" + res.RunID})
	default:
		c.PureJSON(http.StatusAccepted, res)
	}
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
		h.Logger.Error("Store webhook failed", slog.Any("err", err))
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
	case http.StatusTooManyRequests:
		return api.CodeRateLimited
	case http.StatusServiceUnavailable:
		return api.CodeUnavailable
	}
	return api.CodeBadRequest
}

// writeAnswer sends a workflow's own answer: a string body as text (unless the headers
// set a Content-Type), anything else as JSON.
func writeAnswer(c *gin.Context, a *engine.Answer) {
	for k, v := range a.Headers {
		c.Header(k, v)
	}
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
	u := api.PublicBase(h.BaseURL, r) + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	return u
}
