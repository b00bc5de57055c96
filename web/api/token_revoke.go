package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// RevokeToken handles DELETE /api/v1/tokens/{id}: the token stops working at once and
// stays listed with its revoked_at. The caller's own, or anyone's for admins.
func (h *Handler) RevokeToken(c *gin.Context) {
	t, err := h.Engine.RevokeToken(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, t)
}
