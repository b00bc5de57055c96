package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// ListUsers handles GET /api/v1/users (admins): every account, by email.
func (h *Handler) ListUsers(c *gin.Context) {
	us, err := h.Engine.ListUsers(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"users": us})
}
