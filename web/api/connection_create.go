package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// CreateConnection handles POST /api/v1/connections with {"name", "connector", "config"}.
// Secret settings are stored encrypted and never returned.
func (h *Handler) CreateConnection(c *gin.Context) {
	var in engine.ConnectionInput
	if !h.bindJSON(c, &in) {
		return
	}
	in.Config = normalize(in.Config)
	conn, err := h.Engine.CreateConnection(c.Request.Context(), in)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/connections/"+conn.Name)
	c.PureJSON(http.StatusCreated, conn)
}
