package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// UpdateUser handles PATCH /api/v1/users/{id} (admins): {"role": "editor"} and/or
// {"disabled": true}. Demoting or disabling the last active admin is 409.
func (h *Handler) UpdateUser(c *gin.Context) {
	var in engine.UserPatch
	if !h.bindJSON(c, &in) {
		return
	}
	u, err := h.Engine.UpdateUser(c.Request.Context(), c.Param("id"), in)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, u)
}
