// Package webtest is a scenario harness for HTTP tests, after pocketbase's ApiScenario:
// each case states a request and what must follow, the status, body fragments that must
// and must not appear, and what the engine recorded (events, runs by status, steps).
package webtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// App is a running server on a real database, with an admin token and a sink that
// records the requests workflows send.
type App struct {
	Engine *enginetest.Engine
	Server *httptest.Server
	Token  string
	Sink   *Sink
}

// NewApp starts an App on a fresh database of dialect d.
func NewApp(t testing.TB, d store.Dialect, opts enginetest.Options) *App {
	t.Helper()
	eng := enginetest.New(t, d, opts)
	srv := httptest.NewServer(web.New(eng.Engine, web.Config{Logger: enginetest.Logger(t)}))
	t.Cleanup(srv.Close)
	return &App{Engine: eng, Server: srv, Token: enginetest.Token(t, eng.Engine), Sink: NewSink(t)}
}

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// JSON decodes the body into a generic value.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Body), &v), "body: %s", r.Body)
	return v
}

// Do sends a request to the app. auth adds the admin token.
func (a *App) Do(t testing.TB, method, path, body string, auth bool, headers map[string]string) *Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	url := path
	if strings.HasPrefix(path, "/") {
		url = a.Server.URL + path
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return &Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// CreateWorkflow posts a workflow document and returns the created workflow's JSON.
func (a *App) CreateWorkflow(t testing.TB, doc string) map[string]any {
	t.Helper()
	res := a.Do(t, http.MethodPost, "/api/v1/workflows", doc, true, nil)
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
	return res.JSON(t)
}

// Settle waits until no run is queued or running, so counts are final.
func (a *App) Settle(t testing.TB) *engine.Counts {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := a.Engine.Count(context.Background())
		require.NoError(t, err)
		if c.Runs[engine.RunQueued] == 0 && c.Runs[engine.RunRunning] == 0 {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs did not settle within 20s: %v", c.Runs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Scenario is one HTTP test case.
type Scenario struct {
	Name   string
	Method string
	// URL is a path on the app, or a function of the state BeforeTest built.
	URL     string
	URLFunc func(t testing.TB, a *App) string
	Body    string
	Headers map[string]string
	// NoAuth sends no API token.
	NoAuth bool

	ExpectedStatus     int
	ExpectedContent    []string
	NotExpectedContent []string
	// ExpectedEvents (by verdict), ExpectedRuns (by status) and ExpectedSteps are checked
	// after the runs settle, when set; an empty map means none at all.
	ExpectedEvents map[string]int64
	ExpectedRuns   map[string]int64
	ExpectedSteps  *int64

	BeforeTest func(t testing.TB, a *App)
	AfterTest  func(t testing.TB, a *App, res *Response)
}

// Count is a helper for the ExpectedSteps pointer.
func Count(n int64) *int64 { return &n }

func nonZero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v > 0 {
			out[k] = v
		}
	}
	return out
}

// Test runs the scenario against a.
func (s *Scenario) Test(t testing.TB, a *App) {
	t.Helper()
	if s.BeforeTest != nil {
		s.BeforeTest(t, a)
	}
	url := s.URL
	if s.URLFunc != nil {
		url = s.URLFunc(t, a)
	}
	res := a.Do(t, s.Method, url, s.Body, !s.NoAuth, s.Headers)
	require.Equal(t, s.ExpectedStatus, res.Status, "body: %s", res.Body)
	for _, frag := range s.ExpectedContent {
		require.Contains(t, res.Body, frag)
	}
	for _, frag := range s.NotExpectedContent {
		require.NotContains(t, res.Body, frag)
	}
	if s.ExpectedEvents != nil || s.ExpectedRuns != nil || s.ExpectedSteps != nil {
		c := a.Settle(t)
		if s.ExpectedEvents != nil {
			require.Equal(t, s.ExpectedEvents, nonZero(c.Events), "events by verdict")
		}
		if s.ExpectedRuns != nil {
			require.Equal(t, s.ExpectedRuns, nonZero(c.Runs), "runs by status")
		}
		if s.ExpectedSteps != nil {
			require.Equal(t, *s.ExpectedSteps, c.Steps, "step records")
		}
	}
	if s.AfterTest != nil {
		s.AfterTest(t, a, res)
	}
}

// Sink is a loopback HTTP server standing in for the services workflows call. It
// records every request and answers with Status (200 by default) and Body.
type Sink struct {
	*httptest.Server
	mu       sync.Mutex
	requests []SinkRequest
	Status   int
	Body     string
	// Delay holds each answer back, to stand for a slow service.
	Delay time.Duration
}

// SinkRequest is one request the sink received.
type SinkRequest struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   string
}

// NewSink starts a sink, closed when the test ends.
func NewSink(t testing.TB) *Sink {
	s := &Sink{Status: http.StatusOK, Body: `{"ok":true}`}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, SinkRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(b)})
		status, body, delay := s.Status, s.Body, s.Delay
		s.mu.Unlock()
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

// Requests returns what the sink received so far.
func (s *Sink) Requests() []SinkRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SinkRequest(nil), s.requests...)
}
