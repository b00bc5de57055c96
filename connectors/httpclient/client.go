package httpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// Defaults for Options. They are exported so that callers and docs can name them.
const (
	// TimeoutDefault bounds a whole request, body read included. The contract's range for
	// outgoing calls is 15–30 s; API calls take the upper end.
	TimeoutDefault = 30 * time.Second
	// MaxResponseBytesDefault caps how much of a response body is read: 10 MiB is far
	// above any JSON API answer yet keeps a misbehaving endpoint from filling memory.
	// Bodies above the cap are cut and Response.Truncated is set.
	MaxResponseBytesDefault int64 = 10 << 20
	// MaxIdleConnsPerHostDefault is the keep-alive pool size per host. net/http's default
	// of 2 makes a busy worker pool reopen connections to the same API all the time.
	MaxIdleConnsPerHostDefault = 128
	// DialTimeoutDefault bounds connecting, so an unroutable host fails well before the
	// request timeout.
	DialTimeoutDefault = 10 * time.Second
)

// modulePath is Hookflow's module, looked up in the build info for the User-Agent.
const modulePath = "github.com/hookflow/hookflow"

// UserAgentDefault is sent when Options.UserAgent is empty. The version comes from the
// binary's build info ("dev" for local builds).
var UserAgentDefault = "Hookflow/" + buildVersion() + " (+https://github.com/hookflow/hookflow)"

// Options configures a Client. The zero value is usable: WithDefaults fills it.
type Options struct {
	// Timeout bounds each request, from dialing to the end of the body read.
	// Default TimeoutDefault.
	Timeout time.Duration
	// MaxResponseBytes caps the response body read into Response.Body.
	// Default MaxResponseBytesDefault.
	MaxResponseBytes int64
	// UserAgent is sent unless the request sets its own. Default UserAgentDefault.
	UserAgent string
	// Transport replaces the pooled transport, for tests. When set, MaxIdleConnsPerHost is
	// ignored.
	Transport http.RoundTripper
	// MaxIdleConnsPerHost sizes the keep-alive pool. Default MaxIdleConnsPerHostDefault.
	MaxIdleConnsPerHost int
	// Logger receives the debug-level request log. Default: discard. Client.WithLogger and
	// Client.ForCall replace it per call.
	Logger *slog.Logger
}

// WithDefaults returns a copy of o with zero values replaced by the defaults.
func (o Options) WithDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = TimeoutDefault
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = MaxResponseBytesDefault
	}
	if o.UserAgent == "" {
		o.UserAgent = UserAgentDefault
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = MaxIdleConnsPerHostDefault
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Client sends requests with Hookflow's outbound conventions. It is safe for concurrent
// use. The With… methods return cheap copies that share the connection pools.
type Client struct {
	pools   *pools
	opts    Options
	secrets []string
	redact  func(string) string
}

// pools holds one http.Client, with its own connection pool, per Dialer: a connection
// opened under one outbound policy is never reused under another.
type pools struct {
	mu             sync.Mutex
	fixed          *http.Client // Options.Transport, when set
	byDialer       map[connectors.Dialer]*pooled
	maxIdlePerHost int
}

type pooled struct {
	hc  *http.Client
	gen uint64 // the Policy's generation its idle connections were checked under
}

// New returns a Client with pooled keep-alive transports that never follow redirects.
// Each request dials through the Dialer of its context (connectors.DialerFrom), or
// through a policy refusing link-local and cloud metadata addresses when there is none.
func New(opts Options) *Client {
	opts = opts.WithDefaults()
	p := &pools{byDialer: map[connectors.Dialer]*pooled{}, maxIdlePerHost: opts.MaxIdleConnsPerHost}
	if opts.Transport != nil {
		p.fixed = newHTTPClient(opts.Transport)
	}
	return &Client{pools: p, opts: opts, redact: identity}
}

// forDialer returns the http.Client whose transport dials through d.
func (p *pools) forDialer(d connectors.Dialer) *http.Client {
	if p.fixed != nil {
		return p.fixed
	}
	var gen uint64
	policy, isPolicy := d.(*Policy)
	if isPolicy {
		gen = policy.generation()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pc, ok := p.byDialer[d]
	if !ok {
		pc = &pooled{hc: newHTTPClient(newTransport(p.maxIdlePerHost, d)), gen: gen}
		p.byDialer[d] = pc
	}
	if pc.gen != gen {
		// The policy now refuses more (a new own listener): a kept-alive connection must
		// not carry a request it would refuse.
		pc.hc.CloseIdleConnections()
		pc.gen = gen
	}
	return pc.hc
}

func newHTTPClient(rt http.RoundTripper) *http.Client {
	return &http.Client{
		Transport: rt,
		// A 3xx is handed back as is; Classify counts it as a failure. Following it would
		// also need the outbound policy checked on each hop.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		// No Client.Timeout: Do enforces the timeout through the context so that the
		// timeout can differ per call while the pool is shared.
	}
}

func newTransport(maxIdlePerHost int, d connectors.Dialer) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = d.DialContext
	t.MaxIdleConnsPerHost = maxIdlePerHost
	if t.MaxIdleConns < 4*maxIdlePerHost {
		t.MaxIdleConns = 4 * maxIdlePerHost
	}
	return t
}

// Timeout returns the per-request timeout this Client applies.
func (c *Client) Timeout() time.Duration { return c.opts.Timeout }

// WithTimeout returns a copy of c whose requests time out after d (d <= 0 keeps the
// current timeout). The copy shares c's connection pool.
func (c *Client) WithTimeout(d time.Duration) *Client {
	out := *c
	if d > 0 {
		out.opts.Timeout = d
	}
	return &out
}

// WithLogger returns a copy of c that logs to l (nil keeps the current logger).
func (c *Client) WithLogger(l *slog.Logger) *Client {
	out := *c
	if l != nil {
		out.opts.Logger = l
	}
	return &out
}

// WithSecrets returns a copy of c that also redacts the given values (and their URL
// encodings) from its logs, its errors and the status-error snippets of its responses.
func (c *Client) WithSecrets(secrets ...string) *Client {
	out := *c
	out.secrets = append(append([]string(nil), c.secrets...), secrets...)
	out.redact = SecretRedactor(out.secrets...)
	return &out
}

// ForCall returns a copy of c set up for one step call: it logs to the call's logger and
// redacts the call's connection secrets.
func (c *Client) ForCall(call *connectors.Call) *Client {
	if call == nil {
		return c
	}
	return c.WithLogger(call.Logger).WithSecrets(call.Connection.SecretValues()...)
}

// Response is a response whose body has been read (up to the cap) and closed.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Body is the response body, at most Options.MaxResponseBytes long.
	Body []byte
	// Truncated says the body was longer than the cap and has been cut.
	Truncated bool
	// Method and URL describe the request, the URL in redacted form, for error messages.
	Method string
	URL    string

	// redact is the sending client's secret redactor; Classify applies it to snippets.
	redact func(string) string
}

// Do sends req with ctx and reads the response body up to the cap. A returned error means
// no complete response arrived (connection error, timeout, cancellation): it is plain, so
// the runner retries it, and its message holds the method and the redacted URL. A non-2xx
// status is not an error here; pass the Response to Classify.
func (c *Client) Do(ctx context.Context, req *http.Request) (*Response, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	// Clone, not WithContext: the header map is copied, so the caller's request is not
	// modified by the User-Agent below.
	req = req.Clone(ctx)
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.opts.UserAgent)
	}
	shownURL := c.redact(RedactURL(req.URL.String()))
	log := c.opts.Logger
	debugOn := log.Enabled(ctx, slog.LevelDebug)
	if debugOn {
		log.LogAttrs(ctx, slog.LevelDebug, "Sending HTTP request",
			slog.String("method", req.Method),
			slog.String("url", shownURL),
			slog.Any("headers", c.redactHeaders(req.Header)))
	}
	start := time.Now()

	done := func(int, error) {}
	if o, ok := ctx.Value(observerKey{}).(Observer); ok {
		done = o.Request(ctx, req)
	}

	dialer := DialerFor(ctx)
	if err := precheck(dialer, req.URL); err != nil {
		// Refused before anything is sent, even when a proxy would do the dialing.
		done(0, err)
		return nil, c.requestFailed(parent, ctx, req.Method, shownURL, start, err)
	}
	resp, err := c.pools.forDialer(dialer).Do(req)
	if err != nil {
		done(0, err)
		return nil, c.requestFailed(parent, ctx, req.Method, shownURL, start, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxResponseBytes+1))
	if err != nil {
		done(resp.StatusCode, err)
		return nil, c.requestFailed(parent, ctx, req.Method, shownURL, start, fmt.Errorf("read response body: %w", err))
	}
	done(resp.StatusCode, nil)
	out := &Response{
		Status: resp.StatusCode,
		Header: resp.Header,
		Body:   body,
		Method: req.Method,
		URL:    shownURL,
		redact: c.redact,
	}
	if int64(len(body)) > c.opts.MaxResponseBytes {
		out.Body = body[:c.opts.MaxResponseBytes]
		out.Truncated = true
	}
	if debugOn {
		log.LogAttrs(ctx, slog.LevelDebug, "Received HTTP response",
			slog.String("method", req.Method),
			slog.String("url", shownURL),
			slog.Int("status", out.Status),
			slog.Int("body_bytes", len(out.Body)),
			slog.Bool("truncated", out.Truncated),
			slog.Int64("duration_ms", time.Since(start).Milliseconds()))
	}
	return out, nil
}

// Observer hears of every request a Client sends under a context from WithObserver:
// the engine counts them for /metrics and records a trace span for each, without this
// package knowing the engine.
type Observer interface {
	// Request is called before req is sent; it may add headers (a traceparent). The
	// returned func is called once with the outcome: the status, or 0 and the error when
	// no response arrived (a status with an error: the body could not be read).
	Request(ctx context.Context, req *http.Request) func(status int, err error)
}

type observerKey struct{}

// WithObserver returns ctx whose requests o hears of.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

func (c *Client) requestFailed(parent, ctx context.Context, method, shownURL string, start time.Time, err error) error {
	// http.Client wraps errors in *url.Error, whose text holds the unredacted URL; keep
	// only the cause and write our own, redacted, context.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	rerr := &requestError{method: method, url: shownURL, err: err, redact: c.redact}
	var refused *RefusedError
	if errors.As(err, &refused) {
		// The policy will refuse it again: a retry cannot help.
		return connectors.Permanent(rerr)
	}
	// The caller's context still being live while ours is done means our timeout fired.
	if parent.Err() == nil && ctx.Err() != nil {
		rerr.timeout = c.opts.Timeout
	}
	c.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "HTTP request failed",
		slog.String("method", method),
		slog.String("url", shownURL),
		slog.Int64("duration_ms", time.Since(start).Milliseconds()),
		slog.String("err", rerr.Error()))
	return rerr
}

// requestError is a failed exchange: no complete response. Its message is redacted; it
// unwraps to the transport's error, so errors.Is(err, context.Canceled) works.
type requestError struct {
	method, url string
	timeout     time.Duration
	err         error
	redact      func(string) string
}

func (e *requestError) Error() string {
	msg := e.err.Error()
	if e.timeout > 0 {
		msg = fmt.Sprintf("no complete response within %s", e.timeout)
	}
	return e.redact(fmt.Sprintf("%s %s: %s", e.method, e.url, msg))
}

func (e *requestError) Unwrap() error { return e.err }

// Timeout reports whether the request timed out, like net.Error.
func (e *requestError) Timeout() bool {
	if e.timeout > 0 || errors.Is(e.err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(e.err, &ne) && ne.Timeout()
}

func (c *Client) redactHeaders(h http.Header) http.Header {
	out := RedactHeaders(h)
	for k, vs := range out {
		for i, v := range vs {
			vs[i] = c.redact(v)
		}
		out[k] = vs
	}
	return out
}

func identity(s string) string { return s }

// precheck applies the outbound policy to a URL whose host is an IP address, before
// anything is dialed. Host names are checked by the Dialer once resolved.
func precheck(d connectors.Dialer, u *url.URL) error {
	checker, ok := d.(interface {
		Check(host string, ip netip.Addr, port int) error
	})
	if !ok {
		return nil
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(u.Hostname(), "["), "]"))
	if err != nil {
		return nil
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		port = map[string]int{"http": 80, "https": 443}[strings.ToLower(u.Scheme)]
	}
	return checker.Check("", ip, port)
}

func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := ""
	if bi.Main.Path == modulePath {
		v = bi.Main.Version
	} else {
		for _, d := range bi.Deps {
			if d.Path == modulePath {
				v = d.Version
			}
		}
	}
	if v == "" || v == "(devel)" {
		return "dev"
	}
	return strings.TrimPrefix(v, "v")
}
