package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// ListWorkflowEvents handles GET /api/v1/workflows/{id}/events?limit=&cursor=: the
// inspector, every webhook request newest first, refused ones included with their reason.
func (h *Handler) ListWorkflowEvents(c *gin.Context) {
	limit, ok := limitParam(c)
	if !ok {
		return
	}
	page, err := h.Engine.ListEvents(c.Request.Context(), c.Param("id"), c.Query("cursor"), limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, page)
}
