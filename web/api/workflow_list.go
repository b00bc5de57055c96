package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// ListWorkflows handles GET /api/v1/workflows?limit=&cursor=.
func (h *Handler) ListWorkflows(c *gin.Context) {
	limit, ok := limitParam(c)
	if !ok {
		return
	}
	page, err := h.Engine.ListWorkflows(c.Request.Context(), c.Query("cursor"), limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	items := make([]workflowResponse, len(page.Items))
	for i := range page.Items {
		items[i] = h.workflowResponse(c, &page.Items[i])
	}
	c.PureJSON(http.StatusOK, engine.Page[workflowResponse]{Items: items, NextCursor: page.NextCursor})
}

func limitParam(c *gin.Context) (int, bool) {
	s := c.Query("limit")
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		Abort(c, http.StatusBadRequest, CodeBadRequest, "limit must be a positive integer")
		return 0, false
	}
	return n, true
}
