package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// DeleteConnector handles DELETE /api/v1/connectors/{name}: removes an uploaded
// connector file and its connector. Admins only; 409 for a compiled-in connector or one
// read from the connectors folder (delete the file instead).
func (h *Handler) DeleteConnector(c *gin.Context) {
	if err := h.Engine.DeleteConnectorFile(c.Request.Context(), c.Param("name")); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
