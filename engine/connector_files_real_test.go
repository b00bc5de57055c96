package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// contactsFile is a declarative connector file whose version decides the API path
// prefix, so a test can tell which version sent a request.
func contactsFile(version string) string {
	return `hookflow_connector: 1
name: contacts
title: Contacts
version: "` + version + `"
base_url: "{{ conn.base_url }}/v` + version + `"
connection:
  fields:
    - {name: base_url, type: string, title: API server, required: true, endpoint: true}
    - {name: token, type: string, title: Token, required: true, secret: true}
  auth: {kind: bearer, token: "{{ conn.token }}"}
actions:
  create:
    title: Create a contact
    input:
      - {name: email, type: string, title: Email, required: true, send: {body: email}}
    request: {method: POST, path: /contacts}
    output:
      - {name: path, type: string, title: Path, value: "{{ body.path }}"}
`
}

// echoPath answers every request with {"path": <the request's path>}.
func echoPath(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestConnectorFileReloadRealFiles is the in-process reload test with real connector
// files (SQLite): a changed file is used by the next run, a broken change keeps the last
// good version and is reported with its line, a deleted file leaves a workflow using it
// failing validation.
func TestConnectorFileReloadRealFiles(t *testing.T) {
	t.Parallel()
	b := setupLoader(t, store.SQLite, enginetest.Options{}, nil)
	eng, ctx := b.eng.Engine, context.Background()
	fake := echoPath(t)
	path := b.write(t, "contacts.yaml", contactsFile("1"))
	waitConnector(t, eng, "contacts", "1")
	_, err := eng.CreateConnection(ctx, engine.ConnectionInput{Name: "contacts", Connector: "contacts",
		Config: map[string]any{"base_url": fake.URL, "token": "contacts-token-1"}})
	require.NoError(t, err)
	def := `{"name":"contacts","trigger":{"type":"webhook"},"steps":[{"id":"create","uses":"contacts.create","connection":"contacts","with":{"email":"a@example.com"}}]}`
	wf, err := eng.CreateWorkflow(ctx, []byte(def))
	require.NoError(t, err)
	require.Equal(t, map[string]any{"path": "/v1/contacts"}, sendOutput(t, eng, wf))

	b.write(t, "contacts.yaml", contactsFile("2"))
	waitConnector(t, eng, "contacts", "2")
	require.Equal(t, map[string]any{"path": "/v2/contacts"}, sendOutput(t, eng, wf), "the next run uses the new file")

	// Line 5 of the file gets a field the format does not have.
	broken := strings.Replace(contactsFile("3"), "base_url:", "colour: red\nbase_url:", 1)
	b.write(t, "contacts.yaml", broken)
	require.Eventually(t, func() bool { return len(eng.ConnectorProblems()) > 0 }, 10*time.Second, 5*time.Millisecond)
	p := eng.ConnectorProblems()[0]
	require.Equal(t, path, p.File)
	require.Equal(t, 5, p.Line, "problem: %+v", p)
	require.Equal(t, map[string]any{"path": "/v2/contacts"}, sendOutput(t, eng, wf), "the last good version stays")
	require.Contains(t, b.logs.String(), "line=5")

	require.NoError(t, os.Remove(path))
	waitConnector(t, eng, "contacts", "")
	_, err = eng.ValidateWorkflow(ctx, []byte(def))
	require.ErrorContains(t, err, "steps[0].uses: connector contacts is not installed")
}

// oauthFake is a service whose OAuth2 token endpoint rotates the refresh token on every
// refresh and whose API wants the latest access token.
type oauthFake struct {
	*httptest.Server
	mu      sync.Mutex
	refresh string // the one valid refresh token
	access  string
	n       int
}

func newOAuthFake(t *testing.T, refresh string) *oauthFake {
	f := &oauthFake{refresh: refresh}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/oauth/token":
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			if form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != f.refresh {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
				return
			}
			f.n++
			f.access, f.refresh = fmt.Sprintf("access-token-%04d", f.n), fmt.Sprintf("rotated-refresh-%04d", f.n)
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": f.access, "token_type": "bearer",
				"expires_in": 3600, "refresh_token": f.refresh})
		case "/api/me":
			if r.Header.Get("Authorization") != "Bearer "+f.access {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = io.WriteString(w, `{"ok":true}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

const rotorFile = `hookflow_connector: 1
name: rotor
title: Rotor
version: "1"
base_url: "{{ conn.base_url }}"
connection:
  fields:
    - {name: base_url, type: string, title: API server, required: true, endpoint: true}
    - {name: client_id, type: string, title: Client id, required: true}
    - {name: client_secret, type: string, title: Client secret, required: true, secret: true}
    - {name: refresh_token, type: string, title: Refresh token, required: true, secret: true}
  auth:
    kind: oauth2_refresh_token
    token_url: /oauth/token
    client_id: "{{ conn.client_id }}"
    client_secret: "{{ conn.client_secret }}"
    refresh_token_field: refresh_token
actions:
  me:
    title: Who am I
    request: {path: /api/me}
`

// TestRotatedRefreshTokenIsStored: a declarative OAuth2 connector uploaded through the
// API rotates the refresh token on its first call, and the engine's credential store
// keeps the new one, sealed and out of the logs, beside the connection's other secrets.
func TestRotatedRefreshTokenIsStored(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setupLoader(t, d, enginetest.Options{}, nil)
		eng, ctx := b.eng.Engine, context.Background()
		fake := newOAuthFake(t, "first-refresh-0000")
		_, err := eng.PutConnectorFile(ctx, "rotor", []byte(rotorFile))
		require.NoError(t, err)
		_, err = eng.CreateConnection(ctx, engine.ConnectionInput{Name: "rotor", Connector: "rotor", Config: map[string]any{
			"base_url": fake.URL, "client_id": "client-1", "client_secret": "client-secret-1", "refresh_token": "first-refresh-0000"}})
		require.NoError(t, err)
		wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"rotor","trigger":{"type":"webhook"},"steps":[{"id":"me","uses":"rotor.me","connection":"rotor"}]}`))
		require.NoError(t, err)
		run := enginetest.WaitRun(t, eng, ingest(t, eng, wf, `{}`).RunID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)

		creds, err := eng.ConnectionCredentials(ctx, "rotor")
		require.NoError(t, err)
		cur, err := creds.CurrentSecrets(ctx)
		require.NoError(t, err)
		require.Equal(t, "rotated-refresh-0001", cur["refresh_token"], "the rotated refresh token is stored")
		require.Equal(t, "client-secret-1", cur["client_secret"], "the other secrets stay")
		require.NotContains(t, b.logs.String(), "rotated-refresh-0001")

	})
}

// TestConnectorFilesLoadAtStart: the files already in the folder are installed by Start,
// before it returns, even with the reload loop off.
func TestConnectorFilesLoadAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(dir+"/connectors", 0o700))
	require.NoError(t, os.WriteFile(dir+"/connectors/contacts.yaml", []byte(contactsFile("7")), 0o600))
	b := setupLoader(t, store.SQLite, enginetest.Options{DataDir: dir, Workers: -1,
		Configure: func(c *engine.Config) { c.ConnectorsReload = -1 }}, nil)
	c, ok := b.eng.Registry().Connector("contacts")
	require.True(t, ok)
	require.Equal(t, "7", c.Version)
	require.Equal(t, "dir", c.Origin)
}
