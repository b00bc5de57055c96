package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/secrets"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/workflow"
)

// credSink is a loopback server standing for a host the attacker controls: it records the
// path and the Authorization header of every request.
type credSink struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newCredSink(t *testing.T) *credSink {
	s := &credSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.URL.Path+" "+r.Header.Get("Authorization"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true,"result":{"message_id":1,"chat":{"id":1}}}`))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *credSink) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// requireRefusedField checks that err is a validation error (422) on path whose message
// contains want.
func requireRefusedField(t *testing.T, err error, path, want string) {
	t.Helper()
	var ve *workflow.ValidationError
	require.ErrorAs(t, err, &ve)
	for _, fe := range ve.Errors {
		if fe.Path == path {
			require.Contains(t, fe.Message, want)
			return
		}
	}
	t.Fatalf("no error on %s in %v", path, err)
}

// TestAttackEditorMovesBaseURL is issue 11's exfiltration by an editor: change only the
// base_url of a connection whose secret the editor cannot read, and let the next run send
// the secret to the new host. The update must be refused, and nothing reaches the host.
func TestAttackEditorMovesBaseURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const token = "crm-SECRET-token-0123456789"
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	legit, evil := newCredSink(t), newCredSink(t)
	_, err := eng.CreateConnection(ctx, engine.ConnectionInput{Name: "crm", Connector: "http",
		Config: map[string]any{"base_url": legit.URL, "auth": "bearer", "token": token}})
	require.NoError(t, err)
	wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"to crm","trigger":{"type":"webhook"},"steps":[
	  {"id":"lead","uses":"http.request","connection":"crm","with":{"method":"POST","url":"/leads"}}]}`))
	require.NoError(t, err)

	_, updateErr := eng.UpdateConnection(ctx, "crm", engine.ConnectionInput{Config: map[string]any{
		"base_url": evil.URL, "auth": "bearer"}})
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{}`).RunID)
	require.Empty(t, evil.requests(), "the secret reached the new host")
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	require.Equal(t, []string{"/leads Bearer " + token}, legit.requests())
	requireRefusedField(t, updateErr, "config.base_url", "send token again")

	// Other ways to point the same secret elsewhere: adding a field that widens where it
	// goes, moving it to another connector.
	_, err = eng.UpdateConnection(ctx, "crm", engine.ConnectionInput{Config: map[string]any{
		"base_url": legit.URL, "auth": "bearer", "allowed_hosts": []any{"evil.example"}}})
	requireRefusedField(t, err, "config.allowed_hosts", "send token again")
	_, err = eng.UpdateConnection(ctx, "crm", engine.ConnectionInput{Connector: "telegram", Config: map[string]any{}})
	requireRefusedField(t, err, "connector", "send token again")

	// Editing what does not move the secret keeps it, as before: another path on the
	// same origin included.
	_, err = eng.UpdateConnection(ctx, "crm", engine.ConnectionInput{Config: map[string]any{
		"base_url": legit.URL + "/v2/", "auth": "bearer", "rate_limit": 5}})
	require.NoError(t, err)
	// A user name in the URL is sent to the server too: it counts.
	_, err = eng.UpdateConnection(ctx, "crm", engine.ConnectionInput{Config: map[string]any{
		"base_url": strings.Replace(legit.URL, "http://", "http://someone@", 1), "auth": "bearer"}})
	requireRefusedField(t, err, "config.base_url", "send token again")
	// Whoever knows the secret, or clears it, may move the connection.
	_, err = eng.UpdateConnection(ctx, "crm", engine.ConnectionInput{Config: map[string]any{
		"base_url": evil.URL, "auth": "bearer", "token": "the-editor-own-token"}})
	require.NoError(t, err)
	_, err = eng.UpdateConnection(ctx, "crm", engine.ConnectionInput{Config: map[string]any{
		"base_url": legit.URL, "auth": "none", "token": nil}})
	require.NoError(t, err)
}

// TestAttackEditorMovesTelegramBaseURL: the bot token is in every request's path, so a
// moved base_url would hand the bot over.
func TestAttackEditorMovesTelegramBaseURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const token = "123456789:AAH-SECRET-bot-token"
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	evil := newCredSink(t)
	_, err := eng.CreateConnection(ctx, engine.ConnectionInput{Name: "bot", Connector: "telegram",
		Config: map[string]any{"token": token}})
	require.NoError(t, err)
	wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"tell","trigger":{"type":"webhook"},"steps":[
	  {"id":"say","uses":"telegram.send_message","connection":"bot","with":{"chat_id":"1","text":"hi"}}]}`))
	require.NoError(t, err)

	_, updateErr := eng.UpdateConnection(ctx, "bot", engine.ConnectionInput{Config: map[string]any{"base_url": evil.URL}})
	if updateErr == nil {
		enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{}`).RunID)
	}
	for _, r := range evil.requests() {
		require.NotContains(t, r, token, "the bot token reached the new host")
	}
	requireRefusedField(t, updateErr, "config.base_url", "send token again")
	_, err = eng.UpdateConnection(ctx, "bot", engine.ConnectionInput{Config: map[string]any{"base_url": "https://api.telegram.org"}})
	require.NoError(t, err, "spelling out the default is no move")
}

// TestAttackEditorMovesSMTPHost: the SMTP password goes to host and port.
func TestAttackEditorMovesSMTPHost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Workers: -1})
	_, err := eng.CreateConnection(ctx, engine.ConnectionInput{Name: "mail", Connector: "email",
		Config: map[string]any{"host": "smtp.example.com", "username": "u", "password": "smtp-SECRET-pw", "from": "a@example.com"}})
	require.NoError(t, err)
	for field, value := range map[string]any{"host": "smtp.evil.example", "port": 2525, "security": "tls"} {
		config := map[string]any{"host": "smtp.example.com", "username": "u", "from": "a@example.com"}
		config[field] = value
		_, err = eng.UpdateConnection(ctx, "mail", engine.ConnectionInput{Config: config})
		requireRefusedField(t, err, "config."+field, "send password again")
	}
	_, err = eng.UpdateConnection(ctx, "mail", engine.ConnectionInput{Config: map[string]any{
		"host": "smtp.example.com", "security": "starttls", "username": "u", "from": "b@example.com"}})
	require.NoError(t, err, "the default security spelled out, and another sender, move nothing")
	c, err := eng.GetConnection(ctx, "mail")
	require.NoError(t, err)
	require.Equal(t, []string{"password"}, c.SecretsSet)
}

// TestAttackURLFromWebhookBody is issue 11's second exfiltration: a credentialed http
// connection without base_url, and a step whose URL comes from the body of an
// unauthenticated webhook. Such a connection can no longer be saved; one stored before
// the rule existed fails its step before any request is sent.
func TestAttackURLFromWebhookBody(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const token = "legacy-SECRET-token-0123456789"
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	evil := newCredSink(t)

	// A connection saved by an earlier version, written to the database directly.
	st, err := store.Open(ctx, store.Config{URL: eng.DatabaseURL})
	require.NoError(t, err)
	defer st.Close()
	key, err := secrets.ParseKey(enginetest.SecretKey)
	require.NoError(t, err)
	box, err := secrets.NewBox(key)
	require.NoError(t, err)
	sealed, err := box.Seal(token)
	require.NoError(t, err)
	secretsJSON, err := json.Marshal(map[string]string{"token": sealed})
	require.NoError(t, err)
	require.NoError(t, st.CreateConnection(ctx, &store.Connection{ID: "legacy-conn", Name: "legacy", Connector: "http",
		Config: `{"auth":"bearer"}`, Secrets: string(secretsJSON), CreatedAt: nowUTC(), UpdatedAt: nowUTC()}))

	wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"forward","trigger":{"type":"webhook"},"steps":[
	  {"id":"fwd","uses":"http.request","connection":"legacy","with":{"method":"POST","url":"{{ trigger.body.url }}"}}]}`))
	require.NoError(t, err)
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, fmt.Sprintf(`{"url":%q}`, evil.URL+"/steal")).RunID)
	require.Empty(t, evil.requests(), "the secret reached the URL from the webhook body")
	require.Equal(t, engine.RunFailed, run.Status)
	require.Contains(t, run.Error, "needs a base_url or allowed_hosts")
	require.Equal(t, 1, run.Steps[0].Attempts, "a refusal is permanent")
	require.False(t, strings.Contains(run.Error, token))

	_, err = eng.CreateConnection(ctx, engine.ConnectionInput{Name: "open", Connector: "http",
		Config: map[string]any{"auth": "bearer", "token": token}})
	requireRefusedField(t, err, "config", "needs a base_url or allowed_hosts")
}

// TestOutboundPolicy: the engine's outbound settings reach every step call, and bad
// settings stop it at start.
func TestOutboundPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, cfg := range []engine.Config{
		{OutboundPrivate: "sometimes"},
		{OutboundAllow: []string{"not a host"}},
		{OutboundDeny: []string{"10.0.0.0/40"}},
	} {
		cfg.DataDir, cfg.DatabaseURL = t.TempDir(), ""
		_, err := engine.Open(ctx, cfg)
		require.ErrorContains(t, err, "invalid engine config", "%+v", cfg)
	}

	sink := newCredSink(t)
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Configure: func(c *engine.Config) {
		c.OutboundPrivate = engine.OutboundDeny
		c.OutboundAllow = []string{"localhost"}
	}})
	wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"out","trigger":{"type":"webhook"},"steps":[
	  {"id":"call","uses":"http.request","with":{"url":"{{ trigger.body.url }}"}}]}`))
	require.NoError(t, err)
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, fmt.Sprintf(`{"url":%q}`, sink.URL)).RunID)
	require.Equal(t, engine.RunFailed, run.Status)
	require.Contains(t, run.Error, "refused: private and loopback addresses are denied (HOOKFLOW_OUTBOUND_PRIVATE=deny)")
	require.Equal(t, 1, run.Steps[0].Attempts)
	require.Empty(t, sink.requests())

	// The allow list names localhost, so the same sink by that name is allowed...
	byName := strings.Replace(sink.URL, "127.0.0.1", "localhost", 1)
	run = enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, fmt.Sprintf(`{"url":%q}`, byName)).RunID)
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	// ...until it is one of the server's own listeners, which nothing allows.
	require.NoError(t, eng.AddListener(sink.Listener.Addr().String()))
	run = enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, fmt.Sprintf(`{"url":%q}`, byName)).RunID)
	require.Equal(t, engine.RunFailed, run.Status)
	require.Contains(t, run.Error, "the server's own listeners are never called")
	require.Len(t, sink.requests(), 1)
}
