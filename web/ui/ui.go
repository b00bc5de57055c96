// Package ui is the admin UI: server-rendered pages on the engine's service API (never the
// store), htmx for partial updates. Every state change passes
// http.CrossOriginProtection and carries a CSRF token; roles are decided by the engine
// from the session's actor (docs/ui.md).
package ui

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/nicksnyder/go-i18n/v2/i18n"

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

// Templates: layout.html wraps every page, _*.html are partials shared by all pages, and
// every other file is one page named after it ("runs.html" is page "runs"), defining
// the blocks "title" and "main".
//
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
	engine  *engine.Engine
	log     *slog.Logger
	baseURL string
	secure  bool
	// pageFiles lists each page's template files: the layout, the partials, the page.
	pageFiles map[string][]string
	// pages caches the parsed pages. A page is parsed on its first render, not at start:
	// the parse trees of every page were the largest part of an idle server's heap.
	pagesMu   sync.Mutex
	pages     map[string]*template.Template
	cop       *http.CrossOriginProtection
	assets    *assets
	catalogue *i18n.Bundle
}

// New returns the UI handler. It panics when a template, an asset or the catalogue does
// not load: they are embedded, so that is a build mistake, caught at start and by tests.
func New(eng *engine.Engine, cfg Config) *Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{engine: eng, log: log, baseURL: strings.TrimRight(cfg.BaseURL, "/"),
		secure:    strings.HasPrefix(strings.ToLower(cfg.BaseURL), "https://"),
		pageFiles: map[string][]string{}, pages: map[string]*template.Template{}, cop: http.NewCrossOriginProtection()}
	var err error
	if h.assets, err = loadAssets(); err != nil {
		panic(err)
	}
	if h.catalogue, err = loadCatalogue(); err != nil {
		panic(err)
	}
	if err := h.parsePages(); err != nil {
		panic(err)
	}
	return h
}

// parsePages lists the pages and parses each one with the layout and the partials, so a
// broken template still fails at start; the parsed pages are dropped (see pageTemplate).
func (h *Handler) parsePages() error {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("list templates: %w", err)
	}
	common := []string{"templates/layout.html"}
	var pages []string
	for _, f := range files {
		switch base := path.Base(f); {
		case base == "layout.html":
		case strings.HasPrefix(base, "_"):
			common = append(common, f)
		default:
			pages = append(pages, f)
		}
	}
	for _, f := range pages {
		name := strings.TrimSuffix(path.Base(f), ".html")
		h.pageFiles[name] = append(common[:len(common):len(common)], f)
		if _, err := h.parsePage(name); err != nil {
			return err
		}
	}
	return nil
}

// parsePage parses one page's files.
func (h *Handler) parsePage(name string) (*template.Template, error) {
	files, ok := h.pageFiles[name]
	if !ok {
		return nil, errors.New("no such page")
	}
	t, err := template.New("layout").Funcs(h.templateFuncs()).ParseFS(templateFS, files...)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", files[len(files)-1], err)
	}
	return t, nil
}

// pageTemplate returns a parsed page, parsing it on its first use.
func (h *Handler) pageTemplate(name string) (*template.Template, error) {
	h.pagesMu.Lock()
	defer h.pagesMu.Unlock()
	if t, ok := h.pages[name]; ok {
		return t, nil
	}
	t, err := h.parsePage(name)
	if err != nil {
		return nil, err
	}
	h.pages[name] = t
	return t, nil
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

// contentSecurityPolicy allows scripts, styles and images from this site only: no
// inline script or style, no eval (htmx is configured without it), no other origin.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// render writes a whole page with headers that keep it out of caches and frames.
func (h *Handler) render(c *gin.Context, status int, page string, v *view) {
	h.renderBlock(c, status, page, "layout", v)
}

// renderBlock writes one named template of a page: "layout" for the whole page, or a
// block an htmx request swaps in.
func (h *Handler) renderBlock(c *gin.Context, status int, page, block string, v *view) {
	hd := c.Writer.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("Vary", "Accept-Language, HX-Request")
	t, err := h.pageTemplate(page)
	if err != nil {
		h.log.Error("Render page", slog.String("page", page), slog.Any("err", err))
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Status(status)
	if err := t.ExecuteTemplate(c.Writer, block, v); err != nil {
		h.log.Error("Render page", slog.String("page", page), slog.String("block", block), slog.Any("err", err))
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
