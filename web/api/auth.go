package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

const userKey = "hookflow.user"

// RequireToken authenticates API requests with "Authorization: Bearer <token>". Viewers
// may only read; writes need an editor or admin.
func (h *Handler) RequireToken(c *gin.Context) {
	auth := c.GetHeader("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		c.Header("WWW-Authenticate", `Bearer realm="hookflow"`)
		Abort(c, http.StatusUnauthorized, CodeUnauthorized, "missing API token: send Authorization: Bearer <token>")
		return
	}
	u, err := h.Engine.Authenticate(c.Request.Context(), strings.TrimSpace(token))
	if errors.Is(err, engine.ErrUnauthorized) {
		c.Header("WWW-Authenticate", `Bearer realm="hookflow", error="invalid_token"`)
		Abort(c, http.StatusUnauthorized, CodeUnauthorized, "invalid API token")
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead && u.Role == engine.RoleViewer {
		Abort(c, http.StatusForbidden, CodeForbidden, "viewers cannot change anything")
		return
	}
	c.Set(userKey, u)
	c.Next()
}
