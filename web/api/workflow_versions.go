package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// ListWorkflowVersions handles GET /api/v1/workflows/{id}/versions.
func (h *Handler) ListWorkflowVersions(c *gin.Context) {
	versions, err := h.Engine.ListWorkflowVersions(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"items": versions})
}
