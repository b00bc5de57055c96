package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// ListConnectors handles GET /api/v1/connectors: every installed connector's spec (the
// data that drives the UI's forms) with its origin, version and revision, and the
// problems of every connector file, each with its file, path, line and column.
func (h *Handler) ListConnectors(c *gin.Context) {
	list, err := h.Engine.ListConnectors(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, list)
}
