package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/cmd/cli/memtrim"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/web"
	"github.com/hookflow/hookflow/web/ingress"
	"github.com/hookflow/hookflow/web/tlsconf"
)

// ServeAddrDefault is the listen address of `hookflow serve`.
const ServeAddrDefault = ":8080"

// ShutdownTimeoutDefault bounds how long in-flight HTTP requests may take after SIGTERM.
const ShutdownTimeoutDefault = 15 * time.Second

func newServeCommand(opts *Options) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server: webhooks, REST API and workers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd, opts, addr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", env("HOOKFLOW_ADDR", ""), "listen address; default :8080, or :443 with HTTPS [HOOKFLOW_ADDR]")
	f.StringVar(&opts.BaseURL, "base-url", env("HOOKFLOW_BASE_URL", ""), "public base URL of webhook addresses; default each request's host [HOOKFLOW_BASE_URL]")
	f.StringVar(&opts.AdminEmail, "admin-email", env("HOOKFLOW_ADMIN_EMAIL", ""), "email of the first admin, created at start when there is no user [HOOKFLOW_ADMIN_EMAIL]")
	opts.addSecret(f, &opts.AdminPassword, "HOOKFLOW_ADMIN_PASSWORD", "admin-password", "password of the first admin")
	f.IntVar(&opts.WebhookInFlight, "webhook-in-flight", opts.envInt("HOOKFLOW_WEBHOOK_IN_FLIGHT", ingress.MaxInFlightDefault), "webhook requests handled at once; one workflow may hold 3/4 of what the others leave free [HOOKFLOW_WEBHOOK_IN_FLIGHT]")
	f.IntVar(&opts.WebhookInFlightBytes, "webhook-in-flight-bytes", opts.envInt("HOOKFLOW_WEBHOOK_IN_FLIGHT_BYTES", ingress.MaxInFlightBytesDefault), "webhook body bytes held at once, with the same per-workflow rule [HOOKFLOW_WEBHOOK_IN_FLIGHT_BYTES]")
	f.DurationVar(&opts.WebhookReadTimeout, "webhook-read-timeout", opts.envDuration("HOOKFLOW_WEBHOOK_READ_TIMEOUT", ingress.BodyReadTimeoutDefault), "how long a webhook body may take to arrive; past it, 408 [HOOKFLOW_WEBHOOK_READ_TIMEOUT]")
	f.IntVar(&opts.WebhookMaxHeaders, "webhook-max-headers", opts.envInt("HOOKFLOW_WEBHOOK_MAX_HEADERS", ingress.MaxHeadersDefault), "header lines a webhook request may carry; beyond, 431 [HOOKFLOW_WEBHOOK_MAX_HEADERS]")
	f.IntVar(&opts.Workers, "workers", opts.envInt("HOOKFLOW_WORKERS", engine.WorkersDefault), "runs executed at once by this process; 0 ingests only [HOOKFLOW_WORKERS]")
	opts.addWorkerFlags(cmd)
	opts.SessionIdleTimeout = opts.envAge("HOOKFLOW_SESSION_IDLE_TIMEOUT", engine.SessionIdleTimeoutDefault)
	f.Var(ageValue{&opts.SessionIdleTimeout}, "session-idle-timeout", "a UI session unused this long ends [HOOKFLOW_SESSION_IDLE_TIMEOUT]")
	opts.SessionMaxAge = opts.envAge("HOOKFLOW_SESSION_MAX_AGE", engine.SessionMaxAgeDefault)
	f.Var(ageValue{&opts.SessionMaxAge}, "session-max-age", "a UI session ends this long after sign-in, however busy [HOOKFLOW_SESSION_MAX_AGE]")
	opts.addTLSFlags(cmd)
	return cmd
}

func serve(cmd *cobra.Command, opts *Options, addr string) error {
	if opts.RetentionMaxRuns < 0 {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--retention-max-runs must be 0 or more, got %d", opts.RetentionMaxRuns)}
	}
	if opts.Workers < 0 {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--workers must be 0 or more, got %d", opts.Workers)}
	}
	for _, l := range []struct {
		flag string
		v    int64
	}{{"--webhook-in-flight", int64(opts.WebhookInFlight)}, {"--webhook-in-flight-bytes", int64(opts.WebhookInFlightBytes)},
		{"--webhook-read-timeout", int64(opts.WebhookReadTimeout)}, {"--webhook-max-headers", int64(opts.WebhookMaxHeaders)},
		{"--session-idle-timeout", int64(opts.SessionIdleTimeout)}, {"--session-max-age", int64(opts.SessionMaxAge)}} {
		if l.v <= 0 {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s must be more than 0", l.flag)}
		}
	}
	if (opts.AdminEmail == "") != (opts.AdminPassword == "") {
		return &ExitError{Code: ExitUsage, Err: errors.New("set both HOOKFLOW_ADMIN_EMAIL and HOOKFLOW_ADMIN_PASSWORD, or neither")}
	}
	log, err := opts.logger(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	tlsConf, err := opts.tlsConfig(log)
	if err != nil {
		return err
	}
	p := process{
		addr:   addr,
		banner: "Hookflow listening",
		handler: func(eng *engine.Engine, log *slog.Logger) http.Handler {
			h := web.New(eng, web.Config{BaseURL: opts.BaseURL, MaxInFlight: opts.WebhookInFlight,
				MaxInFlightBytes: int64(opts.WebhookInFlightBytes), WebhookReadTimeout: opts.WebhookReadTimeout,
				MaxHeaders: opts.WebhookMaxHeaders, Logger: log})
			if tlsConf != nil {
				h = tlsconf.HSTS(h, opts.TLS.HSTSMaxAge)
			}
			return h
		},
		setup: func(ctx context.Context, eng *engine.Engine) error {
			return eng.EnsureAdmin(ctx, opts.AdminEmail, opts.AdminPassword)
		},
		ready: func(ctx context.Context, eng *engine.Engine, log *slog.Logger) {
			hintFirstUser(ctx, eng, log, opts)
		},
	}
	if p.addr == "" {
		p.addr = ServeAddrDefault
	}
	if tlsConf != nil {
		p.tls, p.httpAddr, p.baseURL = tlsConf, opts.TLS.httpAddr(), opts.BaseURL
		if addr == "" {
			p.addr = ServeTLSAddrDefault
		}
	}
	return runProcess(cmd, opts, p)
}

// hintFirstUser tells a new installation how to get in: with no account there is no API
// token, and nothing else says how to make one.
func hintFirstUser(ctx context.Context, eng *engine.Engine, log *slog.Logger, opts *Options) {
	n, err := eng.CountUsers(ctx)
	if err != nil {
		log.Warn("Count users failed", slog.Any("err", err))
		return
	}
	if n > 0 {
		return
	}
	self := selfCommand(os.Args[0], opts)
	log.Info("No user yet: create the first admin and an API token with these commands, "+
		"or restart with HOOKFLOW_ADMIN_EMAIL and HOOKFLOW_ADMIN_PASSWORD set",
		slog.String("user_create", self+" user create --email you@example.com --password 'change me please'"),
		slog.String("token_create", self+" token create --email you@example.com --name cli"))
}

// selfCommand is the command line that reaches this process's database from another
// terminal: the program as it was started (go run's temporary binary becomes
// `go run ./cmd/hookflow`) and the data settings that differ from the defaults. A
// PostgreSQL URL's password is masked, never logged.
func selfCommand(arg0 string, opts *Options) string {
	words := []string{arg0}
	if strings.Contains(arg0, string(filepath.Separator)+"go-build") {
		words = []string{"go", "run", "./cmd/hookflow"}
	}
	if opts.DataDir != engine.DataDirDefault && opts.DataDir != "" {
		words = append(words, "--data-dir", opts.DataDir)
	}
	if opts.DatabaseURL != "" {
		dsn := opts.DatabaseURL
		if u, err := url.Parse(dsn); err == nil && u.User != nil {
			dsn = u.Redacted()
		}
		words = append(words, "--database-url", dsn)
	}
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	return strings.Join(words, " ")
}

// shellQuote returns s as one POSIX shell word.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// localURL is the URL a process listening on addr answers at on this machine: an
// unspecified host (":8080", "0.0.0.0") is reached as localhost.
func localURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// releaseStartupPages reads HOOKFLOW_RELEASE_STARTUP_PAGES: whether the executable's pages
// that start-up touched are released once the process listens (docs/performance.md).
func releaseStartupPages() (bool, error) {
	v := strings.TrimSpace(os.Getenv("HOOKFLOW_RELEASE_STARTUP_PAGES"))
	if v == "" {
		return releaseStartupPagesDefault, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("HOOKFLOW_RELEASE_STARTUP_PAGES=%q: want true or false", v)
	}
	return on, nil
}

// releaseStartupPagesDefault is HOOKFLOW_RELEASE_STARTUP_PAGES when it is not set.
const releaseStartupPagesDefault = true

// loopbackAddr checks that addr (host:port) listens on loopback only: profiling
// endpoints show memory contents and may stall the process, so they never face a network.
func loopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("HOOKFLOW_PPROF_ADDR=%q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("HOOKFLOW_PPROF_ADDR=%q: profiling listens on loopback only; use 127.0.0.1:PORT or [::1]:PORT", addr)
}

// startPprof serves net/http/pprof on addr, for profiling a running process.
func startPprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil {
			log.Warn("pprof server stopped", slog.String("addr", addr), slog.Any("err", err))
		}
	}()
	log.Info("Profiling endpoints on", slog.String("addr", addr))
}

// process describes a long-running command for runProcess.
type process struct {
	addr    string // listen address
	banner  string // the log message once it listens
	handler func(*engine.Engine, *slog.Logger) http.Handler
	setup   func(context.Context, *engine.Engine) error // optional; runs before listening
	// ready is optional; it runs once the process listens, after the banner and before
	// any signal is handled, so everything it logs comes before "Shutting down".
	ready func(context.Context, *engine.Engine, *slog.Logger)
	// tls, when set, makes addr an HTTPS listener; httpAddr ("" for none) then serves
	// ACME HTTP-01 and redirects to https (on baseURL when it is an https URL).
	tls      *tlsconf.Config
	httpAddr string
	baseURL  string
}

// runProcess opens the engine, starts its workers and serves p's handler until SIGINT or
// SIGTERM, then shuts down in order: stop taking requests (so every webhook acknowledged
// is also stored), then stop the workers, whose runs finish their current step and go
// back to the queue.
func runProcess(cmd *cobra.Command, opts *Options, p process) error {
	releasePages, err := releaseStartupPages()
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	gcUserSet := gcTargetFromEnv()
	pprofAddr := os.Getenv("HOOKFLOW_PPROF_ADDR")
	if pprofAddr != "" {
		if err := loopbackAddr(pprofAddr); err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
	}
	workers := opts.Workers
	if workers == 0 {
		opts.Workers = -1 // the engine reads 0 as "default"
	}
	defer func() { opts.Workers = workers }()

	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	eng, log, err := opts.openEngine(cmd)
	if err != nil {
		return err
	}
	defer func() {
		if err := eng.Close(); err != nil {
			log.Error("Close engine failed", slog.Any("err", err))
		}
		log.Info("Stopped")
	}()
	if err := eng.CheckSecretKey(ctx); err != nil {
		return err
	}
	if p.setup != nil {
		if err := p.setup(ctx, eng); err != nil {
			return err
		}
	}
	var tlsSetup *tlsconf.Setup
	if p.tls != nil {
		// After the engine: the ACME cache may be its database.
		if tlsSetup, err = opts.tlsSetup(*p.tls, eng, log); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return listenHint(p.addr, err)
	}
	// Workflows may never call this process itself (its API, /metrics, pprof); the
	// workers start below, after the policy knows the addresses.
	if err := eng.AddListener(ln.Addr().String()); err != nil {
		_ = ln.Close()
		return err
	}
	srv := web.NewServer(p.handler(eng, log), log)
	var plain *http.Server
	if p.tls != nil {
		srv.TLSConfig = tlsSetup.TLS
		if plain, err = startPlain(eng, p, tlsSetup, ln.Addr(), log); err != nil {
			_ = ln.Close()
			return err
		}
	}
	if pprofAddr != "" {
		if err := eng.AddListener(pprofAddr); err != nil {
			log.Warn("Outbound policy cannot protect the pprof address", slog.String("addr", pprofAddr), slog.Any("err", err))
		}
		startPprof(pprofAddr, log)
	}
	eng.Start(context.WithoutCancel(ctx))
	shown := localURL(ln.Addr())
	if p.tls != nil {
		shown = "https://" + strings.TrimPrefix(shown, "http://")
	}
	if !gcUserSet {
		go newGCTuner(log).run(ctx, gcTunerInterval)
	}
	log.Info(p.banner, slog.String("addr", ln.Addr().String()), slog.String("url", shown),
		slog.String("database", eng.Dialect()), slog.Int("workers", max(workers, 0)))
	serveErr := make(chan error, 1)
	go func() {
		if p.tls != nil {
			serveErr <- srv.ServeTLS(ln, "", "") // certificates come from srv.TLSConfig
			return
		}
		serveErr <- srv.Serve(ln)
	}()
	if p.ready != nil {
		p.ready(ctx, eng, log)
	}
	// Starting leaves garbage behind (the embedded connector files parsed, the UI's
	// templates checked) that stays resident until a later GC and the background
	// scavenger return it, minutes later on an idle server: return it now, once.
	debug.FreeOSMemory()
	if releasePages {
		if n, err := memtrim.Release(ctx, log); err != nil {
			log.Debug("Release start-up pages failed", slog.Any("err", err))
		} else {
			log.Debug("Released start-up pages", slog.Int64("bytes", n))
		}
	}
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	log.Info("Shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeoutDefault)
	defer cancel()
	if plain != nil {
		if err := plain.Shutdown(sctx); err != nil {
			log.Warn("Plain HTTP shutdown incomplete", slog.Any("err", err))
		}
	}
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("HTTP shutdown incomplete", slog.Any("err", err))
	}
	return nil
}

// startPlain opens p's plain HTTP listener beside the HTTPS one at httpsAddr, or
// returns nil when it is off.
func startPlain(eng *engine.Engine, p process, tlsSetup *tlsconf.Setup, httpsAddr net.Addr, log *slog.Logger) (*http.Server, error) {
	if p.httpAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", p.httpAddr)
	if err != nil {
		return nil, listenHint(p.httpAddr, err)
	}
	if err := eng.AddListener(ln.Addr().String()); err != nil {
		_ = ln.Close()
		return nil, err
	}
	_, port, _ := net.SplitHostPort(httpsAddr.String())
	srv := web.NewServer(tlsSetup.HTTPHandler(p.baseURL, port), log)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("Plain HTTP listener stopped", slog.String("addr", ln.Addr().String()), slog.Any("err", err))
		}
	}()
	log.Info("Redirecting HTTP to HTTPS", slog.String("addr", ln.Addr().String()))
	return srv, nil
}
