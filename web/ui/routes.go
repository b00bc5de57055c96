package ui

import "github.com/gin-gonic/gin"

// Register adds the UI's routes to r. GET pages go through h.page (sign-in required),
// state changes through the cross-origin check and h.action (session and CSRF token).
func (h *Handler) Register(r *gin.Engine) {
	r.GET("/assets/:file", h.Asset)
	r.GET("/login", h.LoginForm)
	post := r.Group("/", h.CrossOrigin)
	post.POST("/login", h.Login)
	post.POST("/logout", h.Logout)
	post.POST("/logout/everywhere", h.LogoutEverywhere)

	h.dashboardRoutes(r, post)
	h.workflowRoutes(r, post)
	h.runRoutes(r, post)
	h.connectionRoutes(r, post)
	h.settingsRoutes(r, post)
	h.builderRoutes(r, post)
	h.builderToolRoutes(r, post)
}
