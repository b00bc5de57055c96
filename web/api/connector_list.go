package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/connectors"
)

// ListConnectors handles GET /api/v1/connectors: every connector's spec, the data that
// drives the UI's forms.
func (h *Handler) ListConnectors(c *gin.Context) {
	all := h.Engine.Registry().Connectors()
	specs := make([]connectors.Spec, len(all))
	for i, conn := range all {
		specs[i] = conn.Spec()
	}
	c.PureJSON(http.StatusOK, gin.H{"items": specs})
}
