package ui

import "github.com/gin-gonic/gin"

// builderRoutes: the workflow builder, /workflows/{id}/edit (issue 14).
func (h *Handler) builderRoutes(get gin.IRoutes, post gin.IRoutes) {}
