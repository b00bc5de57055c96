package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// ListAudit handles GET /api/v1/audit?kind=&target=&actor=&limit=&cursor=. The engine
// refuses anyone but an admin.
func (h *Handler) ListAudit(c *gin.Context) {
	limit, ok := limitParam(c)
	if !ok {
		return
	}
	page, err := h.Engine.ListAudit(c.Request.Context(), engine.AuditFilter{
		Kind: c.Query("kind"), Target: c.Query("target"), Actor: c.Query("actor"), Cursor: c.Query("cursor"), Limit: limit,
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, page)
}
