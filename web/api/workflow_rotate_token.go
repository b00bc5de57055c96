package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// RotateWorkflowToken handles POST /api/v1/workflows/{id}/rotate-token: a new webhook
// URL; the old one answers 404 from now on.
func (h *Handler) RotateWorkflowToken(c *gin.Context) {
	w, err := h.Engine.RotateHookToken(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, h.workflowResponse(c, w))
}
