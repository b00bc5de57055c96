package moysklad

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// ParallelMax is how many requests one token may have in flight: MoySklad answers a
// sixth parallel request with 429 (code 1073).
const ParallelMax = 5

// maxDecodedBytes caps a decompressed body as httpclient caps the compressed one, so a
// small gzip bomb cannot fill memory.
const maxDecodedBytes = httpclient.MaxResponseBytesDefault

// api calls the JSON API with one connection's token.
type api struct {
	hc     *httpclient.Client
	base   *url.URL // base_url without a trailing slash
	token  string
	prefix string // webhook_prefix, sent on writes
	limit  *limiter
	redact func(string) string
}

// newAPI checks the connection and returns a client for it that logs to logger (nil:
// nowhere) and masks the token everywhere. Its errors are permanent: a retry cannot fix
// a connection.
func newAPI(conn *connectors.Connection, logger *slog.Logger) (*api, error) {
	if conn == nil {
		return nil, connectors.Permanent(errors.New("no moysklad connection: name a connection with the access token"))
	}
	if err := validateConnection(conn.Config); err != nil {
		return nil, connectors.Permanent(fmt.Errorf("connection %s: %w", conn.Name, err))
	}
	token := conn.String(connToken)
	if token == "" {
		return nil, connectors.Permanent(fmt.Errorf("connection %s has no token", conn.Name))
	}
	raw := conn.String(connBaseURL)
	if raw == "" {
		raw = BaseURLDefault
	}
	base, err := httpclient.ParseBaseURL(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("connection %s: %w", conn.Name, err))
	}
	secrets := append(conn.SecretValues(), token)
	return &api{
		hc:     client.WithLogger(logger).WithSecrets(secrets...),
		base:   base,
		token:  token,
		prefix: conn.String(connWebhookPrefix),
		limit:  limiterFor(base.Host, token),
		redact: httpclient.SecretRedactor(secrets...),
	}, nil
}

// limiter is shared by every call made with one token: MoySklad counts parallel
// requests and the 3-second window per user, not per connection.
type limiter struct {
	slots chan struct{}

	mu    sync.Mutex
	until time.Time // no request before this: the window is used up
}

var (
	limitersMu sync.Mutex
	limiters   = map[[32]byte]*limiter{}
)

// limiterFor returns the limiter of a token on a host. The map is keyed by a hash so it
// holds no token.
func limiterFor(host, token string) *limiter {
	key := sha256.Sum256([]byte(host + "\x00" + token))
	limitersMu.Lock()
	defer limitersMu.Unlock()
	l, ok := limiters[key]
	if !ok {
		l = &limiter{slots: make(chan struct{}, ParallelMax)}
		limiters[key] = l
	}
	return l
}

// acquire waits for a free slot and for the window to reset when the previous answer
// said none was left.
func (l *limiter) acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	l.mu.Lock()
	wait := time.Until(l.until)
	l.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			<-l.slots
			return ctx.Err()
		}
	}
	return nil
}

func (l *limiter) release() { <-l.slots }

// observe reads the rate headers of an answer: with no request left in the window, the
// next requests wait until it resets instead of collecting 429s (200 of them in a minute
// get the account banned).
func (l *limiter) observe(h http.Header) {
	remaining, err := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err != nil || remaining > 0 {
		return
	}
	d, ok := lognexWait(h)
	if !ok {
		return
	}
	l.mu.Lock()
	if until := time.Now().Add(d); until.After(l.until) {
		l.until = until
	}
	l.mu.Unlock()
}

// lognexWait reads the wait MoySklad advertises, in milliseconds: X-Lognex-Retry-After,
// else X-Lognex-Reset.
func lognexWait(h http.Header) (time.Duration, bool) {
	for _, name := range []string{"X-Lognex-Retry-After", "X-Lognex-Reset"} {
		if ms, err := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64); err == nil && ms >= 0 {
			return min(time.Duration(ms)*time.Millisecond, httpclient.RetryAfterMax), true
		}
	}
	return 0, false
}

// apiError is an answer with MoySklad's error envelope, or a failed status without one.
type apiError struct {
	Method string
	Path   string // redacted
	Status int
	// Errors are the envelope's entries.
	Errors []errorEntry
}

// errorEntry is one entry of {"errors": [...]}.
type errorEntry struct {
	Error     string `json:"error"`
	Code      int    `json:"code"`
	Parameter string `json:"parameter"`
	Message   string `json:"error_message"`
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "moysklad %s %s answered %d", e.Method, e.Path, e.Status)
	for i, x := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(x.Error)
		if x.Parameter != "" {
			fmt.Fprintf(&b, " (parameter %s)", x.Parameter)
		}
		if x.Code != 0 {
			fmt.Fprintf(&b, " [code %d]", x.Code)
		}
	}
	switch e.Status {
	case http.StatusUnauthorized:
		b.WriteString(" (the token was refused: check the connection's token, or whether the user is blocked)")
	case http.StatusForbidden:
		b.WriteString(" (the token's user lacks the rights for this)")
	case http.StatusUnsupportedMediaType:
		b.WriteString(" (MoySklad wants Accept-Encoding: gzip and JSON bodies)")
	}
	return b.String()
}

// HasCode reports whether one of the entries has the MoySklad error code.
func (e *apiError) HasCode(code int) bool {
	for _, x := range e.Errors {
		if x.Code == code {
			return true
		}
	}
	return false
}

// listResponse is a page of a list.
type listResponse struct {
	Meta struct {
		Href     string `json:"href"`
		Size     int    `json:"size"`
		Limit    int    `json:"limit"`
		Offset   int    `json:"offset"`
		NextHref string `json:"nextHref"`
	} `json:"meta"`
	Rows []map[string]any `json:"rows"`
}

// url returns the absolute URL of a path relative to the base URL ("entity/counterparty?…").
func (a *api) url(rel string) string {
	return strings.TrimRight(a.base.String(), "/") + "/" + strings.TrimLeft(rel, "/")
}

// get reads rel into out.
func (a *api) get(ctx context.Context, rel string, out any) error {
	return a.do(ctx, http.MethodGet, a.url(rel), nil, out)
}

// do sends one request to an absolute URL on the base URL's host and decodes the answer
// into out (nil: ignore it). Errors follow the SDK's kinds: network errors and 5xx are
// retryable, 429 retryable after MoySklad's wait, 401, 403 and other 4xx permanent with
// MoySklad's own messages. Every text in them has the token masked.
func (a *api) do(ctx context.Context, method, endpoint string, body any, out any) error {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return connectors.Permanent(fmt.Errorf("encode moysklad %s body: %w", method, err))
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, reader)
	if err != nil {
		return connectors.Permanent(fmt.Errorf("build moysklad %s request: %s", method, a.redact(err.Error())))
	}
	// The token goes only to the base URL's host: hrefs from webhooks are checked before.
	if req.URL.Scheme != a.base.Scheme || !strings.EqualFold(req.URL.Host, a.base.Host) {
		return connectors.Permanent(fmt.Errorf("moysklad %s %s: not on the connection's API host %s", method, httpclient.RedactURL(endpoint), a.base.Host))
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	// Mandatory: without it MoySklad answers 415. Set by hand, so Go's transport does not
	// decode the body itself; decodeBody does.
	req.Header.Set("Accept-Encoding", "gzip")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet && a.prefix != "" {
		req.Header.Set("X-Lognex-WebHook-DisableByPrefix", a.prefix)
	}
	if err := a.limit.acquire(ctx); err != nil {
		return fmt.Errorf("wait for a moysklad request slot: %w", err)
	}
	resp, err := a.hc.Do(ctx, req)
	a.limit.release()
	if err != nil {
		return fmt.Errorf("call moysklad: %w", err) // already redacted; retryable
	}
	a.limit.observe(resp.Header)
	if err := decodeBody(resp); err != nil {
		return fmt.Errorf("moysklad %s %s: %w", method, resp.URL, err) // a cut stream: retryable
	}
	if resp.Status < 200 || resp.Status > 299 {
		return a.classify(method, req.URL, resp)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		// A 2xx we cannot read: a write may have happened, but syncId makes a retry safe.
		return fmt.Errorf("read moysklad %s %s answer (check the connection's base_url): %w: %s", method, resp.URL,
			err, a.redact(httpclient.Snippet(resp.Body, httpclient.SnippetBytes)))
	}
	return nil
}

// decodeBody replaces a gzip body with its decoded bytes.
func decodeBody(resp *httpclient.Response) error {
	if !strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip") || len(resp.Body) == 0 {
		return nil
	}
	if resp.Truncated {
		return errors.New("the gzip answer is larger than the response cap")
	}
	zr, err := gzip.NewReader(bytes.NewReader(resp.Body))
	if err != nil {
		return fmt.Errorf("decode gzip answer: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(zr, maxDecodedBytes+1))
	if err != nil {
		return fmt.Errorf("decode gzip answer: %w", err)
	}
	if int64(len(data)) > maxDecodedBytes {
		return connectors.Permanent(fmt.Errorf("the decoded answer is larger than %d bytes", maxDecodedBytes))
	}
	resp.Body = data
	resp.Header.Del("Content-Encoding")
	return nil
}

// classify turns a failed answer into the SDK's error kinds.
func (a *api) classify(method string, u *url.URL, resp *httpclient.Response) error {
	var env struct {
		Errors []errorEntry `json:"errors"`
	}
	if err := json.Unmarshal(resp.Body, &env); err != nil || len(env.Errors) == 0 {
		// Not MoySklad talking (a proxy's page, an empty 415): the generic classification.
		return fmt.Errorf("call moysklad: %w", withLognexWait(httpclient.Classify(resp), resp))
	}
	for i := range env.Errors {
		env.Errors[i].Error = a.redact(env.Errors[i].Error)
		env.Errors[i].Message = a.redact(env.Errors[i].Message)
	}
	e := &apiError{Method: method, Path: a.redact(httpclient.RedactURL(u.Path)), Status: resp.Status, Errors: env.Errors}
	if !httpclient.RetryableStatus(resp.Status) {
		return connectors.Permanent(e)
	}
	return withLognexWait(e, resp)
}

// withLognexWait wraps a retryable error of a 429 in the wait MoySklad asked for; other
// errors are returned as they are.
func withLognexWait(err error, resp *httpclient.Response) error {
	if err == nil || connectors.IsPermanent(err) || resp.Status != http.StatusTooManyRequests {
		return err
	}
	if d, ok := lognexWait(resp.Header); ok {
		return connectors.RetryAfter(err, d)
	}
	if d, ok := httpclient.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		return connectors.RetryAfter(err, d)
	}
	return err
}

// asAPIError returns the MoySklad error inside err, if any.
func asAPIError(err error) (*apiError, bool) {
	var e *apiError
	ok := errors.As(err, &e)
	return e, ok
}

// meta is a reference to an entity, as MoySklad writes one.
type meta struct {
	Href      string `json:"href"`
	Type      string `json:"type"`
	MediaType string `json:"mediaType"`
}

// ref is {"meta": …}, how a body refers to another entity.
func ref(href, typ string) map[string]any {
	return map[string]any{"meta": meta{Href: href, Type: typ, MediaType: "application/json"}}
}

// filterValue escapes a value for the filter parameter, where ";" separates conditions.
func filterValue(s string) string { return strings.ReplaceAll(s, ";", `\;`) }

// checkHref accepts an href on the base URL: the same scheme and host, and a path under
// the base path, so a webhook's href cannot send the token elsewhere.
func (a *api) checkHref(href string) (*url.URL, error) {
	u, err := url.Parse(href)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("href %q is not an absolute URL", httpclient.RedactURL(href))
	}
	basePath := strings.TrimRight(a.base.Path, "/") + "/"
	if u.Scheme != a.base.Scheme || !strings.EqualFold(u.Host, a.base.Host) || !strings.HasPrefix(u.Path, basePath) || u.User != nil {
		return nil, fmt.Errorf("href %q is not on the connection's API address %s: the token is sent only there",
			httpclient.RedactURL(href), a.base.String())
	}
	if strings.Contains(u.Path, "/../") || strings.HasSuffix(u.Path, "/..") {
		return nil, fmt.Errorf("href %q has a .. segment", httpclient.RedactURL(href))
	}
	return u, nil
}
