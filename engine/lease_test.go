package engine_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// gateSink counts the requests to each path. The first request to a gated path blocks
// until the test opens the gate, so a step can be held in flight.
type gateSink struct {
	*httptest.Server
	mu      sync.Mutex
	calls   map[string]int
	gated   map[string]chan struct{}
	arrived chan string
}

func newGateSink(t *testing.T, gated ...string) *gateSink {
	s := &gateSink{calls: map[string]int{}, gated: map[string]chan struct{}{}, arrived: make(chan string, 16)}
	for _, p := range gated {
		s.gated[p] = make(chan struct{})
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[r.URL.Path]++
		first := s.calls[r.URL.Path] == 1
		gate := s.gated[r.URL.Path]
		s.mu.Unlock()
		s.arrived <- r.URL.Path
		if first && gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(func() {
		for _, g := range s.gated {
			s.open(g)
		}
		s.Close()
	})
	return s
}

func (s *gateSink) open(g chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-g:
	default:
		close(g)
	}
}

func (s *gateSink) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// waitArrival waits for a request to path.
func (s *gateSink) waitArrival(t *testing.T, path string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case p := <-s.arrived:
			if p == path {
				return
			}
		case <-deadline:
			t.Fatalf("no request to %s within 20s", path)
		}
	}
}

const twoStepWorkflow = `{"name":"two steps","trigger":{"type":"webhook"},"steps":[
  {"id":"a","uses":"http.request","timeout":"60s","with":{"method":"POST","url":"%[1]s/a"}},
  {"id":"b","uses":"http.request","with":{"method":"POST","url":"%[1]s/b"}}]}`

// TestSelfTakeoverRunsEachStepOnce stalls a process's heartbeat past its lease while a
// step is in flight, then lets the same process claim again: the run it is still
// executing must not start a second time, and every step's side effect happens once.
func TestSelfTakeoverRunsEachStepOnce(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		clock := enginetest.NewClock(enginetest.ClockStart())
		lease := time.Second
		eng := enginetest.New(t, d, enginetest.Options{Configure: func(c *engine.Config) {
			c.Now, c.Lease = clock.Now, lease
		}})
		sink := newGateSink(t, "/a")
		wf := createWorkflow(t, eng.Engine, twoStepWorkflow, sink.URL)
		runID := ingest(t, eng.Engine, wf, `{}`).RunID
		sink.waitArrival(t, "/a")

		// The heartbeat stalls and the lease lapses on the engine's clock; the pool's next
		// claims look for expired leases and find this process's own run.
		resume := eng.PauseHeartbeat()
		clock.Advance(3 * lease)
		time.Sleep(500 * time.Millisecond) // ten claim passes at the test poll interval
		resume()
		sink.open(sink.gated["/a"])

		run := enginetest.WaitRun(t, eng.Engine, runID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		time.Sleep(200 * time.Millisecond) // a second execution, if any, would reach b now
		require.Equal(t, 1, sink.count("/a"), "step a ran once")
		require.Equal(t, 1, sink.count("/b"), "step b ran once")
	})
}

// TestTakeoverFencesTheStalledWorker: a process stalls past its lease with a step in
// flight and another process takes the run over. When the stalled step returns, its
// worker writes nothing and stops at that checkpoint: the next step runs once, in the
// process that holds the run now.
func TestTakeoverFencesTheStalledWorker(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		clock := enginetest.NewClock(enginetest.ClockStart())
		lease := time.Second
		configure := func(c *engine.Config) { c.Now, c.Lease = clock.Now, lease }
		first := enginetest.New(t, d, enginetest.Options{Configure: configure})
		sink := newGateSink(t, "/a")
		wf := createWorkflow(t, first.Engine, twoStepWorkflow, sink.URL)
		runID := ingest(t, first.Engine, wf, `{}`).RunID
		sink.waitArrival(t, "/a")

		first.PauseHeartbeat()
		clock.Advance(3 * lease)
		second := enginetest.New(t, d, enginetest.Options{DatabaseURL: first.DatabaseURL, DataDir: first.DataDir, Configure: configure})
		// The second process repeats step a (same idempotency key), then runs b.
		run := enginetest.WaitRun(t, second.Engine, runID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		require.Equal(t, 2, run.Attempt, "the takeover is the run's second claim")

		// The stalled worker's step returns now; its checkpoint is refused.
		sink.open(sink.gated["/a"])
		time.Sleep(300 * time.Millisecond)
		require.Equal(t, 1, sink.count("/b"), "the stalled worker did not go on to step b")
		again, err := second.GetRun(context.Background(), runID)
		require.NoError(t, err)
		require.Equal(t, engine.RunSucceeded, again.Status)
		require.Equal(t, 2, again.Attempt)
	})
}

// TestCancelledLookupIsNotShared: a webhook request whose context is cancelled while its
// workflow is looked up fails alone; the next request to the same URL is served.
func TestCancelledLookupIsNotShared(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{NoStart: true})
	wf := createWorkflow(t, eng.Engine, `{"name":"w","trigger":{"type":"webhook"},"steps":[
	  {"id":"x","uses":"core.set","with":{"a":1}}]}`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := eng.OpenWebhook(ctx, wf.HookToken)
	require.ErrorIs(t, err, context.Canceled)
	_, err = eng.OpenWebhook(context.Background(), wf.HookToken)
	require.NoError(t, err, "the cancelled lookup's error is not served to the next request")
}
