// Package connectortest is the conformance suite every connector runs in its tests, plus
// helpers for calling actions against local fakes.
//
// Run checks one action against a fake of its service on a loopback httptest server: its
// spec is valid, it succeeds on a 2xx, it returns soon after its context is cancelled, it
// keeps connection secrets out of outputs, errors and logs, it sends the idempotency key,
// and it classifies 429 and 5xx as retryable, 400 as permanent and honours Retry-After.
// LintAll checks every connector of a registry.
//
//	func TestConformance(t *testing.T) {
//		t.Parallel()
//		connectortest.Run(t, connectortest.Case{
//			Action:     "acme.create_thing",
//			Connection: func(baseURL string) map[string]any { return map[string]any{"base_url": baseURL, "token": "acme-secret-token-1"} },
//			Input:      func(string) map[string]any { return map[string]any{"name": "x"} },
//			Respond:    respondLikeAcme,
//			IdempotencyHeader: "Idempotency-Key",
//		})
//	}
package connectortest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
)

// ReturnBound is how long the suite waits for a call that must return (after cancellation,
// or for a fake's request to arrive). It is a generous upper bound, not a timing target.
const ReturnBound = 5 * time.Second

// RetryAfterSeconds is the Retry-After value the suite's fake sends with a 429.
const RetryAfterSeconds = 3

// minSecretLen is the shortest secret value the suite accepts: short values could appear
// in outputs by chance and make the secrets check meaningless.
const minSecretLen = 8

// Case describes one action and a fake of the service it calls.
type Case struct {
	// Registry holds the connector. Default connectors.Default.
	Registry *connectors.Registry
	// Action is the action under test, "connector.action" ("http.request").
	Action string
	// Connection returns the connection config for the fake at baseURL, or nil for none.
	// Give every secret the action uses a distinctive value of at least 8 characters: the
	// suite looks for those values in outputs, errors and logs.
	Connection func(baseURL string) map[string]any
	// Input returns a valid input for a call against the fake at baseURL.
	Input func(baseURL string) map[string]any
	// Respond writes the fake service's contract-shaped response with the given status:
	// 200 for success, or 400, 429, 500, 503. The suite's server calls it for every
	// request. For a 429 the suite has already set "Retry-After: 3" on w; a service that
	// also reports the wait in its body (Telegram's retry_after) should copy it there.
	Respond func(w http.ResponseWriter, r *http.Request, status int)
	// IdempotencyHeader is the header that carries the idempotency key
	// ("Idempotency-Key"), or "" when the service has none.
	IdempotencyHeader string
}

// Run runs the conformance subtests for c. The subtests run in parallel, each with its own
// fake server.
func Run(t *testing.T, c Case) {
	t.Helper()
	reg := c.Registry
	if reg == nil {
		reg = connectors.Default
	}
	conn, def, ok := reg.Action(c.Action)
	require.True(t, ok, "action %q is not registered", c.Action)
	require.NotNil(t, c.Input, "Case.Input is required")
	require.NotNil(t, c.Respond, "Case.Respond is required")
	s := &suite{c: c, conn: conn, def: def}

	t.Run("spec", s.testSpec)
	t.Run("success", s.testSuccess)
	t.Run("context_cancel", s.testContextCancel)
	t.Run("secrets", s.testSecrets)
	t.Run("idempotency_key", s.testIdempotencyKey)
	t.Run("classification", s.testClassification)
	t.Run("retry_after", s.testRetryAfter)
}

type suite struct {
	c    Case
	conn *connectors.Connector
	def  *connectors.ActionDef
}

// request is what the fake saw of one request.
type request struct {
	Method string
	Path   string
	Header http.Header
}

// fake is a loopback server that answers through Case.Respond with a fixed status, or
// hangs until the client goes away.
type fake struct {
	*httptest.Server
	arrived chan struct{}

	mu       sync.Mutex
	requests []request
}

func (s *suite) newFake(t *testing.T, status int, hang bool) *fake {
	t.Helper()
	f := &fake{arrived: make(chan struct{}, 64)}
	release := make(chan struct{})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()})
		f.mu.Unlock()
		select {
		case f.arrived <- struct{}{}:
		default:
		}
		if hang {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", fmt.Sprint(RetryAfterSeconds))
		}
		s.c.Respond(w, r, status)
	}))
	t.Cleanup(f.Close)
	t.Cleanup(func() { close(release) }) // runs before f.Close, which waits for handlers
	return f
}

func (f *fake) seen() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

// call builds a call for the fake; its logger writes to the returned buffer.
func (s *suite) call(t *testing.T, f *fake) (*connectors.Call, *LogBuffer) {
	t.Helper()
	var config map[string]any
	if s.c.Connection != nil {
		config = s.c.Connection(f.URL)
	}
	call := NewCall(t, s.c.Input(f.URL), NewConnection(s.conn, config))
	logger, logs := NewCaptureLogger(t)
	call.Logger = logger
	return call, logs
}

// invoke runs call and checks, whatever the result, that no secret of the call's
// connection shows in the output, the error or the logs.
func (s *suite) invoke(ctx context.Context, t *testing.T, call *connectors.Call, logs *LogBuffer) (any, error) {
	t.Helper()
	out, err := Invoke(ctx, s.def, call)
	AssertNoSecrets(t, call.Connection.SecretValues(), out, err, logs.String())
	return out, err
}

// AssertNoSecrets fails t when any secret shows in the output (as JSON and as printed),
// the error text or the log text.
func AssertNoSecrets(t testing.TB, secrets []string, out any, err error, logs string) {
	t.Helper()
	outJSON, jerr := marshal(out)
	require.NoError(t, jerr, "the output must be JSON-encodable")
	places := map[string]string{
		"output":         outJSON,
		"printed output": fmt.Sprintf("%+v", out),
		"logs":           logs,
	}
	if err != nil {
		places["error"] = err.Error()
	}
	for _, secret := range secrets {
		for where, text := range places {
			require.NotContains(t, text, secret, "a connection secret leaked into the %s", where)
		}
	}
}

func marshal(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return b.String(), err
}

func (s *suite) testSpec(t *testing.T) {
	t.Parallel()
	spec := s.conn.Spec()
	require.NoError(t, spec.Lint())
	require.NotNil(t, s.def.New, "the action has no factory")
	require.NotNil(t, s.def.New(), "the factory returned nil")

	f := s.newFake(t, http.StatusOK, false)
	var config map[string]any
	if s.c.Connection != nil {
		config = s.c.Connection(f.URL)
	}
	if spec.ConnectionRequired {
		require.NotNil(t, config, "the connector requires a connection: set Case.Connection")
	}
	if config != nil {
		checkValues(t, "connection", spec.Connection, config, false)
		if s.conn.ValidateConnection != nil {
			require.NoError(t, s.conn.ValidateConnection(config), "ValidateConnection refuses the case's connection")
		}
	}
	input := s.c.Input(f.URL)
	checkValues(t, "input", s.def.Inputs, input, s.def.FreeInputs)
	if v, ok := s.def.New().(connectors.Validator); ok {
		require.NoError(t, v.Validate(input), "Validate refuses the case's input")
	}
}

// checkValues checks values against their field specs: every key declared (unless extra
// keys are allowed), every value of the declared type, every required field present.
func checkValues(t *testing.T, what string, fields []connectors.Field, values map[string]any, allowExtra bool) {
	t.Helper()
	byName := map[string]*connectors.Field{}
	for i := range fields {
		byName[fields[i].Name] = &fields[i]
	}
	for k, v := range values {
		f, ok := byName[k]
		if !ok {
			require.True(t, allowExtra, "%s key %q is not a declared field", what, k)
			continue
		}
		require.NoError(t, f.CheckValue(v), "%s field %q", what, k)
	}
	for _, f := range fields {
		if f.Required {
			require.Contains(t, values, f.Name, "required %s field %q is missing", what, f.Name)
		}
	}
}

func (s *suite) testSuccess(t *testing.T) {
	t.Parallel()
	f := s.newFake(t, http.StatusOK, false)
	call, logs := s.call(t, f)
	out, err := s.invoke(t.Context(), t, call, logs)
	require.NoError(t, err)
	require.NotNil(t, out, "a successful call must return an output")
	require.NotEmpty(t, f.seen(), "the action never called the fake")
}

func (s *suite) testContextCancel(t *testing.T) {
	t.Parallel()
	f := s.newFake(t, http.StatusOK, true)
	call, logs := s.call(t, f)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	type result struct {
		out any
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := Invoke(ctx, s.def, call)
		done <- result{out, err}
	}()
	select {
	case <-f.arrived:
	case r := <-done:
		t.Fatalf("the action returned before reaching the fake: output %v, error %v", r.out, r.err)
	case <-time.After(ReturnBound):
		t.Fatalf("the action did not reach the fake within %s", ReturnBound)
	}
	cancel()
	select {
	case r := <-done:
		require.Error(t, r.err, "a cancelled call must return an error")
		AssertNoSecrets(t, call.Connection.SecretValues(), r.out, r.err, logs.String())
	case <-time.After(ReturnBound):
		t.Fatalf("the action did not return within %s of its context being cancelled", ReturnBound)
	}
}

func (s *suite) testSecrets(t *testing.T) {
	t.Parallel()
	spec := s.conn.Spec()
	secretFields := spec.SecretFields()
	if s.c.Connection == nil {
		require.Empty(t, secretFields,
			"the connector has secret fields: set Case.Connection so the suite can check they do not leak")
		t.Skip("no connection: nothing secret to leak")
	}
	for _, status := range []int{http.StatusOK, http.StatusBadRequest, http.StatusTooManyRequests, http.StatusInternalServerError} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			f := s.newFake(t, status, false)
			call, logs := s.call(t, f)
			secrets := call.Connection.SecretValues()
			if len(secretFields) > 0 {
				require.NotEmpty(t, secrets, "set the connection's secret fields to distinctive values")
			}
			for _, v := range secrets {
				require.GreaterOrEqual(t, len(v), minSecretLen, "secret values must be distinctive (at least %d characters)", minSecretLen)
			}
			_, err := s.invoke(t.Context(), t, call, logs)
			if status == http.StatusOK {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

func (s *suite) testIdempotencyKey(t *testing.T) {
	t.Parallel()
	header := s.c.IdempotencyHeader
	if !s.def.Idempotent {
		require.Empty(t, header, "the case names an idempotency header but the spec is not marked Idempotent")
		t.Skip("the action is not idempotent")
	}
	require.NotEmpty(t, header, "the spec says Idempotent: set Case.IdempotencyHeader")

	f := s.newFake(t, http.StatusOK, false)
	call, logs := s.call(t, f)
	// The same key on a retry: the service must see one logical action.
	for attempt := 1; attempt <= 2; attempt++ {
		before := len(f.seen())
		call.Attempt = attempt
		_, err := s.invoke(t.Context(), t, call, logs)
		require.NoError(t, err)
		sent := 0
		for _, r := range f.seen()[before:] {
			if v := r.Header.Get(header); v != "" {
				require.Equal(t, call.IdempotencyKey, strings.Trim(v, `"`), "attempt %d sent another key", attempt)
				sent++
			}
		}
		require.Positive(t, sent, "attempt %d did not send %s", attempt, header)
	}
}

func (s *suite) testClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    int
		permanent bool
	}{
		{http.StatusBadRequest, true},
		{http.StatusTooManyRequests, false},
		{http.StatusInternalServerError, false},
		{http.StatusServiceUnavailable, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			f := s.newFake(t, tt.status, false)
			call, logs := s.call(t, f)
			_, err := s.invoke(t.Context(), t, call, logs)
			require.Error(t, err, "status %d must fail the call", tt.status)
			require.Equal(t, tt.permanent, connectors.IsPermanent(err),
				"status %d: permanent should be %v; error: %v", tt.status, tt.permanent, err)
		})
	}
}

func (s *suite) testRetryAfter(t *testing.T) {
	t.Parallel()
	f := s.newFake(t, http.StatusTooManyRequests, false)
	call, logs := s.call(t, f)
	_, err := s.invoke(t.Context(), t, call, logs)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	d, ok := connectors.RetryDelay(err)
	if !ok {
		t.Skip("the connector does not report the service's Retry-After")
	}
	require.Equal(t, RetryAfterSeconds*time.Second, d)
}
