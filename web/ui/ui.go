// Package ui is the admin UI: server-rendered pages on the engine's service API. For now
// it signs users in and out; the pages of issue 13 grow here. Every state change passes
// http.CrossOriginProtection and carries a CSRF token (docs/ui.md).
package ui

import (
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// Cookie names.
const (
	// SessionCookie holds the session token.
	SessionCookie = "hookflow_session"
	// LoginCSRFCookie holds the login form's double-submit token, before any session.
	LoginCSRFCookie = "hookflow_csrf"
	// csrfField is the form field every state-changing form carries.
	csrfField = "csrf_token"
)

//go:embed templates/*.html
var templateFS embed.FS

// Config configures the UI.
type Config struct {
	// BaseURL is the server's public address; an https one makes cookies Secure even
	// behind a proxy that talks plain HTTP to us.
	BaseURL string
	Logger  *slog.Logger
}

// Handler serves the UI's pages.
type Handler struct {
	engine *engine.Engine
	log    *slog.Logger
	secure bool
	pages  map[string]*template.Template
	cop    *http.CrossOriginProtection
}

// New returns the UI handler. It panics when a template does not parse: they are
// embedded, so that is a build mistake, caught at start.
func New(eng *engine.Engine, cfg Config) *Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{engine: eng, log: log, secure: strings.HasPrefix(strings.ToLower(cfg.BaseURL), "https://"),
		pages: map[string]*template.Template{}, cop: http.NewCrossOriginProtection()}
	for _, name := range []string{"login", "home"} {
		h.pages[name] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return h
}

// CrossOrigin refuses a state-changing request that a browser says comes from another
// site (Sec-Fetch-Site, else Origin against Host).
func (h *Handler) CrossOrigin(c *gin.Context) {
	if err := h.cop.Check(c.Request); err != nil {
		h.log.Info("Cross-origin request refused", slog.String("path", c.Request.URL.Path),
			slog.String("origin", c.Request.Header.Get("Origin")))
		c.AbortWithStatus(http.StatusForbidden)
		return
	}
	c.Next()
}

// render writes a page with headers that keep it out of caches and frames.
func (h *Handler) render(c *gin.Context, status int, page string, data any) {
	hd := c.Writer.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Status(status)
	if err := h.pages[page].ExecuteTemplate(c.Writer, "layout", data); err != nil {
		h.log.Error("Render page", slog.String("page", page), slog.Any("err", err))
	}
}

// session returns the request's live session, or nil.
func (h *Handler) session(c *gin.Context) *engine.Session {
	ck, err := c.Request.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	s, err := h.engine.Session(c.Request.Context(), ck.Value)
	if err != nil {
		if !errors.Is(err, engine.ErrUnauthorized) {
			h.log.Error("Look up session", slog.Any("err", err))
		}
		return nil
	}
	return s
}

// setCookie sets an HttpOnly, SameSite=Lax cookie, Secure over HTTPS; maxAge < 0
// deletes it.
func (h *Handler) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.secure || c.Request.TLS != nil})
}

// clientAddr is the peer's IP. Forwarded headers are not trusted: anyone could send one
// to escape the per-address login throttle.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// localPath returns next if it is a path on this site, else "/". "//host" and "/\host"
// are refused: browsers read them as other hosts.
func localPath(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t") {
		return "/"
	}
	return next
}
