package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// GetConnection handles GET /api/v1/connections/{name}.
func (h *Handler) GetConnection(c *gin.Context) {
	conn, err := h.Engine.GetConnection(c.Request.Context(), c.Param("name"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, conn)
}

// ListConnections handles GET /api/v1/connections.
func (h *Handler) ListConnections(c *gin.Context) {
	conns, err := h.Engine.ListConnections(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"items": conns})
}
