package ui

import "github.com/gin-gonic/gin"

// settingsRoutes: /settings/users, /settings/tokens, /settings/account, /settings/audit.
func (h *Handler) settingsRoutes(get gin.IRoutes, post gin.IRoutes) {}
