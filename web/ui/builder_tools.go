package ui

import "github.com/gin-gonic/gin"

// builderToolRoutes: the builder's helpers, /workflows/{id}/builder/... (listen for a test
// event, test a step, the variable picker).
func (h *Handler) builderToolRoutes(get gin.IRoutes, post gin.IRoutes) {}
