package web

import (
	"log/slog"
	"net/http"
	"time"
)

// HTTP server limits of every Hookflow listener.
const (
	// MaxHeaderBytes caps a request's header block; Go answers 431 beyond it (with 4 KiB
	// of slack) before any handler runs. Webhook senders need a few KiB at most.
	MaxHeaderBytes = 64 << 10
	// ReadHeaderTimeout bounds how long a client may take to send its headers.
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds a whole request; webhook bodies have a shorter deadline of
	// their own (Config.WebhookReadTimeout).
	ReadTimeout = 60 * time.Second
	// WriteTimeout bounds the answer, result-mode waits included.
	WriteTimeout = 60 * time.Second
	// IdleTimeout closes keep-alive connections left idle.
	IdleTimeout = 120 * time.Second
)

// NewServer returns the http.Server that serves h, with the limits above; cmd/cli and
// the tests use it alike, so that tests meet the real timeouts and header limits.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           h,
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
