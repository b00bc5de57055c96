package main_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

const testSecretKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// keySink stands in for a CRM: it answers 200 after a short pause and counts each
// Idempotency-Key it sees, so a test can tell which calls were repeated.
type keySink struct {
	*httptest.Server
	mu    sync.Mutex
	keys  map[string]int
	paths map[string]int
	pause map[string]time.Duration
	hits  atomic.Int64
	first chan string // receives each path's first request, if not full
	// gate, while set, holds every request after it is counted, until release; held
	// counts the requests waiting on it.
	gate atomic.Pointer[chan struct{}]
	held atomic.Int64
}

// hold makes the sink keep each request it receives waiting, counted, until release.
func (s *keySink) hold() {
	g := make(chan struct{})
	s.gate.Store(&g)
}

// release lets the held requests, and those to come, answer.
func (s *keySink) release() {
	if g := s.gate.Swap(nil); g != nil {
		close(*g)
	}
}

func newKeySink(t *testing.T, pause map[string]time.Duration) *keySink {
	s := &keySink{keys: map[string]int{}, paths: map[string]int{}, pause: pause, first: make(chan string, 16)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		s.keys[r.Header.Get("Idempotency-Key")]++
		s.paths[r.URL.Path]++
		firstTime := s.paths[r.URL.Path] == 1
		d := s.pause[r.URL.Path]
		s.mu.Unlock()
		s.hits.Add(1)
		if firstTime {
			select {
			case s.first <- r.URL.Path:
			default:
			}
		}
		if g := s.gate.Load(); g != nil {
			s.held.Add(1)
			<-*g
			s.held.Add(-1)
		}
		time.Sleep(d)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(s.Close)
	t.Cleanup(s.release) // runs first, so Close does not wait on held requests
	return s
}

func (s *keySink) counts() (map[string]int, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make(map[string]int, len(s.keys))
	for k, v := range s.keys {
		keys[k] = v
	}
	paths := make(map[string]int, len(s.paths))
	for k, v := range s.paths {
		paths[k] = v
	}
	return keys, paths
}

// api calls the REST API of a running server.
type api struct {
	base, token string
}

func (a api) do(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	if out != nil {
		require.NoError(t, json.NewDecoder(res.Body).Decode(out))
	}
	return res.StatusCode
}

type runRow struct {
	ID      string `json:"id"`
	EventID string `json:"event_id"`
	Status  string `json:"status"`
	Attempt int    `json:"attempt"`
	Steps   []struct {
		StepID string `json:"step_id"`
		Status string `json:"status"`
	} `json:"steps"`
}

// allRuns pages through GET /api/v1/runs.
func (a api) allRuns(t *testing.T) []runRow {
	t.Helper()
	var out []runRow
	cursor := ""
	for {
		var page struct {
			Items      []runRow `json:"items"`
			NextCursor string   `json:"next_cursor"`
		}
		require.Equal(t, http.StatusOK, a.do(t, http.MethodGet, "/api/v1/runs?limit=500&cursor="+cursor, nil, &page))
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

// waitFinal waits until no run is queued, running or waiting.
func (a api) waitFinal(t *testing.T, bound time.Duration) []runRow {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		runs := a.allRuns(t)
		open := 0
		for _, r := range runs {
			switch r.Status {
			case "queued", "running", "waiting":
				open++
			}
		}
		if open == 0 {
			return runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runs still open after %s", open, bound)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestCrashLosesNothing starts the real binary on SQLite, fires 2,000 webhooks, SIGKILLs
// it while runs are in flight and restarts it: every acknowledged event ends with
// exactly one succeeded run, no step is recorded twice, and the sink saw every expected
// Idempotency-Key; keys seen twice (a call made but not checkpointed before the kill)
// stay within the number of runs in flight.
func TestCrashLosesNothing(t *testing.T) {
	t.Parallel()
	const (
		events  = 2000
		workers = 8
	)
	dir := t.TempDir()
	env := []string{"HOOKFLOW_DATA_DIR=" + filepath.Join(dir, "data"), "HOOKFLOW_DATABASE_URL=",
		"HOOKFLOW_SECRET_KEY=" + testSecretKey, "HOOKFLOW_LEASE=1s", fmt.Sprintf("HOOKFLOW_WORKERS=%d", workers),
		"HOOKFLOW_ADMIN_EMAIL=ops@example.com", "HOOKFLOW_ADMIN_PASSWORD=long enough"}
	sink := newKeySink(t, map[string]time.Duration{"/crm": 2 * time.Millisecond})
	srv := start(t, dir, env, "serve")
	a := api{base: "http://" + srv.addr}
	a.token = string(bytes.TrimSpace([]byte(run(t, dir, env, "token", "create", "--email", "ops@example.com"))))
	var wf struct {
		WebhookURL string `json:"webhook_url"`
	}
	require.Equal(t, http.StatusCreated, a.do(t, http.MethodPost, "/api/v1/workflows", map[string]any{
		"name": "crash", "trigger": map[string]any{"type": "webhook"},
		"steps": []any{map[string]any{"id": "send", "uses": "http.request", "retry": map[string]any{"initial": "50ms"},
			"with": map[string]any{"method": "POST", "url": sink.URL + "/crm", "body": map[string]any{"n": "{{ trigger.body.n }}"}}}},
	}, &wf))

	// Fire every webhook from 32 senders; kill the server once the sink has seen a quarter.
	var (
		mu    sync.Mutex
		acked = map[string]string{} // run id → event id
		sent  atomic.Int64
	)
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for {
				n := sent.Add(1)
				if n > events {
					return
				}
				res, err := client.Post(wf.WebhookURL, "application/json", bytes.NewReader(fmt.Appendf(nil, `{"n":%d}`, n)))
				if err != nil {
					continue // the server is gone: this one was never acknowledged
				}
				var ids struct {
					EventID string `json:"event_id"`
					RunID   string `json:"run_id"`
				}
				err = json.NewDecoder(res.Body).Decode(&ids)
				res.Body.Close()
				if res.StatusCode == http.StatusAccepted && err == nil {
					mu.Lock()
					acked[ids.RunID] = ids.EventID
					mu.Unlock()
				}
			}
		})
	}
	killBound := time.Now().Add(60 * time.Second)
	for sink.hits.Load() < events/4 && time.Now().Before(killBound) {
		time.Sleep(time.Millisecond)
	}
	srv.kill(t)
	wg.Wait()
	t.Logf("acknowledged %d of %d webhooks before and around the kill; sink had %d calls", len(acked), events, sink.hits.Load())
	require.NotEmpty(t, acked)

	srv = start(t, dir, env, "serve")
	a.base = "http://" + srv.addr
	runs := a.waitFinal(t, 3*time.Minute)

	byID := map[string]runRow{}
	perEvent := map[string]int{}
	for _, r := range runs {
		byID[r.ID] = r
		perEvent[r.EventID]++
	}
	keys, _ := sink.counts()
	repeated := 0
	for runID, eventID := range acked {
		r, ok := byID[runID]
		require.True(t, ok, "acknowledged run %s is lost", runID)
		require.Equal(t, "succeeded", r.Status, "run %s", runID)
		require.Equal(t, 1, perEvent[eventID], "event %s has exactly one run", eventID)
		require.GreaterOrEqual(t, keys[runID+":send"], 1, "the sink saw run %s", runID)
		if keys[runID+":send"] > 1 {
			repeated++
		}
	}
	// Step records: one per run and step, succeeded.
	for runID := range acked {
		var full runRow
		require.Equal(t, http.StatusOK, a.do(t, http.MethodGet, "/api/v1/runs/"+runID, nil, &full))
		require.Len(t, full.Steps, 1, "run %s", runID)
		require.Equal(t, "succeeded", full.Steps[0].Status)
	}
	srv.stop(t)
	t.Logf("idempotency keys the sink saw more than once: %d (runs in flight at the kill: at most %d)", repeated, workers)
	require.LessOrEqual(t, repeated, workers)
}

// setupAPI creates a user and a token with the CLI, starts `serve` and returns it with
// an API client.
func setupAPI(t *testing.T, dir string, env []string, args ...string) (*process, api) {
	t.Helper()
	run(t, dir, env, "user", "create", "--email", "ops@example.com", "--password", "long enough")
	token := string(bytes.TrimSpace([]byte(run(t, dir, env, "token", "create", "--email", "ops@example.com"))))
	srv := start(t, dir, env, append([]string{"serve"}, args...)...)
	return srv, api{base: "http://" + srv.addr, token: token}
}

// TestScaleOutPostgres: three worker processes drain 20,000 queued runs from one
// PostgreSQL, each run completed exactly once; one worker is SIGKILLed midway and its
// runs finish on the others once their leases expire.
func TestScaleOutPostgres(t *testing.T) {
	t.Parallel()
	const (
		runs    = 20000
		workers = 8
	)
	url := storetest.URL(t, store.Postgres)
	dir := t.TempDir()
	env := []string{"HOOKFLOW_DATABASE_URL=" + url, "HOOKFLOW_DATA_DIR=" + dir, "HOOKFLOW_SECRET_KEY=" + testSecretKey,
		"HOOKFLOW_LEASE=1s"}
	run(t, dir, env, "migrate")
	sink := newKeySink(t, map[string]time.Duration{"/crm": time.Millisecond})
	srv, a := setupAPI(t, dir, env, "--workers", "0")
	var wf struct{ ID string }
	require.Equal(t, http.StatusCreated, a.do(t, http.MethodPost, "/api/v1/workflows", map[string]any{
		"name": "scale", "trigger": map[string]any{"type": "webhook"},
		"steps": []any{map[string]any{"id": "send", "uses": "http.request", "retry": map[string]any{"initial": "50ms"},
			"with": map[string]any{"method": "POST", "url": sink.URL + "/crm", "body": map[string]any{"run": "{{ run.id }}"}}}},
	}, &wf))
	srv.stop(t)

	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	_, err = db.ExecContext(ctx, `INSERT INTO runs (id, workflow_id, version, status, run_at, created_at, updated_at)
		SELECT gen_random_uuid()::text, $1, 1, 'queued', now(), now(), now() FROM generate_series(1, $2::int)`, wf.ID, runs)
	require.NoError(t, err)

	procs := make([]*process, 3)
	for i := range procs {
		procs[i] = start(t, dir, env, "worker", "--workers", fmt.Sprint(workers))
	}
	killBound := time.Now().Add(2 * time.Minute)
	for sink.hits.Load() < runs/3 && time.Now().Before(killBound) {
		time.Sleep(5 * time.Millisecond)
	}
	// Kill the worker while it holds runs: the sink keeps every call waiting until each
	// process has all its workers in one, so the killed process has runs in flight (left
	// to chance, the kill could fall between its last outcome and its next claim).
	sink.hold()
	holdBound := time.Now().Add(time.Minute)
	for sink.held.Load() < 3*workers && time.Now().Before(holdBound) {
		time.Sleep(5 * time.Millisecond)
	}
	require.EqualValues(t, 3*workers, sink.held.Load(), "every worker of the three processes is in a call")
	procs[0].kill(t)
	sink.release()
	t.Logf("killed a worker after %d calls", sink.hits.Load())

	deadline := time.Now().Add(time.Duration(runs/100+60) * time.Second)
	for {
		var done int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE status = 'succeeded'`).Scan(&done))
		if done == runs {
			break
		}
		if time.Now().After(deadline) {
			// Dump the survivors' goroutines (SIGQUIT) into their logs, to show what holds
			// the missing runs.
			for _, p := range procs[1:] {
				_ = p.cmd.Process.Signal(syscall.SIGQUIT)
				<-p.done
				t.Logf("worker log:\n%s", p.log())
			}
			t.Fatalf("only %d of %d runs succeeded", done, runs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range procs[1:] {
		p.stop(t)
	}

	var other, steps, stepsOK, takenOver int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE status <> 'succeeded'`).Scan(&other))
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'succeeded') FROM step_runs`).Scan(&steps, &stepsOK))
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE attempt > 1`).Scan(&takenOver))
	require.Zero(t, other)
	require.Equal(t, runs, steps, "one step record per run")
	require.Equal(t, runs, stepsOK)
	keys, _ := sink.counts()
	require.Len(t, keys, runs, "the sink saw every run's key")
	repeated := 0
	for _, n := range keys {
		if n > 1 {
			repeated++
		}
	}
	t.Logf("runs taken over after the kill: %d; keys seen more than once: %d (in flight at the kill: at most %d)", takenOver, repeated, workers)
	require.GreaterOrEqual(t, takenOver, workers, "the killed worker's runs in flight were finished by the others")
	require.LessOrEqual(t, repeated, workers)
}

// TestSigtermReleasesRuns: on SIGTERM a run finishes the step in flight, goes back to the
// queue at once (not after its lease), and the process exits 0; the next start finishes
// the run without repeating the step.
func TestSigtermReleasesRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "data", "hookflow.db")
	env := []string{"HOOKFLOW_DATA_DIR=" + filepath.Join(dir, "data"), "HOOKFLOW_DATABASE_URL=",
		"HOOKFLOW_SECRET_KEY=" + testSecretKey, "HOOKFLOW_LEASE=1h"}
	sink := newKeySink(t, map[string]time.Duration{"/slow": 700 * time.Millisecond})
	srv, a := setupAPI(t, dir, env)
	var wf struct {
		WebhookURL string `json:"webhook_url"`
	}
	require.Equal(t, http.StatusCreated, a.do(t, http.MethodPost, "/api/v1/workflows", map[string]any{
		"name": "graceful", "trigger": map[string]any{"type": "webhook"},
		"steps": []any{
			map[string]any{"id": "slow", "uses": "http.request", "with": map[string]any{"url": sink.URL + "/slow"}},
			map[string]any{"id": "after", "uses": "http.request", "with": map[string]any{"url": sink.URL + "/after"}},
		},
	}, &wf))
	res, err := http.Post(wf.WebhookURL, "application/json", bytes.NewReader([]byte(`{}`)))
	require.NoError(t, err)
	var ids struct {
		RunID string `json:"run_id"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&ids))
	res.Body.Close()
	select {
	case <-sink.first:
	case <-time.After(30 * time.Second):
		t.Fatal("the first step never started")
	}
	srv.stop(t)
	require.Contains(t, srv.log(), "Run released at shutdown")

	st, err := store.Open(context.Background(), store.Config{URL: dbPath})
	require.NoError(t, err)
	r, err := st.GetRun(context.Background(), ids.RunID)
	require.NoError(t, err)
	require.Equal(t, store.RunQueued, r.Status, "released, not left running under a lease")
	require.Equal(t, 1, r.StepIndex, "the step in flight finished and was recorded")
	require.Nil(t, r.LeaseOwner)
	require.NoError(t, st.Close())

	srv = start(t, dir, env, "serve")
	a.base = "http://" + srv.addr
	runs := a.waitFinal(t, time.Minute)
	require.Len(t, runs, 1)
	require.Equal(t, "succeeded", runs[0].Status)
	srv.stop(t)
	_, paths := sink.counts()
	require.Equal(t, 1, paths["/slow"], "the finished step did not run again")
	require.Equal(t, 1, paths["/after"])
}
