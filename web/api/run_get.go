package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// GetRun handles GET /api/v1/runs/{id}: the run with every step's input, output and
// error.
func (h *Handler) GetRun(c *gin.Context) {
	r, err := h.Engine.GetRun(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, r)
}
