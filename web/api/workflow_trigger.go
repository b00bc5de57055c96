package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// GetWorkflowTrigger handles GET /api/v1/workflows/{id}/trigger: the health of a schedule
// or poll trigger (last tick, last poll, last success and error, consecutive failures,
// items seen). Other triggers keep no such state: 404.
func (h *Handler) GetWorkflowTrigger(c *gin.Context) {
	st, err := h.Engine.GetTriggerState(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, st)
}
