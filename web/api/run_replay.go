package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// ReplayRun handles POST /api/v1/runs/{id}/replay: a new run of the same event on the
// current version, or with ?from=failed the failed run continued from its failed step,
// keeping the earlier steps' outputs.
func (h *Handler) ReplayRun(c *gin.Context) {
	run, err := h.Engine.Replay(c.Request.Context(), c.Param("id"), engine.ReplayFrom(c.Query("from")))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/runs/"+run.ID)
	c.PureJSON(http.StatusCreated, run)
}
