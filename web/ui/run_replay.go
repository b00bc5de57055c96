package ui

import (
	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// runReplay handles POST /runs/{id}/replay (form field from: empty for the whole run on
// the workflow's current version, "failed" to continue from the failed step): the
// engine decides whether the user may, and the browser goes to the new run.
func (h *Handler) runReplay(c *gin.Context, v *view) {
	r, err := h.engine.Replay(c.Request.Context(), c.Param("id"), engine.ReplayFrom(c.PostForm("from")))
	if err != nil {
		h.fail(c, v, err)
		return
	}
	h.redirect(c, "/runs/"+r.ID, "run_replayed")
}
