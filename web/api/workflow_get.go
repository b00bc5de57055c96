package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// GetWorkflow handles GET /api/v1/workflows/{id}.
func (h *Handler) GetWorkflow(c *gin.Context) {
	w, err := h.Engine.GetWorkflow(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, h.workflowResponse(c, w))
}
