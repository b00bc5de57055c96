package declarative

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sigs.k8s.io/yaml"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// fakeClock starts at time.Now() and moves only when slept on, instantly.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept += d
	return nil
}

func (c *fakeClock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// seenRequest is what a fake server saw.
type seenRequest struct {
	Method string
	Path   string // escaped
	Query  map[string][]string
	Header http.Header
	Body   string
}

// fakeServer answers each request with the next handler of its script (the last one
// repeats) and records what it saw.
type fakeServer struct {
	*httptest.Server
	mu       sync.Mutex
	seen     []seenRequest
	handlers []http.HandlerFunc
}

func newServer(t *testing.T, handlers ...http.HandlerFunc) *fakeServer {
	t.Helper()
	f := &fakeServer{handlers: handlers}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := len(f.seen)
		f.seen = append(f.seen, seenRequest{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(),
			Header: r.Header.Clone(), Body: string(body)})
		h := f.handlers[min(n, len(f.handlers)-1)]
		f.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

// reply answers with a status, headers (name, value pairs) and a JSON body.
func reply(status int, body any, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Add(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if body != nil {
			_ = json.NewEncoder(w).Encode(body)
		}
	}
}

// parseFile reads a connector file written in YAML into a Definition, the way the
// parser will (its validation aside).
func parseFile(t *testing.T, src string) *Definition {
	t.Helper()
	d, err := Parse(Source{Path: "test.yaml", Origin: OriginDir, Data: []byte(src)})
	require.NoError(t, err)
	return d
}

// build makes the connector with a fake clock.
func build(t *testing.T, src string) (*connectors.Connector, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	c, err := parseFile(t, src).Connector(Options{Clock: clock, Client: httpclient.New(httpclient.Options{})})
	require.NoError(t, err)
	return c, clock
}

func conn(config map[string]any, secrets ...string) *connectors.Connection {
	return &connectors.Connection{Name: "test", Connector: "x", Config: config, Secrets: secrets}
}

// runAction calls an action once, as the runner does, with a log capture.
func runAction(t *testing.T, c *connectors.Connector, name string, cn *connectors.Connection, input map[string]any) (any, error) {
	t.Helper()
	def, ok := c.Action(name)
	require.True(t, ok, "action %s", name)
	call := connectortest.NewCall(t, input, cn)
	return connectortest.Invoke(t.Context(), def, call)
}

func runPoll(t *testing.T, c *connectors.Connector, name string, cn *connectors.Connection, input map[string]any, cursor any) (*connectors.PollResult, error) {
	t.Helper()
	def, ok := c.Poller(name)
	require.True(t, ok, "poller %s", name)
	return def.New().Poll(t.Context(), &connectors.PollCall{WorkflowID: "wf", Input: input, Cursor: cursor,
		First: cursor == nil, Connection: cn, Logger: connectortest.NewTestLogger(t)})
}

// memStore is an in-memory CredentialStore.
type memStore struct {
	mu      sync.Mutex
	secrets map[string]string
	// beforeSwap runs before each swap, to simulate another process winning the race.
	beforeSwap func(m map[string]string)
	swaps      int
}

func (s *memStore) CurrentSecrets(context.Context) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.secrets {
		out[k] = v
	}
	return out, nil
}

func (s *memStore) SwapSecrets(_ context.Context, old, updated map[string]string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.swaps++
	if s.beforeSwap != nil {
		s.beforeSwap(s.secrets)
	}
	for k, v := range old {
		if s.secrets[k] != v {
			return false, nil
		}
	}
	for k, v := range updated {
		s.secrets[k] = v
	}
	return true, nil
}

func (s *memStore) get(k string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secrets[k]
}

// decodeUnchecked decodes a file without Parse's validation, for tests of what the
// runtime does with a definition Parse would refuse.
func decodeUnchecked(t *testing.T, src string) *Definition {
	t.Helper()
	data, err := yaml.YAMLToJSON([]byte(src))
	require.NoError(t, err)
	var f File
	require.NoError(t, json.Unmarshal(data, &f))
	return &Definition{File: f, Source: Source{Path: "test.yaml", Origin: OriginDir, Data: []byte(src)}}
}
