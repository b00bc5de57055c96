package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine"
)

// UpdateConnection handles PUT /api/v1/connections/{name}. A secret setting left out
// keeps its stored value; null removes it.
func (h *Handler) UpdateConnection(c *gin.Context) {
	var in engine.ConnectionInput
	if !h.bindJSON(c, &in) {
		return
	}
	in.Config = normalize(in.Config)
	conn, err := h.Engine.UpdateConnection(c.Request.Context(), c.Param("name"), in)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, conn)
}

func normalize(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return connectors.NormalizeNumbers(m).(map[string]any)
}
