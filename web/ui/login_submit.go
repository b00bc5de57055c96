package ui

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// Login checks the sign-in form and opens a session. A wrong password and an unknown
// email get the same page; so does a throttled attempt for either.
func (h *Handler) Login(c *gin.Context) {
	// Double submit: a forged cross-site form cannot read our cookie to copy it into the
	// field, so a mismatch means the form did not come from our page.
	ck, err := c.Request.Cookie(LoginCSRFCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(c.PostForm(csrfField))) != 1 {
		c.AbortWithStatus(http.StatusForbidden)
		return
	}
	p := loginPage{Next: localPath(c.PostForm("next")), Email: c.PostForm("email")}
	token, s, err := h.engine.SignIn(c.Request.Context(), p.Email, c.PostForm("password"),
		engine.Client{Addr: clientAddr(c.Request), UserAgent: c.Request.UserAgent()})
	var throttled *engine.ThrottledError
	switch {
	case errors.As(err, &throttled):
		secs := int(math.Ceil(throttled.RetryAfter.Seconds()))
		c.Header("Retry-After", strconv.Itoa(secs))
		p.Error, p.RetryAfter = "login.throttled", secs
		h.renderLogin(c, http.StatusTooManyRequests, p)
		return
	case errors.Is(err, engine.ErrUnauthorized):
		p.Error = "login.wrong"
		h.renderLogin(c, http.StatusUnauthorized, p)
		return
	case err != nil:
		h.log.Error("Sign in", slog.Any("err", err))
		p.Error = "login.failed"
		h.renderLogin(c, http.StatusInternalServerError, p)
		return
	}
	// Signing in again ends the session this browser had, so no old token lingers.
	if old, err := c.Request.Cookie(SessionCookie); err == nil {
		if err := h.engine.SignOut(c.Request.Context(), old.Value); err != nil {
			h.log.Warn("Could not end the replaced session", slog.Any("err", err))
		}
	}
	// A session cookie (no Max-Age): the server decides when the session ends.
	h.setCookie(c, SessionCookie, token, 0)
	h.setCookie(c, LoginCSRFCookie, "", -1)
	h.log.Debug("Session opened", slog.String("user_id", s.User.ID))
	c.Redirect(http.StatusSeeOther, p.Next)
}
