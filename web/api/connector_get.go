package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// GetConnector handles GET /api/v1/connectors/{name}: the connector's spec and origin,
// its file's text (declarative connectors; editors and admins only) and the problems of
// the files that provide it. A name known only from a file that does not load is found,
// with "installed": false.
func (h *Handler) GetConnector(c *gin.Context) {
	d, err := h.Engine.GetConnector(c.Request.Context(), c.Param("name"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, d)
}
