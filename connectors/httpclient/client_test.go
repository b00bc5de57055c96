package httpclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
)

// hangingServer answers nothing until the test ends or the client goes away.
func hangingServer(t *testing.T) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	arrived := make(chan struct{}, 16)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	return srv, arrived
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	return req
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func debugLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func TestDoReadsResponse(t *testing.T) {
	t.Parallel()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-UA", r.UserAgent())
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)

	req := newRequest(t, http.MethodPost, srv.URL+"/x?token=abc", strings.NewReader("hi"))
	resp, err := New(Options{}).Do(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.Status)
	require.Equal(t, `{"ok":true}`, string(resp.Body))
	require.False(t, resp.Truncated)
	require.Equal(t, UserAgentDefault, resp.Header.Get("X-Seen-Ua"))
	require.True(t, strings.HasPrefix(UserAgentDefault, "Hookflow/"))
	require.Equal(t, http.MethodPost, resp.Method)
	require.Equal(t, srv.URL+"/x?token=******", resp.URL)
	require.Empty(t, req.Header.Get("User-Agent"), "Do must not modify the caller's request")
}

func TestDoKeepsCallerUserAgent(t *testing.T) {
	t.Parallel()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.UserAgent())
	}))
	t.Cleanup(srv.Close)

	req := newRequest(t, http.MethodGet, srv.URL, nil)
	req.Header.Set("User-Agent", "custom/1")
	resp, err := New(Options{UserAgent: "opt/2"}).Do(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, "custom/1", string(resp.Body))

	resp, err = New(Options{UserAgent: "opt/2"}).Do(context.Background(), newRequest(t, http.MethodGet, srv.URL, nil))
	require.NoError(t, err)
	require.Equal(t, "opt/2", string(resp.Body))
}

func TestDoDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()

	var targetHits sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/target" {
			targetHits.Store("hit", true)
			return
		}
		http.Redirect(w, r, "/target", http.StatusFound)
	}))
	t.Cleanup(srv.Close)

	resp, err := New(Options{}).Do(context.Background(), newRequest(t, http.MethodPost, srv.URL+"/start", nil))
	require.NoError(t, err)
	require.Equal(t, http.StatusFound, resp.Status)
	require.Equal(t, "/target", resp.Header.Get("Location"))
	_, hit := targetHits.Load("hit")
	require.False(t, hit, "the redirect target must not be requested")

	err = Classify(resp)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "302")
	require.Contains(t, err.Error(), "/target")
}

func TestDoCapsBody(t *testing.T) {
	t.Parallel()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 1000))
	}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name      string
		max       int64
		wantLen   int
		truncated bool
	}{
		{name: "under the cap", max: 2000, wantLen: 1000},
		{name: "exactly the cap", max: 1000, wantLen: 1000},
		{name: "over the cap", max: 10, wantLen: 10, truncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := New(Options{MaxResponseBytes: tt.max}).Do(context.Background(), newRequest(t, http.MethodGet, srv.URL, nil))
			require.NoError(t, err)
			require.Len(t, resp.Body, tt.wantLen)
			require.Equal(t, tt.truncated, resp.Truncated)
		})
	}
}

func TestDoContextCancelAbortsHangingServer(t *testing.T) {
	t.Parallel()

	srv, arrived := hangingServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := New(Options{Timeout: time.Hour}).Do(ctx, newRequest(t, http.MethodGet, srv.URL, nil))
		errc <- err
	}()
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the request never reached the server")
	}
	cancel()
	select {
	case err := <-errc:
		require.Error(t, err)
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, connectors.IsPermanent(err))
	case <-time.After(5 * time.Second):
		t.Fatal("Do did not return after the context was cancelled")
	}
}

func TestDoTimeout(t *testing.T) {
	t.Parallel()

	srv, _ := hangingServer(t)
	_, err := New(Options{Timeout: 50 * time.Millisecond}).Do(context.Background(), newRequest(t, http.MethodGet, srv.URL+"/slow?api_key=k", nil))
	require.Error(t, err)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "no complete response within 50ms")
	require.Contains(t, err.Error(), "GET "+srv.URL+"/slow?api_key=******")
	var te interface{ Timeout() bool }
	require.True(t, errors.As(err, &te) && te.Timeout())
}

func TestWithTimeoutSharesPool(t *testing.T) {
	t.Parallel()

	c := New(Options{})
	short := c.WithTimeout(time.Second)
	require.Equal(t, TimeoutDefault, c.Timeout())
	require.Equal(t, time.Second, short.Timeout())
	require.Same(t, c.pools, short.pools)
	require.Equal(t, time.Second, short.WithTimeout(0).Timeout(), "a zero timeout keeps the current one")
}

func TestDoConnectionErrorIsRedactedAndRetryable(t *testing.T) {
	t.Parallel()

	// Reserve a loopback port and close it, so the dial is refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	logger, logs := debugLogger()
	c := New(Options{}).WithLogger(logger).WithSecrets("path-secret-77")
	_, err = c.Do(context.Background(), newRequest(t, http.MethodPost, "http://u:pw-secret-1@"+addr+"/bot/path-secret-77/send?token=query-secret-2", nil))
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	msg := err.Error()
	require.Contains(t, msg, "POST http://u:******@"+addr+"/bot/******/send?token=******")
	for _, s := range []string{"pw-secret-1", "path-secret-77", "query-secret-2"} {
		require.NotContains(t, msg, s)
		require.NotContains(t, logs.String(), s)
	}
	require.Contains(t, logs.String(), "HTTP request failed")
}

func TestDoLogsRedacted(t *testing.T) {
	t.Parallel()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		// A careless service echoing the credential back.
		_, _ = io.WriteString(w, "bad token conn-secret-9 in "+r.Header.Get("X-Custom-Auth"))
	}))
	t.Cleanup(srv.Close)

	logger, logs := debugLogger()
	call := &connectors.Call{
		StepID: "s1",
		Logger: logger,
		Connection: &connectors.Connection{
			Config:  map[string]any{"header_value": "conn-secret-9"},
			Secrets: []string{"header_value"},
		},
	}
	req := newRequest(t, http.MethodPost, srv.URL+"/hook?signature=sig-secret-3", nil)
	req.Header.Set("Authorization", "Bearer bearer-secret-4")
	req.Header.Set("X-Custom-Auth", "conn-secret-9")
	resp, err := New(Options{}).ForCall(call).Do(context.Background(), req)
	require.NoError(t, err)
	cerr := Classify(resp)
	require.Error(t, cerr)
	require.Contains(t, cerr.Error(), "bad token ****** in ******")

	out := logs.String()
	require.Contains(t, out, "Sending HTTP request")
	require.Contains(t, out, "Received HTTP response")
	require.Contains(t, out, `"status":500`)
	require.Contains(t, out, "Bearer ******")
	for _, s := range []string{"conn-secret-9", "sig-secret-3", "bearer-secret-4"} {
		require.NotContains(t, out, s)
		require.NotContains(t, cerr.Error(), s)
	}
}

func TestForCallNil(t *testing.T) {
	t.Parallel()

	c := New(Options{})
	require.Same(t, c, c.ForCall(nil))
	require.NotNil(t, c.ForCall(&connectors.Call{}), "a call without logger or connection is fine")
}

func TestOptionsWithDefaults(t *testing.T) {
	t.Parallel()

	o := Options{}.WithDefaults()
	require.Equal(t, TimeoutDefault, o.Timeout)
	require.Equal(t, MaxResponseBytesDefault, o.MaxResponseBytes)
	require.Equal(t, UserAgentDefault, o.UserAgent)
	require.Equal(t, MaxIdleConnsPerHostDefault, o.MaxIdleConnsPerHost)
	require.NotNil(t, o.Logger)

	set := Options{Timeout: time.Second, MaxResponseBytes: 5, UserAgent: "x", MaxIdleConnsPerHost: 3}.WithDefaults()
	require.Equal(t, time.Second, set.Timeout)
	require.Equal(t, int64(5), set.MaxResponseBytes)
	require.Equal(t, "x", set.UserAgent)
	require.Equal(t, 3, set.MaxIdleConnsPerHost)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestOptionsTransport(t *testing.T) {
	t.Parallel()

	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 418, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("teapot")), Request: r}, nil
	})
	resp, err := New(Options{Transport: rt}).Do(context.Background(), newRequest(t, http.MethodGet, "http://unused.invalid/", nil))
	require.NoError(t, err)
	require.Equal(t, 418, resp.Status)
	require.Equal(t, "teapot", string(resp.Body))
}
