package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// connectionDelete deletes a connection no workflow uses. One in use stays, and its
// page says which workflows use it (409).
func (h *Handler) connectionDelete(c *gin.Context, v *view) {
	name := c.Param("name")
	err := h.engine.DeleteConnection(c.Request.Context(), name)
	if errors.Is(err, engine.ErrConflict) {
		p := h.loadConnectionPage(c, v)
		if p == nil {
			return
		}
		names := make([]string, len(p.UsedBy))
		for i, w := range p.UsedBy {
			names[i] = w.Name
		}
		p.DeleteError = v.T("connection.delete_in_use", "Workflows", strings.Join(names, ", "))
		h.render(c, http.StatusConflict, "connection", v)
		return
	}
	if err != nil {
		h.fail(c, v, err)
		return
	}
	h.redirect(c, "/connections", "connection_deleted")
}
