package ui

import (
	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// runCancel handles POST /runs/{id}/cancel: a queued or waiting run stops at once, a
// running one after its current step.
func (h *Handler) runCancel(c *gin.Context, v *view) {
	r, err := h.engine.Cancel(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, v, err)
		return
	}
	flash := "run_cancelled"
	if r.Status != engine.RunCancelled {
		flash = "run_cancel_requested"
	}
	h.redirect(c, "/runs/"+r.ID, flash)
}
