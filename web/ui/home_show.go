package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// homePage is the placeholder dashboard's data.
type homePage struct {
	User engine.User
	CSRF string
}

// Home greets the signed-in user; the dashboard replaces it.
func (h *Handler) Home(c *gin.Context) {
	s := h.session(c)
	if s == nil {
		c.Redirect(http.StatusSeeOther, loginURL(c.Request.URL.RequestURI()))
		return
	}
	h.render(c, http.StatusOK, "home", homePage{User: s.User, CSRF: s.CSRFToken})
}
