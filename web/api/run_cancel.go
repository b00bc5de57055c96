package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// CancelRun handles POST /api/v1/runs/{id}/cancel: a queued or waiting run stops at once
// (status cancelled), a running one at its next step boundary (cancel_requested, 202).
// A run that already ended is 409.
func (h *Handler) CancelRun(c *gin.Context) {
	run, err := h.Engine.Cancel(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	status := http.StatusOK
	if run.CancelRequested {
		status = http.StatusAccepted
	}
	c.PureJSON(status, run)
}
