package connectortest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// pingAction is the smallest well-behaved connector action: it POSTs {"text": ...} to
// base_url/ping with a bearer token and the idempotency key. The suite is run against it
// on a registry of its own, as a third-party connector would.
type pingAction struct{}

var _ connectors.Action = pingAction{}

var pingClient = httpclient.New(httpclient.Options{})

func (pingAction) Run(ctx context.Context, call *connectors.Call) (any, error) {
	var in struct {
		Text string `json:"text"`
	}
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]any{"text": in.Text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, call.Connection.String("base_url")+"/ping", strings.NewReader(string(body)))
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("build ping request for step %s: %w", call.StepID, err))
	}
	req.Header.Set("Authorization", "Bearer "+call.Connection.String("token"))
	req.Header.Set("Idempotency-Key", call.IdempotencyKey)
	resp, err := pingClient.ForCall(call).Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("ping for step %s: %w", call.StepID, err)
	}
	if err := httpclient.Classify(resp); err != nil {
		return nil, fmt.Errorf("ping for step %s: %w", call.StepID, err)
	}
	var out map[string]any
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return nil, connectors.Permanent(fmt.Errorf("decode ping answer for step %s: %w", call.StepID, err))
	}
	return out, nil
}

func pingConnector() *connectors.Connector {
	return &connectors.Connector{
		Name: "ping", Title: "Ping", Description: "Pings a fake service.",
		Connection: []connectors.Field{
			{Name: "base_url", Type: connectors.TypeString, Title: "Base URL", Description: "Service URL."},
			{Name: "token", Type: connectors.TypeString, Title: "Token", Description: "API token.", Secret: true},
		},
		ConnectionRequired: true,
		Actions: []*connectors.ActionDef{{
			ActionSpec: connectors.ActionSpec{
				Name: "send", Title: "Send ping", Description: "Sends a ping.", Idempotent: true,
				Inputs:  []connectors.Field{{Name: "text", Type: connectors.TypeString, Title: "Text", Description: "Ping text.", Required: true}},
				Outputs: []connectors.Field{{Name: "ok", Type: connectors.TypeBoolean, Title: "OK", Description: "Whether it worked."}},
			},
			New: func() connectors.Action { return pingAction{} },
		}},
	}
}

const pingToken = "ping-token-5d2c9e"

func TestRunAgainstMinimalConnector(t *testing.T) {
	t.Parallel()

	reg := connectors.NewRegistry()
	reg.MustRegister(pingConnector())
	Run(t, Case{
		Registry: reg,
		Action:   "ping.send",
		Connection: func(baseURL string) map[string]any {
			return map[string]any{"base_url": baseURL, "token": pingToken}
		},
		Input: func(string) map[string]any { return map[string]any{"text": "hello"} },
		Respond: func(w http.ResponseWriter, r *http.Request, status int) {
			if r.Header.Get("Authorization") != "Bearer "+pingToken {
				status = http.StatusUnauthorized
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": status == http.StatusOK})
		},
		IdempotencyHeader: "Idempotency-Key",
	})
}

func TestLintAllMinimalRegistry(t *testing.T) {
	t.Parallel()

	reg := connectors.NewRegistry()
	reg.MustRegister(pingConnector())
	LintAll(t, reg)
}

func TestNewCallKeyShape(t *testing.T) {
	t.Parallel()

	seen := map[string]bool{}
	for range 100 {
		c := NewCall(t, nil, nil)
		require.Equal(t, c.RunID+":"+c.StepID, c.IdempotencyKey, "the runner's key shape")
		require.False(t, seen[c.IdempotencyKey], "duplicate key %s", c.IdempotencyKey)
		seen[c.IdempotencyKey] = true
	}
}

func TestNewConnection(t *testing.T) {
	t.Parallel()

	c := pingConnector()
	require.Nil(t, NewConnection(c, nil))
	conn := NewConnection(c, map[string]any{"base_url": "http://x", "token": "tkn"})
	require.Equal(t, "ping", conn.Connector)
	require.Equal(t, []string{"token"}, conn.Secrets)
	require.Equal(t, []string{"tkn"}, conn.SecretValues())
}

func TestNewCall(t *testing.T) {
	t.Parallel()

	in := map[string]any{"a": 1}
	call := NewCall(t, in, nil)
	require.NotEmpty(t, call.RunID)
	require.NotEmpty(t, call.StepID)
	require.Equal(t, 1, call.Attempt)
	require.NotEmpty(t, call.IdempotencyKey)
	require.Equal(t, in, call.Input)
	require.Nil(t, call.Connection)
	require.NotNil(t, call.Logger)
	require.NotEqual(t, call.IdempotencyKey, NewCall(t, in, nil).IdempotencyKey)
}

// lifecycleAction records the lifecycle steps Invoke drives.
type lifecycleAction struct {
	mu          *sync.Mutex
	steps       *[]string
	validateErr error
	runErr      error
	closeErr    error
}

func (a *lifecycleAction) record(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	*a.steps = append(*a.steps, s)
}

func (a *lifecycleAction) Validate(map[string]any) error {
	a.record("validate")
	return a.validateErr
}

func (a *lifecycleAction) Run(context.Context, *connectors.Call) (any, error) {
	a.record("run")
	return "out", a.runErr
}

func (a *lifecycleAction) Close() error {
	a.record("close")
	return a.closeErr
}

func TestInvokeLifecycle(t *testing.T) {
	t.Parallel()

	errBoom := errors.New("boom")
	tests := []struct {
		name      string
		action    lifecycleAction
		wantSteps []string
		wantErr   error
		permanent bool
	}{
		{name: "ok", wantSteps: []string{"validate", "run", "close"}},
		{name: "validate fails", action: lifecycleAction{validateErr: errBoom}, wantSteps: []string{"validate", "close"}, wantErr: errBoom, permanent: true},
		{name: "run fails, close still runs", action: lifecycleAction{runErr: errBoom}, wantSteps: []string{"validate", "run", "close"}, wantErr: errBoom},
		{name: "close fails", action: lifecycleAction{closeErr: errBoom}, wantSteps: []string{"validate", "run", "close"}, wantErr: errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var steps []string
			a := tt.action
			a.mu, a.steps = &sync.Mutex{}, &steps
			def := &connectors.ActionDef{ActionSpec: connectors.ActionSpec{Name: "x"}, New: func() connectors.Action { return &a }}
			_, err := Invoke(t.Context(), def, NewCall(t, nil, nil))
			require.Equal(t, tt.wantSteps, steps)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, tt.permanent, connectors.IsPermanent(err))
		})
	}
}

func TestInvokeNilFactoryResult(t *testing.T) {
	t.Parallel()

	def := &connectors.ActionDef{ActionSpec: connectors.ActionSpec{Name: "x"}, New: func() connectors.Action { return nil }}
	_, err := Invoke(t.Context(), def, NewCall(t, nil, nil))
	require.ErrorContains(t, err, "factory returned nil")
}

func TestCaptureLogger(t *testing.T) {
	t.Parallel()

	logger, logs := NewCaptureLogger(t)
	logger.Debug("Something happened", "step_id", "s1")
	require.Contains(t, logs.String(), `"msg":"Something happened"`)
	require.Contains(t, logs.String(), `"step_id":"s1"`)
}

// recordingTB stands in for a test so that failing assertions can be observed.
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recordingTB) FailNow() {}

func TestAssertNoSecrets(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		secret    string // default "s3cret"
		out       any
		err       error
		logs      string
		wantWhere string
	}{
		{name: "clean", out: map[string]any{"a": "b"}, err: errors.New("nope"), logs: "msg=ok"},
		{name: "in output", out: map[string]any{"a": "xx-s3cret-xx"}, wantWhere: "output"},
		{name: "in output with html characters", secret: "<s&cret>", out: map[string]any{"a": "x<s&cret>x"}, wantWhere: "output"},
		{name: "in error", err: errors.New("bad token s3cret"), wantWhere: "error"},
		{name: "in logs", logs: `{"url":"http://x/?t=s3cret"}`, wantWhere: "logs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secret := tt.secret
			if secret == "" {
				secret = "s3cret"
			}
			rec := &recordingTB{TB: t}
			AssertNoSecrets(rec, []string{secret}, tt.out, tt.err, tt.logs)
			if tt.wantWhere == "" {
				require.Empty(t, rec.failures)
				return
			}
			require.NotEmpty(t, rec.failures)
			require.Contains(t, strings.Join(rec.failures, "\n"), "leaked into the "+tt.wantWhere)
		})
	}
}
