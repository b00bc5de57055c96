package ui

import (
	"crypto/rand"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// loginPage is what the sign-in form shows.
type loginPage struct {
	CSRF  string
	Next  string
	Email string
	// Error is a catalogue key; RetryAfter fills its {{.Seconds}}.
	Error      string
	RetryAfter int
}

// LoginForm shows the sign-in form, to a signed-in user too: signing in again (as
// someone else) replaces the session.
func (h *Handler) LoginForm(c *gin.Context) {
	h.renderLogin(c, http.StatusOK, loginPage{Next: localPath(c.Query("next"))})
}

// renderLogin shows the form with the login CSRF token, setting its double-submit
// cookie when the browser has none yet.
func (h *Handler) renderLogin(c *gin.Context, status int, p loginPage) {
	if ck, err := c.Request.Cookie(LoginCSRFCookie); err == nil && len(ck.Value) >= 16 {
		p.CSRF = ck.Value
	} else {
		p.CSRF = rand.Text()
		h.setCookie(c, LoginCSRFCookie, p.CSRF, 0)
	}
	v := h.newView(c, nil, "")
	if p.Error != "" {
		p.Error = v.T(p.Error, "Seconds", p.RetryAfter)
	}
	v.Data = p
	h.render(c, status, "login", v)
}

// loginURL is where an anonymous visitor of path is sent.
func loginURL(path string) string {
	return "/login?next=" + url.QueryEscape(path)
}
