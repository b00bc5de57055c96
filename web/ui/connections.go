package ui

import "github.com/gin-gonic/gin"

// connectionRoutes: /connections, /connections/{name}.
func (h *Handler) connectionRoutes(get gin.IRoutes, post gin.IRoutes) {}
