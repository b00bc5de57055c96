// Package ingress serves POST /hooks/{token}, the fast path: read the body within its
// limit, hand it to the engine, which stores the event and its queued run in one
// transaction, and only then answer 202.
package ingress

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/web/api"
)

// BodyLimitDefault is the largest webhook body accepted (1 MiB); larger ones get 413.
const BodyLimitDefault = 1 << 20

// Handler receives webhooks.
type Handler struct {
	Engine    *engine.Engine
	BodyLimit int64
	Logger    *slog.Logger
}

// Receive handles any method on /hooks/{token}.
func (h *Handler) Receive(c *gin.Context) {
	limit := h.BodyLimit
	if limit <= 0 {
		limit = BodyLimitDefault
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			api.Abort(c, http.StatusRequestEntityTooLarge, api.CodeTooLarge, fmt.Sprintf("webhook body is larger than %d bytes", limit))
			return
		}
		api.Abort(c, http.StatusBadRequest, api.CodeBadRequest, "cannot read webhook body")
		return
	}
	res, err := h.Engine.Ingest(c.Request.Context(), c.Param("token"), engine.IngestRequest{
		Method:   c.Request.Method,
		Header:   c.Request.Header,
		RawQuery: c.Request.URL.RawQuery,
		Body:     body,
	})
	switch {
	case err == nil && res.Duplicate:
		// A repeated delivery: the sender sees the first delivery's ids and stops retrying.
		c.JSON(http.StatusOK, res)
	case err == nil:
		c.JSON(http.StatusAccepted, res)
	case errors.Is(err, engine.ErrNotFound):
		api.Abort(c, http.StatusNotFound, api.CodeNotFound, "unknown webhook")
	case errors.Is(err, engine.ErrMethodNotAllowed):
		var me *engine.MethodError
		if errors.As(err, &me) {
			c.Header("Allow", strings.Join(me.Allowed, ", "))
		}
		api.Abort(c, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, "this webhook does not accept "+c.Request.Method)
	default:
		// Not stored, so not acknowledged: the sender will retry.
		h.Logger.Error("Store webhook failed", slog.Any("err", err))
		api.Abort(c, http.StatusServiceUnavailable, api.CodeInternal, "webhook could not be stored; retry later")
	}
}
