// Package web is Hookflow's HTTP server: the webhook ingress (/hooks), the REST API
// (/api/v1) and the health endpoints, on gin. It talks to the engine's service API only.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/web/api"
	"github.com/hookflow/hookflow/web/ingress"
	"github.com/hookflow/hookflow/web/ui"
)

// MaxHeadersDefault is the default of Config.MaxHeaders.
const MaxHeadersDefault = ingress.MaxHeadersDefault

// Config configures the HTTP handler.
type Config struct {
	// BaseURL is the public address webhook URLs are built on; empty means each
	// request's own host. An https one makes the UI's cookies Secure.
	BaseURL string
	// MaxInFlight caps webhook requests handled at once; zero means
	// ingress.MaxInFlightDefault. Each workflow may hold at most 3/4 of what the others
	// leave free (see ingress.limiter).
	MaxInFlight int
	// MaxInFlightBytes caps the webhook body bytes held at once, with the same per-workflow
	// rule; zero means ingress.MaxInFlightBytesDefault.
	MaxInFlightBytes int64
	// WebhookReadTimeout bounds how long a webhook body may take to arrive; zero means
	// ingress.BodyReadTimeoutDefault.
	WebhookReadTimeout time.Duration
	// MaxHeaders caps a webhook request's header lines; zero means
	// ingress.MaxHeadersDefault.
	MaxHeaders int
	Logger     *slog.Logger
}

// New returns the HTTP handler of a Hookflow server.
func New(eng *engine.Engine, cfg Config) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(securityHeaders, recoverer(log), requestLog(log))
	r.NoRoute(func(c *gin.Context) {
		api.Abort(c, http.StatusNotFound, api.CodeNotFound, "no such endpoint")
	})
	r.NoMethod(func(c *gin.Context) {
		api.Abort(c, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, "method not allowed")
	})
	a := &api.Handler{Engine: eng, BaseURL: cfg.BaseURL, Logger: log}
	in := ingress.New(eng, ingress.Config{BaseURL: cfg.BaseURL, MaxInFlight: cfg.MaxInFlight, MaxInFlightBytes: cfg.MaxInFlightBytes,
		BodyReadTimeout: cfg.WebhookReadTimeout, MaxHeaders: cfg.MaxHeaders, Logger: log})
	u := ui.New(eng, ui.Config{BaseURL: cfg.BaseURL, Logger: log})
	routes(r, a, in, u, &health{engine: eng})
	return r
}

// NewOps returns the handler of a worker process: health and metrics only, no API and
// no webhooks.
func NewOps(eng *engine.Engine, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(securityHeaders, recoverer(log))
	r.NoRoute(func(c *gin.Context) {
		api.Abort(c, http.StatusNotFound, api.CodeNotFound, "a worker serves only /healthz, /readyz and /metrics")
	})
	h := &health{engine: eng}
	r.GET("/healthz", h.live)
	r.GET("/readyz", h.ready)
	r.GET("/metrics", h.metrics)
	return r
}

// recoverer turns a panic into a logged 500 instead of a dropped connection.
func recoverer(log *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, err any) {
		log.Error("Panic serving request", slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path), slog.Any("err", err))
		api.Abort(c, http.StatusInternalServerError, api.CodeInternal, "internal error; see the server log")
	})
}

func requestLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		if !log.Enabled(c.Request.Context(), slog.LevelDebug) {
			return
		}
		path := c.Request.URL.Path
		if strings.HasPrefix(path, "/hooks/") {
			path = "/hooks/…" // the token is a credential
		}
		log.Debug("HTTP request", slog.String("method", c.Request.Method), slog.String("path", path),
			slog.Int("status", c.Writer.Status()), slog.Duration("took", time.Since(start)))
	}
}

type health struct {
	engine *engine.Engine
}

func (h *health) live(c *gin.Context) {
	c.PureJSON(http.StatusOK, gin.H{"status": "ok"})
}

func (h *health) metrics(c *gin.Context) {
	h.engine.MetricsHandler().ServeHTTP(c.Writer, c.Request)
}

func (h *health) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := h.engine.Ready(ctx); err != nil {
		c.PureJSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "database not reachable"})
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"status": "ok", "database": h.engine.Dialect()})
}
