package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// crmFake stands in for two REST services of the acceptance test: Acme's contacts
// (POST /acme/contacts answers {"id": 478}) and Beta's messages (POST /beta/messages
// answers {"message_id": 7}). Both want the bearer token of their connection.
type crmFake struct {
	*httptest.Server
	mu    sync.Mutex
	calls []string // "METHOD path body"
}

func newCRMFake(t *testing.T) *crmFake {
	f := &crmFake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.calls = append(f.calls, r.Method+" "+r.URL.Path+" "+string(bytes.TrimSpace(b)))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/acme/contacts" && r.Header.Get("Authorization") == "Bearer acme-token-0001":
			_, _ = io.WriteString(w, `{"id": 478}`)
		case r.Method == http.MethodPost && r.URL.Path == "/beta/messages" && r.Header.Get("X-Beta-Key") == "beta-key-00001":
			_, _ = io.WriteString(w, `{"message_id": 7}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"who are you"}`)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *crmFake) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

const acmeConnector = `hookflow_connector: 1
name: acme
title: Acme CRM
version: "1.0.0"
base_url: "{{ conn.base_url }}/acme"
connection:
  fields:
    - {name: base_url, type: string, title: API server, required: true, endpoint: true}
    - {name: token, type: string, title: Token, required: true, secret: true}
  auth: {kind: bearer, token: "{{ conn.token }}"}
actions:
  create_contact:
    title: Create a contact
    input:
      - {name: email, type: string, title: Email, required: true, send: {body: email}}
    request: {method: POST, path: /contacts}
    output:
      - {name: id, type: integer, title: Id, value: "{{ body.id }}"}
`

const betaConnector = `hookflow_connector: 1
name: beta
title: Beta Messenger
version: "0.3.0"
base_url: "{{ conn.base_url }}/beta"
connection:
  fields:
    - {name: base_url, type: string, title: API server, required: true, endpoint: true}
    - {name: key, type: string, title: API key, required: true, secret: true}
  auth: {kind: header, name: X-Beta-Key, value: "{{ conn.key }}"}
actions:
  send_message:
    title: Send a message
    input:
      - {name: text, type: string, title: Text, required: true, send: {body: text}}
    request: {method: POST, path: /messages}
    output:
      - {name: message_id, type: integer, title: Message id, value: "{{ body.message_id }}"}
`

// brokenConnector has one mistake, on line 5: a field the format does not have.
const brokenConnector = `hookflow_connector: 1
name: broken
title: Broken
base_url: https://broken.example
colour: red
connection:
  auth: {kind: none}
`

// TestConnectorFilesAcceptance is issue 15's first acceptance point, with real processes
// sharing PostgreSQL and a data directory: (a) a connector file dropped into the running
// server's folder is used by a workflow against a fake of its service, with no restart;
// (b) a connector uploaded to the second process runs workflows through the first (the
// second only ingests); (c) a broken file is reported with its path and line, in the API
// and the log, and the other connectors keep working.
func TestConnectorFilesAcceptance(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t, store.Postgres)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env := []string{"HOOKFLOW_DATABASE_URL=" + url, "HOOKFLOW_DATA_DIR=" + data, "HOOKFLOW_SECRET_KEY=" + testSecretKey,
		"HOOKFLOW_CONNECTORS_RELOAD=100ms", "HOOKFLOW_WORKERS=4"}
	run(t, dir, env, "migrate")
	fake := newCRMFake(t)
	first, a := setupAPI(t, dir, env)
	second := start(t, dir, env, "serve", "--workers", "0")
	b := api{base: "http://" + second.addr, token: a.token}

	// (a) A file dropped into the folder of the running processes.
	folder := filepath.Join(data, "connectors")
	require.NoError(t, os.MkdirAll(folder, 0o700))
	dropFile(t, filepath.Join(folder, "acme.yaml"), acmeConnector)
	waitInstalled(t, a, "acme")
	require.Equal(t, http.StatusCreated, a.do(t, http.MethodPost, "/api/v1/connections", map[string]any{
		"name": "acme-main", "connector": "acme", "config": map[string]any{"base_url": fake.URL, "token": "acme-token-0001"}}, nil))
	acmeHook := createWorkflow(t, a, map[string]any{"name": "contacts", "trigger": map[string]any{"type": "webhook"},
		"steps": []any{map[string]any{"id": "contact", "uses": "acme.create_contact", "connection": "acme-main",
			"with": map[string]any{"email": "{{ trigger.body.email }}"}}}})
	out := runHook(t, a, acmeHook, `{"email":"ann@example.com"}`)
	require.JSONEq(t, `{"id":478}`, out)
	require.Contains(t, fake.seen(), `POST /acme/contacts {"email":"ann@example.com"}`)

	// (b) Uploaded to the second process; run by the first, the only one with workers.
	res, body := postRaw(t, b, "/api/v1/connectors", "application/yaml", betaConnector)
	require.Equal(t, http.StatusCreated, res, body)
	waitInstalled(t, a, "beta")
	require.Equal(t, http.StatusCreated, a.do(t, http.MethodPost, "/api/v1/connections", map[string]any{
		"name": "beta-main", "connector": "beta", "config": map[string]any{"base_url": fake.URL, "key": "beta-key-00001"}}, nil))
	betaHook := createWorkflow(t, a, map[string]any{"name": "messages", "trigger": map[string]any{"type": "webhook"},
		"steps": []any{map[string]any{"id": "send", "uses": "beta.send_message", "connection": "beta-main",
			"with": map[string]any{"text": "{{ trigger.body.text }}"}}}})
	out = runHook(t, a, betaHook, `{"text":"hello"}`)
	require.JSONEq(t, `{"message_id":7}`, out)
	require.Contains(t, fake.seen(), `POST /beta/messages {"text":"hello"}`)

	// (c) A broken file: reported with its path and line; the others keep working.
	brokenPath := filepath.Join(folder, "broken.yaml")
	dropFile(t, brokenPath, brokenConnector)
	var problem map[string]any
	require.Eventually(t, func() bool {
		var list struct {
			Problems []map[string]any `json:"problems"`
		}
		require.Equal(t, http.StatusOK, a.do(t, http.MethodGet, "/api/v1/connectors", nil, &list))
		for _, p := range list.Problems {
			if p["file"] == brokenPath {
				problem = p
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "the broken file is never reported")
	require.EqualValues(t, 5, problem["line"], "problem: %v", problem)
	require.Contains(t, first.log(), `msg="Connector file not loaded" file=`+brokenPath)
	require.Contains(t, first.log(), "line=5")
	out = runHook(t, a, acmeHook, `{"email":"bob@example.com"}`)
	require.JSONEq(t, `{"id":478}`, out)
	out = runHook(t, b, betaHook, `{"text":"still here"}`)
	require.JSONEq(t, `{"message_id":7}`, out)

	first.stop(t)
	second.stop(t)
}

// dropFile writes a file the way a deployment should: aside, then renamed into place, so
// a reload never reads half of it.
func dropFile(t *testing.T, path, text string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path+".tmp", []byte(text), 0o600))
	require.NoError(t, os.Rename(path+".tmp", path))
}

// waitInstalled waits until the server lists the connector.
func waitInstalled(t *testing.T, a api, name string) {
	t.Helper()
	var last string
	require.Eventually(t, func() bool {
		code, body := get(t, a.base+"/api/v1/connectors/"+name, a.token)
		last = body
		return code == http.StatusOK && strings.Contains(body, `"installed":true`)
	}, 30*time.Second, 50*time.Millisecond, "connector %s never installed: %s", name, last)
}

func createWorkflow(t *testing.T, a api, def map[string]any) string {
	t.Helper()
	var wf struct {
		WebhookURL string `json:"webhook_url"`
	}
	require.Equal(t, http.StatusCreated, a.do(t, http.MethodPost, "/api/v1/workflows", def, &wf))
	return wf.WebhookURL
}

// runHook sends a webhook and returns the output of the run's only step once it succeeded.
func runHook(t *testing.T, a api, hook, body string) string {
	t.Helper()
	res, err := http.Post(hook, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	var ids struct {
		RunID string `json:"run_id"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&ids))
	res.Body.Close()
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Steps  []struct {
			Output json.RawMessage `json:"output"`
		} `json:"steps"`
	}
	require.Eventually(t, func() bool {
		require.Equal(t, http.StatusOK, a.do(t, http.MethodGet, "/api/v1/runs/"+ids.RunID, nil, &r))
		return r.Status == "succeeded" || r.Status == "failed"
	}, 60*time.Second, 50*time.Millisecond, "run %s never finished", ids.RunID)
	require.Equal(t, "succeeded", r.Status, r.Error)
	require.Len(t, r.Steps, 1)
	return string(r.Steps[0].Output)
}

// postRaw posts a body of the given type and returns the status and the body.
func postRaw(t *testing.T, a api, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}
