package ui

import "github.com/gin-gonic/gin"

// runRoutes: /runs, /runs/{id}.
func (h *Handler) runRoutes(get gin.IRoutes, post gin.IRoutes) {}
