package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// UpdateWorkflow handles PUT /api/v1/workflows/{id}: the body replaces the definition
// and becomes the next version. Disabling is a PUT with "enabled": false.
func (h *Handler) UpdateWorkflow(c *gin.Context) {
	body, ok := h.readBody(c)
	if !ok {
		return
	}
	w, err := h.Engine.UpdateWorkflow(c.Request.Context(), c.Param("id"), body)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, h.workflowResponse(c, w))
}
