package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// dashboardRoutes: the dashboard at /.
func (h *Handler) dashboardRoutes(get gin.IRoutes, post gin.IRoutes) {
	get.GET("/", h.page("dashboard", h.dashboard))
}

// dashboard is the landing page after sign-in.
func (h *Handler) dashboard(c *gin.Context, v *view) {
	h.render(c, http.StatusOK, "dashboard", v)
}
