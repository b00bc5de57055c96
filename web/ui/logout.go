package ui

import (
	"crypto/subtle"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// Logout ends this browser's session.
func (h *Handler) Logout(c *gin.Context) {
	s, token := h.formSession(c)
	if s == nil {
		return
	}
	if err := h.engine.SignOut(c.Request.Context(), token); err != nil {
		h.log.Error("Sign out", slog.Any("err", err))
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	h.setCookie(c, SessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/login")
}

// LogoutEverywhere ends every session of the signed-in user, this one included.
func (h *Handler) LogoutEverywhere(c *gin.Context) {
	s, _ := h.formSession(c)
	if s == nil {
		return
	}
	if err := h.engine.SignOutEverywhere(c.Request.Context(), s.User.ID); err != nil {
		h.log.Error("Sign out everywhere", slog.Any("err", err))
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	h.setCookie(c, SessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/login")
}

// formSession returns the session of a posted form and its cookie token after checking
// the form's CSRF token. It answers the request itself and returns nil when there is no
// session (to the sign-in page) or the token is wrong (403).
func (h *Handler) formSession(c *gin.Context) (*engine.Session, string) {
	s := h.session(c)
	if s == nil {
		c.Redirect(http.StatusSeeOther, "/login")
		c.Abort()
		return nil, ""
	}
	if subtle.ConstantTimeCompare([]byte(s.CSRFToken), []byte(c.PostForm(csrfField))) != 1 {
		c.AbortWithStatus(http.StatusForbidden)
		return nil, ""
	}
	ck, _ := c.Request.Cookie(SessionCookie)
	return s, ck.Value
}
