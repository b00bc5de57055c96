package ui

import "github.com/gin-gonic/gin"

// workflowRoutes: /workflows, /workflows/{id} (overview, inspector, runs, versions, JSON).
func (h *Handler) workflowRoutes(get gin.IRoutes, post gin.IRoutes) {}
