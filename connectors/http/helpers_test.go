package http

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

// seenRequest is what a recording server saw of one request.
type seenRequest struct {
	Method   string
	Path     string
	RawPath  string
	RawQuery string
	Host     string
	Header   http.Header
	Body     []byte
}

// recorder is a loopback server that records every request and answers with handler
// (200 and no body when handler is nil).
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seenRequest
}

func newRecorder(t *testing.T, handler http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seenRequest{
			Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Host: r.Host, Header: r.Header.Clone(), Body: body,
		})
		rec.mu.Unlock()
		if handler != nil {
			handler(w, r)
		}
	}))
	t.Cleanup(rec.Close)
	return rec
}

// last returns the latest request, failing t when there was none.
func (rec *recorder) last(t *testing.T) seenRequest {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.NotEmpty(t, rec.reqs, "the server saw no request")
	return rec.reqs[len(rec.reqs)-1]
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.reqs)
}

// hangingServer never answers until the client goes away or the test ends.
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
	t.Cleanup(func() { close(release) }) // runs before srv.Close, which waits for handlers
	return srv, arrived
}

func httpConnector(t *testing.T) *connectors.Connector {
	t.Helper()
	c, ok := connectors.Default.Connector("http")
	require.True(t, ok, "the http connector is not registered")
	return c
}

// newCall builds a call of http.request with an optional connection config.
func newCall(t *testing.T, input map[string]any, config map[string]any) *connectors.Call {
	t.Helper()
	return connectortest.NewCall(t, input, connectortest.NewConnection(httpConnector(t), config))
}

// invoke runs http.request through the runner's lifecycle.
func invoke(t *testing.T, input map[string]any, config map[string]any) (any, error) {
	t.Helper()
	return connectortest.Invoke(t.Context(), requestAction, newCall(t, input, config))
}

// invokeCtx is invoke with a caller's context.
func invokeCtx(ctx context.Context, t *testing.T, input map[string]any, config map[string]any) (any, error) {
	t.Helper()
	return connectortest.Invoke(ctx, requestAction, newCall(t, input, config))
}

// output returns the output as the map the action builds.
func output(t *testing.T, out any) map[string]any {
	t.Helper()
	m, ok := out.(map[string]any)
	require.True(t, ok, "output is %T, want an object", out)
	return m
}
