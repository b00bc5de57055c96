package ui

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
)

// viewKey is where page and action wrappers keep the request's view in the gin context.
const viewKey = "hookflow.view"

// newView is the view of a request: language from the user's setting or the browser,
// times in the user's time zone (UTC when unset or unknown).
func (h *Handler) newView(c *gin.Context, s *engine.Session, nav string) *view {
	v := &view{Nav: nav, loc: time.UTC}
	setting := ""
	if s != nil {
		u := s.User
		v.User, v.CSRF, setting = &u, s.CSRFToken, u.Locale
		if u.TimeZone != "" {
			if loc, err := time.LoadLocation(u.TimeZone); err == nil {
				v.loc = loc
			}
		}
	}
	v.tr = newTranslator(h.catalogue, pickLanguage(setting, c.Request))
	if msg := c.Query("flash"); msg != "" && flashes[msg] {
		v.Flash = v.T("flash." + msg)
	}
	return v
}

// flashes are the one-line messages a redirect may ask for with ?flash=NAME; the
// catalogue has "flash.NAME". Only these, so a link cannot put words on our pages.
var flashes = map[string]bool{}

// registerFlash adds flash messages; area files call it from init.
func registerFlash(names ...string) {
	for _, n := range names {
		flashes[n] = true
	}
	addBuiltKeys("flash.", names...)
}

// actAs makes the request's service calls act as the session's user, through the UI.
func actAs(c *gin.Context, s *engine.Session) {
	c.Request = c.Request.WithContext(engine.WithActor(c.Request.Context(), &engine.Actor{
		UserID: s.User.ID, Email: s.User.Email, Role: s.User.Role, Via: "ui", Addr: clientAddr(c.Request)}))
}

// page wraps a GET handler: an anonymous visitor goes to the sign-in page and comes back
// after it; a signed-in one gets the view with its service calls acting as the user.
func (h *Handler) page(nav string, fn func(c *gin.Context, v *view)) gin.HandlerFunc {
	return func(c *gin.Context) {
		s := h.session(c)
		if s == nil {
			if c.GetHeader("HX-Request") != "" {
				// htmx follows a redirect inside the swapped element; this header makes it
				// load the sign-in page as a whole page instead.
				c.Header("HX-Redirect", loginURL(c.Request.URL.RequestURI()))
				c.Status(http.StatusUnauthorized)
				return
			}
			c.Redirect(http.StatusSeeOther, loginURL(c.Request.URL.RequestURI()))
			return
		}
		actAs(c, s)
		v := h.newView(c, s, nav)
		c.Set(viewKey, v)
		fn(c, v)
	}
}

// action wraps a state-changing handler (POST): it needs a session and the session's
// CSRF token in the form field csrf_token or the X-CSRF-Token header (htmx); without
// them it answers 403 and does nothing. The cross-origin check runs before it (routes).
func (h *Handler) action(nav string, fn func(c *gin.Context, v *view)) gin.HandlerFunc {
	return func(c *gin.Context) {
		s := h.session(c)
		if s == nil {
			c.AbortWithStatus(http.StatusForbidden)
			return
		}
		token := c.GetHeader("X-CSRF-Token")
		if token == "" {
			token = c.PostForm(csrfField)
		}
		if subtle.ConstantTimeCompare([]byte(s.CSRFToken), []byte(token)) != 1 {
			h.log.Info("UI form without its CSRF token refused", slog.String("path", c.Request.URL.Path))
			c.AbortWithStatus(http.StatusForbidden)
			return
		}
		actAs(c, s)
		v := h.newView(c, s, nav)
		c.Set(viewKey, v)
		fn(c, v)
	}
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Message string
}

// fail answers a failed service call with the error page and a fitting status: 403 for
// a role that may not, 404, 409, 422 with the problems found, 502 for a refusing
// service; anything else is logged and shown as a 500 without details.
func (h *Handler) fail(c *gin.Context, v *view, err error) {
	status, msg := h.errorStatus(c, v, err)
	v.Data = errorPage{Status: status, Message: msg}
	if c.GetHeader("HX-Request") != "" {
		h.renderBlock(c, status, "error", "error-box", v)
		return
	}
	h.render(c, status, "error", v)
}

// errorStatus maps a service error to a status and a message for the user.
func (h *Handler) errorStatus(c *gin.Context, v *view, err error) (int, string) {
	var invalid *workflow.ValidationError
	switch {
	case errors.As(err, &invalid):
		return http.StatusUnprocessableEntity, invalid.Error()
	case errors.Is(err, engine.ErrForbidden):
		return http.StatusForbidden, v.T("error.forbidden")
	case errors.Is(err, engine.ErrNotFound):
		return http.StatusNotFound, v.T("error.not_found")
	case errors.Is(err, engine.ErrConflict):
		return http.StatusConflict, err.Error()
	case errors.Is(err, engine.ErrUpstream):
		return http.StatusBadGateway, err.Error()
	}
	h.log.Error("UI request failed", slog.String("method", c.Request.Method), slog.String("path", c.FullPath()),
		slog.Any("err", err))
	return http.StatusInternalServerError, v.T("error.internal")
}

// redirect sends the browser to path after a successful action (post, redirect, get);
// flash names a registered message. For htmx it asks for a whole-page navigation.
func (h *Handler) redirect(c *gin.Context, path, flash string) {
	if flash != "" {
		sep := "?"
		for i := 0; i < len(path); i++ {
			if path[i] == '?' {
				sep = "&"
				break
			}
		}
		path += sep + "flash=" + flash
	}
	if c.GetHeader("HX-Request") != "" {
		c.Header("HX-Redirect", path)
		c.Status(http.StatusNoContent)
		return
	}
	c.Redirect(http.StatusSeeOther, path)
}
