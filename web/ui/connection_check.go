package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// connectionCheck runs the connector's connection test and shows whether it worked: the
// result box alone for htmx, else the whole page. A failed test is a result (200), not
// an error.
func (h *Handler) connectionCheck(c *gin.Context, v *view) {
	res, err := h.engine.TestConnection(c.Request.Context(), c.Param("name"))
	if err != nil {
		h.fail(c, v, err)
		return
	}
	if c.GetHeader("HX-Request") != "" {
		v.Data = &connectionPage{Test: res}
		h.renderBlock(c, http.StatusOK, "connection", "test-result", v)
		return
	}
	p := h.loadConnectionPage(c, v)
	if p == nil {
		return
	}
	p.Test = res
	h.render(c, http.StatusOK, "connection", v)
}
