package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// DeleteConnection handles DELETE /api/v1/connections/{name}. A connection that a
// workflow uses is refused with 409.
func (h *Handler) DeleteConnection(c *gin.Context) {
	if err := h.Engine.DeleteConnection(c.Request.Context(), c.Param("name")); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
