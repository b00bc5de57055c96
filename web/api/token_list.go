package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// ListTokens handles GET /api/v1/tokens: the caller's own tokens; admins may ask for a
// user's with ?user_id= or everyone's with ?all=true. Never the tokens themselves.
func (h *Handler) ListTokens(c *gin.Context) {
	f := engine.TokenFilter{UserID: c.Query("user_id"), All: c.Query("all") == "true" || c.Query("all") == "1"}
	ts, err := h.Engine.ListTokens(c.Request.Context(), f)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"tokens": ts})
}
