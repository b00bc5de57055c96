package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// ListRuns handles GET /api/v1/runs?workflow_id=&status=&limit=&cursor=.
func (h *Handler) ListRuns(c *gin.Context) {
	limit, ok := limitParam(c)
	if !ok {
		return
	}
	status := c.Query("status")
	if status != "" && !slices.Contains(engine.RunStatuses, status) {
		Abort(c, http.StatusBadRequest, CodeBadRequest, "status must be one of "+strings.Join(engine.RunStatuses, ", "))
		return
	}
	page, err := h.Engine.ListRuns(c.Request.Context(), engine.RunFilter{
		WorkflowID: c.Query("workflow_id"), Status: status, Cursor: c.Query("cursor"), Limit: limit,
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, page)
}
