package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// settingsRoutes: /settings/users, /settings/tokens, /settings/account, /settings/audit.
func (h *Handler) settingsRoutes(get gin.IRoutes, post gin.IRoutes) {
	get.GET("/settings", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/settings/account") })
	get.GET("/settings/account", h.page("settings", h.accountShow))
	post.POST("/settings/account", h.action("settings", h.accountSave))
	post.POST("/settings/account/password", h.action("settings", h.accountPassword))
	get.GET("/settings/tokens", h.page("settings", h.tokenList))
	post.POST("/settings/tokens", h.action("settings", h.tokenCreate))
	post.POST("/settings/tokens/:id/revoke", h.action("settings", h.tokenRevoke))
	get.GET("/settings/users", h.page("settings", h.userList))
	post.POST("/settings/users", h.action("settings", h.userCreate))
	post.POST("/settings/users/:id", h.action("settings", h.userSave))
	get.GET("/settings/audit", h.page("settings", h.auditList))
}

func init() {
	registerFlash("account_saved", "password_changed", "token_revoked", "user_created", "user_saved")
	addBuiltKeys("settings.tab.", "account", "tokens", "users", "audit")
}

// settingsTab is one tab of the settings pages; Admin ones are shown to admins only (the
// engine refuses the others all the same).
type settingsTab struct {
	Name  string
	Admin bool
}

var settingsTabs = []settingsTab{{"account", false}, {"tokens", false}, {"users", true}, {"audit", true}}

// settingsHeader is what every settings page shows above its content: the tabs
// (templates/_settings_tabs.html). Each settings page's data embeds it.
type settingsHeader struct {
	// Tab is the current tab.
	Tab string
}

// Tabs lists the tabs for the template.
func (settingsHeader) Tabs() []settingsTab { return settingsTabs }
