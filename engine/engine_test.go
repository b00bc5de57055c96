package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	_ "github.com/hookflow/hookflow/connectors/all"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// sink records requests and answers with the status its path asks for:
// /status/404 answers 404, anything else 200 with a JSON echo of the path.
type sink struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
	body map[string]string
}

func newSink(t *testing.T) *sink {
	s := &sink{hits: map[string]int{}, body: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.body[r.URL.Path] = string(b)
		s.mu.Unlock()
		var status int
		if _, err := fmt.Sscanf(r.URL.Path, "/status/%d", &status); err == nil {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"error":"scripted"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"path":%q,"id":42}`, r.URL.Path)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func ingest(t *testing.T, eng *engine.Engine, wf *engine.Workflow, body string) *engine.IngestResult {
	t.Helper()
	res, err := eng.Ingest(context.Background(), wf.HookToken, engine.IngestRequest{
		Method: "POST", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)})
	require.NoError(t, err)
	return res
}

func TestStepFeatures(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{})
		s := newSink(t)
		wf, err := eng.CreateWorkflow(context.Background(), []byte(fmt.Sprintf(`{
		  "name": "features", "trigger": {"type": "webhook"},
		  "steps": [
		    {"id": "skipped", "uses": "http.request", "if": "trigger.body.vip == true", "with": {"url": "%[1]s/vip"}},
		    {"id": "each", "uses": "http.request", "for_each": "trigger.body.items", "with": {"method": "POST", "url": "%[1]s/item/{{ index }}", "body": {"v": "{{ item }}"}}},
		    {"id": "broken", "uses": "http.request", "continue_on_error": true, "with": {"url": "%[1]s/status/404"}},
		    {"id": "last", "uses": "core.set", "with": {"count": "{{ len(steps.each.output) }}", "skipped": "{{ steps.skipped.status }}", "broken": "{{ steps.broken.status }}"}}
		  ]}`, s.URL)))
		require.NoError(t, err)
		run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{"vip":false,"items":["a","b","c"]}`).RunID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		require.Len(t, run.Steps, 4)
		require.Equal(t, "skipped", run.Steps[0].Status)
		require.Zero(t, s.count("/vip"))
		require.Equal(t, "succeeded", run.Steps[1].Status)
		for i, v := range []string{"a", "b", "c"} {
			require.Equal(t, 1, s.count(fmt.Sprintf("/item/%d", i)))
			require.JSONEq(t, fmt.Sprintf(`{"v":%q}`, v), s.body[fmt.Sprintf("/item/%d", i)])
		}
		require.Equal(t, "failed", run.Steps[2].Status)
		require.Contains(t, run.Steps[2].Error, "404")
		require.JSONEq(t, `{"count":3,"skipped":"skipped","broken":"failed"}`, string(run.Steps[3].Output))
	})
}

func TestFailingStepFailsRun(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{})
		s := newSink(t)
		wf, err := eng.CreateWorkflow(context.Background(), []byte(fmt.Sprintf(`{
		  "name": "fails", "trigger": {"type": "webhook"},
		  "steps": [
		    {"id": "bad", "uses": "http.request", "with": {"url": "%[1]s/status/400"}},
		    {"id": "never", "uses": "http.request", "with": {"url": "%[1]s/never"}}
		  ]}`, s.URL)))
		require.NoError(t, err)
		run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{}`).RunID)
		require.Equal(t, engine.RunFailed, run.Status)
		require.Contains(t, run.Error, "step bad")
		require.Contains(t, run.Error, "400")
		require.Len(t, run.Steps, 1, "nothing runs after a failed step")
		require.Zero(t, s.count("/never"))

		// An expression error at run time fails the run with the reason.
		wf2, err := eng.CreateWorkflow(context.Background(), []byte(`{"name":"expr","trigger":{"type":"webhook"},
		  "filter":"trigger.body.n > 1", "steps": []}`))
		require.NoError(t, err)
		run = enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf2, `{"n":"text"}`).RunID)
		require.Equal(t, engine.RunFailed, run.Status)
		require.Contains(t, run.Error, "filter")
	})
}

// TestResumeAfterCrash: a run whose worker died after its first step is taken over when
// the lease expires, resumes at the second step, and never repeats the first.
func TestResumeAfterCrash(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		url := storetest.URL(t, d)
		s := newSink(t)
		// The first engine has no workers; the test plays the dead worker through the store.
		first := enginetest.New(t, d, enginetest.Options{DatabaseURL: url, NoStart: true})
		wf, err := first.CreateWorkflow(ctx, []byte(fmt.Sprintf(`{"name":"resume","trigger":{"type":"webhook"},"steps":[
		  {"id":"one","uses":"http.request","with":{"url":"%[1]s/one"}},
		  {"id":"two","uses":"http.request","with":{"method":"POST","url":"%[1]s/two","body":{"from_one":"{{ steps.one.output.body.id }}"}}}]}`, s.URL)))
		require.NoError(t, err)
		res := ingest(t, first.Engine, wf, `{}`)
		st, err := store.Open(ctx, store.Config{URL: url})
		require.NoError(t, err)
		defer st.Close()
		claimed, err := st.ClaimRuns(ctx, "dead-worker", nowUTC(), nowUTC().Add(-1), 1, nil)
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		out := `{"status":200,"headers":{},"body":{"path":"/one","id":7}}`
		_, err = st.SaveStep(ctx, store.LeaseOf(&claimed[0]), &store.StepRun{ID: "step-one", RunID: res.RunID, StepID: "one",
			Status: store.StepSucceeded, Attempts: 1, Output: &out, StartedAt: nowUTC()}, 1, nowUTC(), nowUTC().Add(-1))
		require.NoError(t, err)

		second := enginetest.New(t, d, enginetest.Options{DatabaseURL: url})
		run := enginetest.WaitRun(t, second.Engine, res.RunID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		require.Equal(t, 2, run.Attempt, "claimed twice: by the dead worker and the survivor")
		require.Zero(t, s.count("/one"), "a finished step never runs again")
		require.Equal(t, 1, s.count("/two"))
		require.JSONEq(t, `{"from_one":7}`, s.body["/two"], "the resumed step sees the earlier output")
	})
}

// TestRestartKeepsEverything reopens the same data directory: workflows, connections and
// runs are still there, and connection secrets still decrypt.
func TestRestartKeepsEverything(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		url := storetest.URL(t, d)
		dataDir := t.TempDir()
		s := newSink(t)
		var wfID, runID string
		func() {
			eng, err := engine.Open(ctx, engine.Config{DataDir: dataDir, DatabaseURL: url, Workers: 1, Logger: enginetest.Logger(t)})
			require.NoError(t, err)
			defer eng.Close()
			eng.Start(ctx)
			_, err = eng.CreateConnection(ctx, engine.ConnectionInput{Name: "sink", Connector: "http",
				Config: map[string]any{"base_url": s.URL, "auth": "bearer", "token": "persisted-SECRET"}})
			require.NoError(t, err)
			wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"kept","trigger":{"type":"webhook"},"steps":[
			  {"id":"a","uses":"http.request","connection":"sink","with":{"url":"/first"}}]}`))
			require.NoError(t, err)
			wfID = wf.ID
			runID = enginetest.WaitRun(t, eng, ingest(t, eng, wf, `{}`).RunID).ID
		}()
		require.FileExists(t, filepath.Join(dataDir, "secret.key"), "the generated key is kept for the next start")

		eng, err := engine.Open(ctx, engine.Config{DataDir: dataDir, DatabaseURL: url, Workers: 1, Logger: enginetest.Logger(t)})
		require.NoError(t, err)
		defer eng.Close()
		eng.Start(ctx)
		wf, err := eng.GetWorkflow(ctx, wfID)
		require.NoError(t, err)
		require.Equal(t, "kept", wf.Name)
		conn, err := eng.GetConnection(ctx, "sink")
		require.NoError(t, err)
		require.Equal(t, []string{"token"}, conn.SecretsSet)
		run, err := eng.GetRun(ctx, runID)
		require.NoError(t, err)
		require.Equal(t, engine.RunSucceeded, run.Status)
		// The secret still decrypts after the restart: a new run authenticates with it.
		run2 := enginetest.WaitRun(t, eng, ingest(t, eng, wf, `{}`).RunID)
		require.Equal(t, engine.RunSucceeded, run2.Status, run2.Error)
		require.Equal(t, 2, s.count("/first"))
	})
}

// TestSecretsEncryptedAtRest reads the raw database and finds no secret in plain text.
func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	const secret = "sk-PLAINTEXT-must-not-appear-7f3a"
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		eng := enginetest.New(t, d, enginetest.Options{})
		_, err := eng.CreateConnection(ctx, engine.ConnectionInput{Name: "crm", Connector: "http",
			Config: map[string]any{"base_url": "https://crm.example.com", "auth": "header", "header_name": "X-Api-Key", "header_value": secret}})
		require.NoError(t, err)
		_, err = eng.UpdateConnection(ctx, "crm", engine.ConnectionInput{Config: map[string]any{
			"base_url": "https://crm2.example.com", "auth": "basic", "username": "u", "password": secret + "-2",
			"header_value": secret + "-3"}}) // a new base_url takes the secrets sent again
		require.NoError(t, err)
		c, err := eng.GetConnection(ctx, "crm")
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"header_value", "password"}, c.SecretsSet)
		raw, err := json.Marshal(c)
		require.NoError(t, err)
		require.NotContains(t, string(raw), secret)

		if d == store.SQLite {
			require.NoError(t, eng.Close())
			files, err := filepath.Glob(eng.DatabaseURL + "*") // the database, its WAL and shm
			require.NoError(t, err)
			require.NotEmpty(t, files)
			for _, f := range files {
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				require.NotContains(t, string(b), secret, f)
				require.NotContains(t, string(b), "PLAINTEXT", f)
			}
			return
		}
		st, err := store.Open(ctx, store.Config{URL: eng.DatabaseURL})
		require.NoError(t, err)
		defer st.Close()
		dump, err := st.DumpTable(ctx, "connections")
		require.NoError(t, err)
		require.Contains(t, dump, "crm2.example.com", "the dump does read the table")
		require.NotContains(t, dump, "PLAINTEXT")
	})
}

// TestLostSecretKey: after the key changes, a connection's old secrets cannot be read;
// an update that sends them again repairs the connection instead of failing on them.
func TestLostSecretKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := storetest.URL(t, store.SQLite)
	first := enginetest.New(t, store.SQLite, enginetest.Options{DatabaseURL: url, Workers: -1})
	_, err := first.CreateConnection(ctx, engine.ConnectionInput{Name: "crm", Connector: "http",
		Config: map[string]any{"base_url": "https://crm.example.com", "auth": "bearer", "token": "old-secret"}})
	require.NoError(t, err)
	require.NoError(t, first.Close())

	other, err := engine.Open(ctx, engine.Config{DatabaseURL: url, DataDir: t.TempDir(), Workers: -1,
		SecretKey: "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"})
	require.NoError(t, err)
	defer other.Close()
	_, err = other.UpdateConnection(ctx, "crm", engine.ConnectionInput{Config: map[string]any{"base_url": "https://crm.example.com", "auth": "bearer"}})
	require.ErrorContains(t, err, "cannot be decrypted with the current secret key")
	_, err = other.UpdateConnection(ctx, "crm", engine.ConnectionInput{Config: map[string]any{"base_url": "https://crm.example.com", "auth": "bearer", "token": "new-secret"}})
	require.NoError(t, err, "sending the secret again repairs the connection")
}

// TestSecretKeyMismatch: a process started with another key than the database's
// connections were encrypted with refuses to start.
func TestSecretKeyMismatch(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		url := storetest.URL(t, d)
		first := enginetest.New(t, d, enginetest.Options{DatabaseURL: url, Workers: -1})
		require.NoError(t, first.CheckSecretKey(ctx))
		require.NoError(t, first.CheckSecretKey(ctx), "the same key passes again")
		other, err := engine.Open(ctx, engine.Config{DatabaseURL: url, DataDir: t.TempDir(), Workers: -1})
		require.NoError(t, err)
		defer other.Close()
		require.ErrorIs(t, other.CheckSecretKey(ctx), engine.ErrSecretKeyMismatch, "a generated key differs")
	})
}

func TestEnsureAdminAndTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Workers: -1})
	require.NoError(t, eng.EnsureAdmin(ctx, "Boss@Example.com", "long enough"))
	require.NoError(t, eng.EnsureAdmin(ctx, "other@example.com", "long enough"), "a second call does nothing")
	_, err := eng.CreateToken(ctx, "other@example.com", "x")
	require.ErrorIs(t, err, engine.ErrNotFound)
	tok, err := eng.CreateToken(ctx, "boss@example.com", "ci")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(tok, "hf_"))
	u, err := eng.Authenticate(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, "boss@example.com", u.Email)
	_, err = eng.Authenticate(ctx, tok+"x")
	require.ErrorIs(t, err, engine.ErrUnauthorized)

	_, err = eng.CreateUser(ctx, "boss@example.com", "long enough", "")
	require.ErrorIs(t, err, engine.ErrConflict)
	_, err = eng.CreateUser(ctx, "not-an-email", "short", "root")
	require.ErrorContains(t, err, "email")
	require.ErrorContains(t, err, "password")
	require.ErrorContains(t, err, "role")
}
