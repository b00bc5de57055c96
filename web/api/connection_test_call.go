package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// TestConnection handles POST /api/v1/connections/{name}/test: the connector's own test
// call with the connection's settings, answered 200 with {"ok": true|false, "error",
// "took_ms"} either way; a connector without a test call is 422.
func (h *Handler) TestConnection(c *gin.Context) {
	res, err := h.Engine.TestConnection(c.Request.Context(), c.Param("name"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, res)
}
