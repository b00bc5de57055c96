package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// DeleteWorkflow handles DELETE /api/v1/workflows/{id}.
func (h *Handler) DeleteWorkflow(c *gin.Context) {
	if err := h.Engine.DeleteWorkflow(c.Request.Context(), c.Param("id")); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
