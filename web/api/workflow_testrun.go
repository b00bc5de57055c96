package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// TestWorkflow handles POST /api/v1/workflows/{id}/test with {"event": {...}, "dry_run":
// true}: the workflow runs in memory on the given event, or on the last captured one
// when "event" is left out, and nothing is stored. With dry_run no connector is called
// and each step reports its rendered input and its condition's verdict.
func (h *Handler) TestWorkflow(c *gin.Context) {
	var in engine.TestInput
	if c.Request.ContentLength != 0 {
		if !h.bindJSON(c, &in) {
			return
		}
	}
	res, err := h.Engine.TestWorkflow(c.Request.Context(), c.Param("id"), in)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}
