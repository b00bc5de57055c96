package main_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// callOnce creates a workflow whose one step GETs url, fires its webhook and returns the
// finished run.
func callOnce(t *testing.T, a api, url string) (status, errText string, attempts int) {
	t.Helper()
	var wf struct {
		WebhookURL string `json:"webhook_url"`
	}
	require.Equal(t, http.StatusCreated, a.do(t, http.MethodPost, "/api/v1/workflows", map[string]any{
		"name": "outbound", "trigger": map[string]any{"type": "webhook"},
		"steps": []any{map[string]any{"id": "call", "uses": "http.request", "with": map[string]any{"url": url}}},
	}, &wf))
	res, err := http.Post(wf.WebhookURL, "application/json", bytes.NewReader([]byte(`{}`)))
	require.NoError(t, err)
	var ids struct {
		RunID string `json:"run_id"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&ids))
	res.Body.Close()
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var run struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Steps  []struct {
				Attempts int `json:"attempts"`
			} `json:"steps"`
		}
		require.Equal(t, http.StatusOK, a.do(t, http.MethodGet, "/api/v1/runs/"+ids.RunID, nil, &run))
		switch run.Status {
		case "succeeded", "failed":
			require.Len(t, run.Steps, 1)
			return run.Status, run.Error, run.Steps[0].Attempts
		}
		require.True(t, time.Now().Before(deadline), "run %s still %s", ids.RunID, run.Status)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWorkflowCannotCallItsOwnServer is issue 11's self call: a step that calls the
// server's own /metrics, on the loopback address it listens on, fails permanently and
// names the rule. Loopback is otherwise allowed.
func TestWorkflowCannotCallItsOwnServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"HOOKFLOW_DATA_DIR=" + filepath.Join(dir, "data"), "HOOKFLOW_DATABASE_URL=", "HOOKFLOW_SECRET_KEY=" + testSecretKey}
	srv, a := setupAPI(t, dir, env)
	status, errText, attempts := callOnce(t, a, "http://"+srv.addr+"/metrics")
	require.Equal(t, "failed", status)
	require.Contains(t, errText, "outbound call to "+srv.addr+" refused: the server's own listeners are never called")
	require.Equal(t, 1, attempts, "a refusal is permanent")

	var hits atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(sink.Close)
	status, errText, _ = callOnce(t, a, sink.URL)
	require.Equal(t, "succeeded", status, errText)
	require.EqualValues(t, 1, hits.Load(), "loopback services are allowed by default")
}

// TestOutboundPrivateDeny: with HOOKFLOW_OUTBOUND_PRIVATE=deny a loopback sink is refused
// before anything is sent.
func TestOutboundPrivateDeny(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"HOOKFLOW_DATA_DIR=" + filepath.Join(dir, "data"), "HOOKFLOW_DATABASE_URL=", "HOOKFLOW_SECRET_KEY=" + testSecretKey,
		"HOOKFLOW_OUTBOUND_PRIVATE=deny"}
	var hits atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(sink.Close)
	_, a := setupAPI(t, dir, env)
	status, errText, attempts := callOnce(t, a, sink.URL+"/hook")
	require.Equal(t, "failed", status)
	require.Contains(t, errText, "refused: private and loopback addresses are denied (HOOKFLOW_OUTBOUND_PRIVATE=deny)")
	require.Equal(t, 1, attempts)
	require.Zero(t, hits.Load(), "nothing reached the sink")
}
