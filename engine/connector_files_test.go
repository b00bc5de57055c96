package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/declarative"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// fakeLoad reads a stand-in connector file format, "key: value" lines, so the loader's
// rules are tested apart from the declarative parser: name, tag (the version, and what
// the action answers with), action (the action's name, default "send"), and "error:
// message", a problem at that line. The connector has that action and a poller "items".
func fakeLoad(src declarative.Source) (*connectors.Connector, error) {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(src.Data))
	for line := 1; sc.Scan(); line++ {
		k, v, _ := strings.Cut(sc.Text(), ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "error" {
			return nil, &declarative.LoadError{File: src.Path, Problems: []declarative.Problem{{Path: "actions.send", Line: line, Column: 1, Message: v}}}
		}
		kv[k] = v
	}
	tag, action := kv["tag"], kv["action"]
	if action == "" {
		action = "send"
	}
	return &connectors.Connector{Name: kv["name"], Title: "Fake " + kv["name"], Origin: string(src.Origin), Version: tag, Source: src.Path,
		Actions: []*connectors.ActionDef{{ActionSpec: connectors.ActionSpec{Name: action, Title: "Send", FreeInputs: true},
			New: func() connectors.Action { return fakeSend(tag) }}},
		Pollers: []*connectors.PollerDef{{PollerSpec: connectors.PollerSpec{Name: "items", Title: "Items", DefaultKey: "item.id"},
			New: func() connectors.Poller { return fakeSend(tag) }}},
	}, nil
}

type fakeSend string

func (f fakeSend) Run(_ context.Context, call *connectors.Call) (any, error) {
	return map[string]any{"tag": string(f), "text": call.Input["text"]}, nil
}

func (f fakeSend) Poll(context.Context, *connectors.PollCall) (*connectors.PollResult, error) {
	return &connectors.PollResult{Items: []any{map[string]any{"id": 1}}}, nil
}

// logBuffer keeps what a test engine logs, for assertions on it, and shows it in the
// test's log too.
type logBuffer struct {
	t  testing.TB
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) count(s string) int { return strings.Count(l.String(), s) }

// fileBundle is a test engine that loads connector files from its folder, with fakeLoad
// unless the test asks for the real parser, reloading every 20ms.
type fileBundle struct {
	eng  *enginetest.Engine
	dir  string
	logs *logBuffer
}

func setupFiles(t *testing.T, d store.Dialect, opts enginetest.Options) *fileBundle {
	t.Helper()
	return setupLoader(t, d, opts, fakeLoad)
}

// setupLoader is setupFiles with the given loader; nil keeps the real one.
func setupLoader(t *testing.T, d store.Dialect, opts enginetest.Options, load func(declarative.Source) (*connectors.Connector, error)) *fileBundle {
	t.Helper()
	logs := &logBuffer{t: t}
	configure := opts.Configure
	opts.NoStart = true
	opts.Configure = func(c *engine.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.ConnectorsReload = 20 * time.Millisecond
		if configure != nil {
			configure(c)
		}
	}
	eng := enginetest.New(t, d, opts)
	if load != nil {
		eng.SetConnectorLoader(load)
	}
	eng.Start(context.Background())
	return &fileBundle{eng: eng, dir: filepath.Join(eng.DataDir, "connectors"), logs: logs}
}

func (b *fileBundle) write(t *testing.T, name, text string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(b.dir, 0o700))
	path := filepath.Join(b.dir, name)
	// Written aside and renamed, as docs/connectors-files advise: the loader never reads
	// half a file.
	require.NoError(t, os.WriteFile(path+".tmp", []byte(text), 0o600))
	require.NoError(t, os.Rename(path+".tmp", path))
	return path
}

// waitConnector waits until the registry's connector name has version tag ("" waits for
// it to be gone).
func waitConnector(t *testing.T, eng *engine.Engine, name, tag string) {
	t.Helper()
	require.Eventually(t, func() bool {
		c, ok := eng.Registry().Connector(name)
		if tag == "" {
			return !ok
		}
		return ok && c.Version == tag
	}, 10*time.Second, 5*time.Millisecond, "connector %s never reached version %q", name, tag)
}

func sendOutput(t *testing.T, eng *engine.Engine, wf *engine.Workflow) map[string]any {
	t.Helper()
	run := enginetest.WaitRun(t, eng, ingest(t, eng, wf, `{"text":"hi"}`).RunID)
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	var out map[string]any
	require.NoError(t, json.Unmarshal(run.Steps[0].Output, &out))
	return out
}

// TestConnectorFolderHotReload: a file dropped into the running engine's folder installs
// its connector; a changed file is used by the next run; a broken change keeps the last
// good version and is reported (and logged once) with its path and line; a deleted file
// removes the connector, and a workflow using it then fails validation, naming a file of
// that name that does not load.
func TestConnectorFolderHotReload(t *testing.T) {
	t.Parallel()
	b := setupFiles(t, store.SQLite, enginetest.Options{})
	eng, ctx := b.eng.Engine, context.Background()
	path := b.write(t, "acme.yaml", "name: acme\ntag: v1\n")
	waitConnector(t, eng, "acme", "v1")
	c, _ := eng.Registry().Connector("acme")
	require.Equal(t, "dir", c.Origin)

	def := `{"name":"acme","trigger":{"type":"webhook"},"steps":[{"id":"send","uses":"acme.send","with":{"text":"{{ trigger.body.text }}"}}]}`
	wf, err := eng.CreateWorkflow(ctx, []byte(def))
	require.NoError(t, err)
	require.Equal(t, map[string]any{"tag": "v1", "text": "hi"}, sendOutput(t, eng, wf))

	b.write(t, "acme.yaml", "name: acme\ntag: v2\n")
	waitConnector(t, eng, "acme", "v2")
	require.Equal(t, "v2", sendOutput(t, eng, wf)["tag"], "the next run uses the new version")

	b.write(t, "acme.yaml", "name: acme\ntag: v3\nerror: unknown field \"pth\"\n")
	require.Eventually(t, func() bool { return len(eng.ConnectorProblems()) > 0 }, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, []engine.FileProblem{{File: path, Connector: "acme", Path: "actions.send", Line: 3, Column: 1,
		Message: `unknown field "pth"`}}, eng.ConnectorProblems())
	require.Equal(t, "v2", sendOutput(t, eng, wf)["tag"], "a broken file keeps the last good version")
	time.Sleep(100 * time.Millisecond) // several reload passes
	require.Equal(t, 1, b.logs.count(`msg="Connector file not loaded"`), "a problem is logged once per change")
	require.Contains(t, b.logs.String(), "line=3")
	require.Contains(t, b.logs.String(), "kept=")

	require.NoError(t, os.Remove(path))
	waitConnector(t, eng, "acme", "")
	require.Empty(t, eng.ConnectorProblems())
	_, err = eng.ValidateWorkflow(ctx, []byte(def))
	require.ErrorContains(t, err, "steps[0].uses: connector acme is not installed")

	beta := b.write(t, "beta.yml", "name: beta\nerror: request.path is required\n")
	require.Eventually(t, func() bool { return len(eng.ConnectorProblems()) == 1 }, 10*time.Second, 5*time.Millisecond)
	_, err = eng.ValidateWorkflow(ctx, []byte(strings.ReplaceAll(def, "acme.send", "beta.send")))
	require.ErrorContains(t, err, fmt.Sprintf("steps[0].uses: connector beta is not installed; its file %[1]s did not load: %[1]s:2:1: actions.send: request.path is required", beta))

	// Files that are not connector files are left alone.
	b.write(t, "notes.txt", "error: not a connector file")
	b.write(t, ".acme.yaml.swp", "error: an editor's copy")
	time.Sleep(60 * time.Millisecond)
	require.Len(t, eng.ConnectorProblems(), 1)
}

// TestMissingConnectorStepRetries: a saved workflow whose connector goes away, or whose
// action a changed file no longer has, still runs; its step fails retryably, saying what
// is missing, and the run succeeds once the file is back (another process, or this one
// after a reload, may have it).
func TestMissingConnectorStepRetries(t *testing.T) {
	t.Parallel()
	b := setupFiles(t, store.SQLite, enginetest.Options{})
	eng, ctx := b.eng.Engine, context.Background()
	path := b.write(t, "acme.json", "name: acme\ntag: v1\n")
	waitConnector(t, eng, "acme", "v1")
	wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"acme","trigger":{"type":"webhook"},"steps":[
	  {"id":"send","uses":"acme.send","with":{"text":"x"},"retry":{"max_attempts":100,"initial":"20ms","max":"100ms"}}]}`))
	require.NoError(t, err)
	waitStepError := func(runID, msg string) {
		t.Helper()
		require.Eventually(t, func() bool {
			r, err := eng.GetRun(ctx, runID)
			require.NoError(t, err)
			return len(r.Steps) == 1 && strings.Contains(r.Steps[0].Error, msg)
		}, 10*time.Second, 5*time.Millisecond, "run %s never failed its step with %q", runID, msg)
		r, err := eng.GetRun(ctx, runID)
		require.NoError(t, err)
		require.NotEqual(t, engine.RunFailed, r.Status, "what is missing is retried by the step's policy")
	}

	b.write(t, "acme.json", "name: acme\ntag: v2\naction: post\n")
	waitConnector(t, eng, "acme", "v2")
	renamed := ingest(t, eng, wf, `{}`).RunID
	waitStepError(renamed, "connector acme has no action send in this process")

	require.NoError(t, os.Remove(path))
	waitConnector(t, eng, "acme", "")
	removed := ingest(t, eng, wf, `{}`).RunID
	waitStepError(removed, "connector acme is not installed in this process")

	b.write(t, "acme.json", "name: acme\ntag: back\n")
	for _, id := range []string{renamed, removed} {
		run := enginetest.WaitRun(t, eng, id)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		require.Greater(t, run.Steps[0].Attempts, 1)
		require.Contains(t, string(run.Steps[0].Output), `"tag":"back"`)
	}
}

// TestMissingConnectorPollHealth: a poll trigger whose connector goes away reports it in
// the trigger's health; the scheduler goes on.
func TestMissingConnectorPollHealth(t *testing.T) {
	t.Parallel()
	clock := enginetest.NewClock(enginetest.ClockStart())
	b := setupFiles(t, store.SQLite, enginetest.Options{Configure: func(c *engine.Config) { c.Now = clock.Now }})
	eng, ctx := b.eng, context.Background()
	path := b.write(t, "acme.yaml", "name: acme\ntag: v1\n")
	waitConnector(t, eng.Engine, "acme", "v1")
	wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"poll acme","trigger":{"type":"poll","poll":{"uses":"acme.items","cron":"@every 1s"}},"steps":[]}`))
	require.NoError(t, err)
	st := pollStep(t, eng, clock, wf.ID)
	require.Empty(t, st.LastError)

	require.NoError(t, os.Remove(path))
	waitConnector(t, eng.Engine, "acme", "")
	st = pollStep(t, eng, clock, wf.ID)
	require.Contains(t, st.LastError, "connector acme is not installed in this process")
	require.Equal(t, 1, st.ConsecutiveFailures)

	b.write(t, "acme.yaml", "name: acme\ntag: v2\n")
	waitConnector(t, eng.Engine, "acme", "v2")
	st = pollStep(t, eng, clock, wf.ID)
	require.Empty(t, st.LastError, "the trigger recovers when the connector is back")
}

// TestConnectorFileNames: a file cannot take a compiled-in connector's name; an upload
// and a folder file of the same name: the upload wins, and the file is reported until
// the upload goes.
func TestConnectorFileNames(t *testing.T) {
	t.Parallel()
	b := setupFiles(t, store.SQLite, enginetest.Options{})
	eng, ctx := b.eng.Engine, context.Background()
	httpPath := b.write(t, "http.yaml", "name: http\ntag: mine\n")
	dirPath := b.write(t, "acme.yaml", "name: acme\ntag: dir\n")
	waitConnector(t, eng, "acme", "dir")
	require.Eventually(t, func() bool { return len(eng.ConnectorProblems()) == 1 }, 10*time.Second, 5*time.Millisecond)
	p := eng.ConnectorProblems()[0]
	require.Equal(t, httpPath, p.File)
	require.Contains(t, p.Message, "connector http is compiled into this binary (go) and cannot be replaced")
	c, _ := eng.Registry().Connector("http")
	require.Empty(t, c.Version, "the Go connector stays")

	created, err := eng.PutConnectorFile(ctx, "acme", []byte("name: acme\ntag: api\n"))
	require.NoError(t, err)
	require.True(t, created)
	waitConnector(t, eng, "acme", "api") // at once, in fact
	c, _ = eng.Registry().Connector("acme")
	require.Equal(t, "api", c.Origin)
	probs := eng.ConnectorProblems()
	require.Len(t, probs, 2)
	require.Equal(t, dirPath, probs[0].File)
	require.Equal(t, "connector acme is already provided by api:acme, which wins; remove or rename one of them", probs[0].Message)

	require.ErrorIs(t, eng.DeleteConnectorFile(ctx, "http"), engine.ErrConflict)
	require.NoError(t, eng.DeleteConnectorFile(ctx, "acme"))
	waitConnector(t, eng, "acme", "dir")
	err = eng.DeleteConnectorFile(ctx, "acme")
	require.ErrorIs(t, err, engine.ErrConflict)
	require.ErrorContains(t, err, "comes from "+dirPath)
	require.ErrorIs(t, eng.DeleteConnectorFile(ctx, "nothing"), engine.ErrNotFound)
}

// TestConnectorFilesService: uploads are validated before they are stored, named as the
// URL says, guarded by role, listed with origin and revision, and audited.
func TestConnectorFilesService(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setupFiles(t, d, enginetest.Options{Workers: -1})
		eng, ctx := b.eng.Engine, context.Background()

		_, err := eng.PutConnectorFile(ctx, "acme", []byte("name: acme\nerror: bad template\n"))
		var bad *engine.ConnectorFileError
		require.ErrorAs(t, err, &bad)
		require.Equal(t, []engine.FileProblem{{File: "api:acme", Connector: "acme", Path: "actions.send", Line: 2, Column: 1, Message: "bad template"}}, bad.Problems)
		_, err = eng.GetConnector(ctx, "acme")
		require.ErrorIs(t, err, engine.ErrNotFound, "nothing stored")

		_, err = eng.PutConnectorFile(ctx, "acme", []byte("name: other\n"))
		require.ErrorAs(t, err, &bad)
		require.Equal(t, "name", bad.Problems[0].Path)
		require.Contains(t, bad.Problems[0].Message, `is "other", but the URL names "acme"`)
		_, err = eng.PutConnectorFile(ctx, "telegram", []byte("name: telegram\n"))
		require.ErrorIs(t, err, engine.ErrConflict)
		_, err = eng.PutConnectorFile(ctx, "big", bytes.Repeat([]byte("#"), engine.ConnectorFileLimit+1))
		require.ErrorAs(t, err, &bad)

		admin := engine.WithActor(ctx, &engine.Actor{Email: "admin@example.com", Role: engine.RoleAdmin, Via: "api"})
		editor := engine.WithActor(ctx, &engine.Actor{Email: "ed@example.com", Role: engine.RoleEditor, Via: "api"})
		viewer := engine.WithActor(ctx, &engine.Actor{Email: "v@example.com", Role: engine.RoleViewer, Via: "api"})
		_, err = eng.CreateConnectorFile(editor, []byte("name: acme\n"))
		require.ErrorIs(t, err, engine.ErrForbidden)
		_, err = eng.PutConnectorFile(viewer, "acme", []byte("name: acme\n"))
		require.ErrorIs(t, err, engine.ErrForbidden)

		d1, err := eng.CreateConnectorFile(admin, []byte("name: acme\ntag: 1.0.0\n"))
		require.NoError(t, err)
		require.True(t, d1.Installed)
		require.Equal(t, "api", d1.Origin)
		require.Equal(t, 1, d1.Revision)
		require.Equal(t, "1.0.0", d1.Version)
		require.Equal(t, "name: acme\ntag: 1.0.0\n", d1.Source)
		_, err = eng.CreateConnectorFile(admin, []byte("name: acme\ntag: 1.0.1\n"))
		require.ErrorIs(t, err, engine.ErrConflict)

		created, err := eng.PutConnectorFile(admin, "acme", []byte("name: acme\ntag: 1.1.0\n"))
		require.NoError(t, err)
		require.False(t, created)
		list, err := eng.ListConnectors(viewer)
		require.NoError(t, err)
		var acme *engine.ConnectorInfo
		for i := range list.Items {
			switch list.Items[i].Name {
			case "acme":
				acme = &list.Items[i]
			case "http":
				require.Equal(t, "go", list.Items[i].Origin)
			}
		}
		require.NotNil(t, acme)
		require.Equal(t, engine.ConnectorInfo{Spec: acme.Spec, Origin: "api", Version: "1.1.0", Revision: 2, File: "api:acme"}, *acme)
		require.Equal(t, "Fake acme", acme.Title)
		require.Empty(t, list.Problems)

		seen, err := eng.GetConnector(viewer, "acme")
		require.NoError(t, err)
		require.Empty(t, seen.Source, "a viewer does not read the file's text")
		_, err = eng.GetConnector(viewer, "http")
		require.NoError(t, err)

		require.ErrorIs(t, eng.DeleteConnectorFile(editor, "acme"), engine.ErrForbidden)
		require.NoError(t, eng.DeleteConnectorFile(admin, "acme"))
		_, ok := eng.Registry().Connector("acme")
		require.False(t, ok, "deleted at once in the writing process")

		page, err := eng.ListAudit(admin, engine.AuditFilter{Kind: engine.AuditKindConnector})
		require.NoError(t, err)
		require.Len(t, page.Items, 3)
		actions := []string{page.Items[2].Action, page.Items[1].Action, page.Items[0].Action}
		require.Equal(t, []string{engine.AuditConnectorCreate, engine.AuditConnectorUpdate, engine.AuditConnectorDelete}, actions)
		require.Equal(t, "admin@example.com", page.Items[1].ActorEmail)
		require.Contains(t, string(page.Items[1].Diff), `"version":{"from":"1.0.0","to":"1.1.0"}`)
		require.Contains(t, string(page.Items[1].Diff), `"revision":{"from":1,"to":2}`)
	})
}

// TestConnectorUploadReachesOtherProcess: an upload through one process is installed in
// another sharing the database within its reload interval, and so is its deletion.
func TestConnectorUploadReachesOtherProcess(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		url := storetest.URL(t, d)
		one := setupFiles(t, d, enginetest.Options{DatabaseURL: url, Workers: -1})
		two := setupFiles(t, d, enginetest.Options{DatabaseURL: url})
		ctx := context.Background()
		_, err := one.eng.PutConnectorFile(ctx, "acme", []byte("name: acme\ntag: up\n"))
		require.NoError(t, err)
		waitConnector(t, two.eng.Engine, "acme", "up")
		wf, err := one.eng.CreateWorkflow(ctx, []byte(`{"name":"acme","trigger":{"type":"webhook"},"steps":[{"id":"send","uses":"acme.send","with":{"text":"x"}}]}`))
		require.NoError(t, err)
		run := enginetest.WaitRun(t, two.eng.Engine, ingest(t, one.eng.Engine, wf, `{}`).RunID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		require.Contains(t, string(run.Steps[0].Output), `"tag":"up"`)

		_, err = one.eng.PutConnectorFile(ctx, "acme", []byte("name: acme\ntag: up2\n"))
		require.NoError(t, err)
		waitConnector(t, two.eng.Engine, "acme", "up2")
		require.NoError(t, one.eng.DeleteConnectorFile(ctx, "acme"))
		waitConnector(t, two.eng.Engine, "acme", "")
	})
}

// TestConnectionCredentials: the credential store handed to connectors reads secrets
// past the cache and swaps them with a compare-and-swap: of concurrent swaps from one
// value exactly one wins; the stored secret reads back; no value reaches the logs or the
// API.
func TestConnectionCredentials(t *testing.T) {
	t.Parallel()
	rotor := &connectors.Connector{Name: "rotor", Title: "Rotor",
		Connection: []connectors.Field{{Name: "refresh_token", Type: connectors.TypeString, Title: "Refresh token", Secret: true},
			{Name: "region", Type: connectors.TypeString, Title: "Region"}},
		Actions: []*connectors.ActionDef{{ActionSpec: connectors.ActionSpec{Name: "noop", Title: "Noop"},
			New: func() connectors.Action { return fakeSend("") }}}}
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setupFiles(t, d, enginetest.Options{Workers: -1, Registry: connectors.Default.With(rotor)})
		eng, ctx := b.eng.Engine, context.Background()
		_, err := eng.CreateConnection(ctx, engine.ConnectionInput{Name: "r", Connector: "rotor",
			Config: map[string]any{"refresh_token": "first-refresh-0001", "region": "eu"}})
		require.NoError(t, err)
		creds, err := eng.ConnectionCredentials(ctx, "r")
		require.NoError(t, err)
		require.NotNil(t, creds)
		cur, err := creds.CurrentSecrets(ctx)
		require.NoError(t, err)
		require.Equal(t, map[string]string{"refresh_token": "first-refresh-0001"}, cur)

		const racers = 6
		wins := make(chan string, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				next := fmt.Sprintf("rotated-refresh-%04d", i)
				ok, err := creds.SwapSecrets(ctx, map[string]string{"refresh_token": "first-refresh-0001"}, map[string]string{"refresh_token": next})
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					wins <- next
				}
			})
		}
		wg.Wait()
		close(wins)
		require.Len(t, wins, 1, "exactly one swap from the same old value wins")
		winner := <-wins
		cur, err = creds.CurrentSecrets(ctx)
		require.NoError(t, err)
		require.Equal(t, winner, cur["refresh_token"])

		ok, err := creds.SwapSecrets(ctx, map[string]string{"refresh_token": "first-refresh-0001"}, map[string]string{"refresh_token": "late"})
		require.NoError(t, err)
		require.False(t, ok, "a swap from a stale value writes nothing")
		_, err = creds.SwapSecrets(ctx, nil, map[string]string{"region": "us"})
		require.ErrorContains(t, err, "region is not a secret setting of rotor connections")

		got, err := eng.GetConnection(ctx, "r")
		require.NoError(t, err)
		require.Equal(t, []string{"refresh_token"}, got.SecretsSet)
		require.Equal(t, map[string]any{"region": "eu"}, got.Config, "plain settings stay")
		api := fmt.Sprintf("%+v", got)
		require.NotContains(t, api, winner)
		require.NotContains(t, b.logs.String(), "rotated-refresh-")
		require.NotContains(t, b.logs.String(), "first-refresh-")
		require.Contains(t, b.logs.String(), "Connection secrets rotated")
	})
}
