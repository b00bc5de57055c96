package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// metric reads one unlabelled series of the engine's /metrics.
func metric(t *testing.T, eng *engine.Engine, name string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	eng.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return f
		}
	}
	t.Fatalf("no series %s in /metrics", name)
	return 0
}

// waitMetric polls a series until it reaches want (at most 20 s).
func waitMetric(t *testing.T, eng *engine.Engine, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for metric(t, eng, name) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s is %v, want %v", name, metric(t, eng, name), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitIdle waits until all n workers of eng are idle, so that the next webhook finds one
// (the pool holds its idle workers while it claims, at start and at each poll).
func waitIdle(t *testing.T, eng *engine.Engine, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for eng.IdleWorkers() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d workers idle after 20s", eng.IdleWorkers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// noPoll makes an engine's pool claim only when woken: its workers stay idle for direct
// dispatch instead of being held by a claim every poll interval.
func noPoll(c *engine.Config) { c.PollInterval = time.Hour }

// TestDirectDispatch: a webhook taken by a process with an idle worker is stored already
// leased to that process and runs there without a claim.
func TestDirectDispatch(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{Workers: 4, Configure: noPoll})
		sink := newGateSink(t, "/a")
		wf := createWorkflow(t, eng.Engine, twoStepWorkflow, sink.URL)
		waitIdle(t, eng.Engine, 4)
		runID := ingest(t, eng.Engine, wf, `{}`).RunID
		sink.waitArrival(t, "/a")

		held, err := eng.GetRun(context.Background(), runID)
		require.NoError(t, err)
		require.Equal(t, engine.RunRunning, held.Status, "stored leased, as a claim leaves it")
		require.Equal(t, 1, held.Attempt)
		require.NotNil(t, held.StartedAt)

		sink.open(sink.gated["/a"])
		run := enginetest.WaitRun(t, eng.Engine, runID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		require.Equal(t, 1, run.Attempt)
		require.Equal(t, 1, sink.count("/a"))
		require.Equal(t, 1, sink.count("/b"))
		require.EqualValues(t, 1, metric(t, eng.Engine, "hookflow_runs_dispatched_total"))
		require.Zero(t, metric(t, eng.Engine, "hookflow_runs_claimed_total"), "no claim took the run")
	})
}

// TestDirectRunNeverClaimedByAnother: runs dispatched directly in one process are never
// claimed by another process claiming at the same time; the other process claims exactly
// the runs that were queued (those that found no idle worker).
func TestDirectRunNeverClaimedByAnother(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		first := enginetest.New(t, d, enginetest.Options{Workers: 2, Configure: noPoll})
		second := enginetest.New(t, d, enginetest.Options{Workers: 2, DatabaseURL: first.DatabaseURL})
		s := newSink(t)
		wf := createWorkflow(t, first.Engine, `{"name":"w","trigger":{"type":"webhook"},"steps":[
		  {"id":"a","uses":"http.request","with":{"method":"POST","url":"%[1]s/a/{{ trigger.body.n }}"}},
		  {"id":"b","uses":"http.request","with":{"method":"POST","url":"%[1]s/b/{{ trigger.body.n }}"}}]}`, s.URL)

		waitIdle(t, first.Engine, 2)
		const n = 40
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { ids[i] = ingest(t, first.Engine, wf, fmt.Sprintf(`{"n":%d}`, i)).RunID })
		}
		wg.Wait()
		for i, id := range ids {
			run := enginetest.WaitRun(t, first.Engine, id)
			require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
			require.Equal(t, 1, run.Attempt, "run %d was claimed a second time", i)
			require.Equal(t, 1, s.count(fmt.Sprintf("/a/%d", i)), "step a of run %d", i)
			require.Equal(t, 1, s.count(fmt.Sprintf("/b/%d", i)), "step b of run %d", i)
		}
		dispatched := metric(t, first.Engine, "hookflow_runs_dispatched_total")
		claimed := metric(t, first.Engine, "hookflow_runs_claimed_total") + metric(t, second.Engine, "hookflow_runs_claimed_total")
		require.Positive(t, dispatched, "some runs found an idle worker")
		require.Zero(t, metric(t, second.Engine, "hookflow_runs_dispatched_total"), "the other process ingested nothing")
		require.EqualValues(t, n, dispatched+claimed, "every run was either dispatched or claimed, never both")
	})
}

// TestWorkersZeroIngestsQueued: an ingest-only process (serve --workers 0) stores its
// runs queued and unleased, and a worker process claims them.
func TestWorkersZeroIngestsQueued(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ingester := enginetest.New(t, d, enginetest.Options{Workers: -1})
		s := newSink(t)
		wf := createWorkflow(t, ingester.Engine, `{"name":"w","trigger":{"type":"webhook"},"steps":[
		  {"id":"a","uses":"http.request","with":{"method":"POST","url":"%s/a"}}]}`, s.URL)
		runID := ingest(t, ingester.Engine, wf, `{}`).RunID
		queued, err := ingester.GetRun(context.Background(), runID)
		require.NoError(t, err)
		require.Equal(t, engine.RunQueued, queued.Status)
		require.Zero(t, queued.Attempt, "no lease was handed out")
		require.Nil(t, queued.StartedAt)
		require.Zero(t, metric(t, ingester.Engine, "hookflow_runs_dispatched_total"))

		worker := enginetest.New(t, d, enginetest.Options{Workers: 2, DatabaseURL: ingester.DatabaseURL})
		run := enginetest.WaitRun(t, worker.Engine, runID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		require.Equal(t, 1, run.Attempt)
		require.EqualValues(t, 1, metric(t, worker.Engine, "hookflow_runs_claimed_total"))
		require.Equal(t, 1, s.count("/a"))
	})
}

// TestCappedWorkflowIsClaimed: runs of a workflow with a concurrency cap are never
// dispatched directly, even with idle workers: they go through the claim, which checks
// the cap and the arrival order against the database.
func TestCappedWorkflowIsClaimed(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{Workers: 4})
		sink := newScriptSink(t, time.Now)
		wf := createWorkflow(t, eng.Engine, `{"name":"serial","concurrency":1,"trigger":{"type":"webhook"},"steps":[
		  {"id":"call","uses":"http.request","with":{"method":"POST","url":"%s/crm","body":{"n":"{{ trigger.body.n }}"}}}]}`, sink.URL)
		const n = 6
		var ids []string
		for i := range n {
			ids = append(ids, ingest(t, eng.Engine, wf, fmt.Sprintf(`{"n":%d}`, i)).RunID)
		}
		for _, id := range ids {
			r := enginetest.WaitRun(t, eng.Engine, id)
			require.Equal(t, engine.RunSucceeded, r.Status, r.Error)
		}
		_, _, bodies := sink.seen("/crm")
		want := make([]string, n)
		for i := range n {
			want[i] = fmt.Sprintf(`{"n":%d}`, i)
		}
		require.Equal(t, want, bodies, "one at a time, in arrival order")
		require.Zero(t, metric(t, eng.Engine, "hookflow_runs_dispatched_total"))
		require.EqualValues(t, n, metric(t, eng.Engine, "hookflow_runs_claimed_total"))
	})
}

// TestDirectRunTakenOverWhenItsProcessStalls: a directly dispatched run whose process
// stops renewing its lease (dead to the others) is taken over by another process once the
// lease expired; when the first process's step returns at last, its outcome is fenced
// out. The first call answers 500 (the stale worker would record the run failed), the
// takeover's call 200: the run must end succeeded and stay so.
func TestDirectRunTakenOverWhenItsProcessStalls(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		clock := enginetest.NewClock(enginetest.ClockStart())
		lease := time.Second
		configure := func(c *engine.Config) { c.Now, c.Lease = clock.Now, lease }
		first := enginetest.New(t, d, enginetest.Options{Configure: func(c *engine.Config) { configure(c); noPoll(c) }})

		var mu sync.Mutex
		calls := 0
		gate, arrived := make(chan struct{}), make(chan struct{}, 4)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls++
			n := calls
			mu.Unlock()
			arrived <- struct{}{}
			if n == 1 {
				select {
				case <-gate:
				case <-r.Context().Done():
					return
				}
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() {
			select {
			case <-gate:
			default:
				close(gate)
			}
		})
		wf := createWorkflow(t, first.Engine, `{"name":"w","trigger":{"type":"webhook"},"steps":[
		  {"id":"a","uses":"http.request","timeout":"60s","retry":{"max_attempts":1},"with":{"method":"POST","url":"%s/a"}}]}`, srv.URL)
		waitIdle(t, first.Engine, 2)
		runID := ingest(t, first.Engine, wf, `{}`).RunID
		select {
		case <-arrived:
		case <-time.After(20 * time.Second):
			t.Fatal("the first call never arrived")
		}
		require.EqualValues(t, 1, metric(t, first.Engine, "hookflow_runs_dispatched_total"))

		first.PauseHeartbeat()
		clock.Advance(3 * lease)
		second := enginetest.New(t, d, enginetest.Options{DatabaseURL: first.DatabaseURL, DataDir: first.DataDir, Configure: configure})
		run := enginetest.WaitRun(t, second.Engine, runID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		require.Equal(t, 2, run.Attempt, "the takeover is the run's second claim")

		close(gate)
		waitMetric(t, first.Engine, "hookflow_runs_in_flight", 0)
		again, err := second.GetRun(context.Background(), runID)
		require.NoError(t, err)
		require.Equal(t, engine.RunSucceeded, again.Status, "the stale worker's failure was not recorded")
		require.Equal(t, 2, again.Attempt)
		require.Len(t, again.Steps, 1)
		require.Equal(t, store.StepSucceeded, again.Steps[0].Status)
	})
}

// TestBacklogRunsOnceAfterTheirProcessStalls: with its one worker busy, a process takes a
// second webhook's run into its backlog, leased to itself. It then stalls past the lease
// (no heartbeat); another process takes both runs over and runs them. When the first
// process wakes up, its worker finishes the first run (fenced out) and must not run the
// backlogged one again: its lease is checked before it starts, and it was lost.
func TestBacklogRunsOnceAfterTheirProcessStalls(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		clock := enginetest.NewClock(enginetest.ClockStart())
		lease := time.Second
		configure := func(c *engine.Config) { c.Now, c.Lease = clock.Now, lease }
		first := enginetest.New(t, d, enginetest.Options{Workers: 1, Configure: func(c *engine.Config) { configure(c); noPoll(c) }})

		var mu sync.Mutex
		calls := map[string]int{}
		gate, arrived := make(chan struct{}), make(chan struct{}, 8)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls[r.URL.Path]++
			n := calls[r.URL.Path]
			mu.Unlock()
			arrived <- struct{}{}
			if r.URL.Path == "/first" && n == 1 {
				select {
				case <-gate:
				case <-r.Context().Done():
					return
				}
			}
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() {
			select {
			case <-gate:
			default:
				close(gate)
			}
		})
		wf := createWorkflow(t, first.Engine, `{"name":"w","trigger":{"type":"webhook"},"steps":[
		  {"id":"a","uses":"http.request","timeout":"60s","retry":{"max_attempts":1},"with":{"method":"POST","url":"%s/{{ trigger.body.path }}"}}]}`, srv.URL)
		waitIdle(t, first.Engine, 1)
		firstID := ingest(t, first.Engine, wf, `{"path": "first"}`).RunID
		select {
		case <-arrived:
		case <-time.After(20 * time.Second):
			t.Fatal("the first call never arrived")
		}
		secondID := ingest(t, first.Engine, wf, `{"path": "second"}`).RunID
		require.EqualValues(t, 2, metric(t, first.Engine, "hookflow_runs_dispatched_total"), "the second run went to the backlog")
		waiting, err := first.GetRun(context.Background(), secondID)
		require.NoError(t, err)
		require.Equal(t, engine.RunRunning, waiting.Status, "a backlogged run is stored leased")
		require.Equal(t, 1, waiting.Attempt)

		first.PauseHeartbeat()
		clock.Advance(3 * lease)
		second := enginetest.New(t, d, enginetest.Options{DatabaseURL: first.DatabaseURL, DataDir: first.DataDir, Configure: configure})
		for _, id := range []string{firstID, secondID} {
			run := enginetest.WaitRun(t, second.Engine, id)
			require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
			require.Equal(t, 2, run.Attempt, "taken over")
		}

		close(gate)
		waitMetric(t, first.Engine, "hookflow_runs_in_flight", 0)
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, map[string]int{"/first": 2, "/second": 1}, calls,
			"the stalled process ran no backlogged run after losing its lease")
	})
}
