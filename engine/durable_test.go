package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// reply is one scripted answer of the script sink.
type reply struct {
	status     int
	retryAfter string
	delay      time.Duration
}

// scriptSink answers each request to a path with the next scripted reply (200 once the
// script runs out) and records the Idempotency-Key and the clock time of every request.
type scriptSink struct {
	*httptest.Server
	clock  func() time.Time
	mu     sync.Mutex
	script map[string][]reply
	keys   map[string][]string
	times  map[string][]time.Time
	bodies map[string][]string
}

func newScriptSink(t *testing.T, clock func() time.Time) *scriptSink {
	s := &scriptSink{clock: clock, script: map[string][]reply{}, keys: map[string][]string{},
		times: map[string][]time.Time{}, bodies: map[string][]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.keys[r.URL.Path] = append(s.keys[r.URL.Path], r.Header.Get("Idempotency-Key"))
		s.times[r.URL.Path] = append(s.times[r.URL.Path], s.clock())
		s.bodies[r.URL.Path] = append(s.bodies[r.URL.Path], string(body))
		rep := reply{status: http.StatusOK}
		if q := s.script[r.URL.Path]; len(q) > 0 {
			rep, s.script[r.URL.Path] = q[0], q[1:]
		}
		s.mu.Unlock()
		if rep.delay > 0 {
			time.Sleep(rep.delay)
		}
		if rep.retryAfter != "" {
			w.Header().Set("Retry-After", rep.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		_, _ = fmt.Fprintf(w, `{"status":%d}`, rep.status)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptSink) plan(path string, replies ...reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script[path] = replies
}

func (s *scriptSink) seen(path string) ([]string, []time.Time, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys[path]...), append([]time.Time(nil), s.times[path]...), append([]string(nil), s.bodies[path]...)
}

func createWorkflow(t *testing.T, eng *engine.Engine, doc string, args ...any) *engine.Workflow {
	t.Helper()
	wf, err := eng.CreateWorkflow(context.Background(), []byte(fmt.Sprintf(doc, args...)))
	require.NoError(t, err)
	return wf
}

type attemptRecord struct {
	Attempt int       `json:"attempt"`
	Error   string    `json:"error"`
	RetryAt time.Time `json:"retry_at"`
}

func attempts(t *testing.T, st engine.StepRun) []attemptRecord {
	t.Helper()
	var out []attemptRecord
	if len(st.AttemptErrors) > 0 {
		require.NoError(t, json.Unmarshal(st.AttemptErrors, &out))
	}
	return out
}

// TestRetryThenSucceed: 503, 503, 200 → succeeded after 3 attempts, the sink saw one
// Idempotency-Key three times, and the history keeps both errors.
func TestRetryThenSucceed(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{})
		sink := newScriptSink(t, time.Now)
		sink.plan("/flaky", reply{status: 503}, reply{status: 503}, reply{status: 200})
		wf := createWorkflow(t, eng.Engine, `{"name":"retry","trigger":{"type":"webhook"},"steps":[
		  {"id":"call","uses":"http.request","retry":{"max_attempts":5,"initial":"10ms","max":"50ms"},
		   "with":{"method":"POST","url":"%s/flaky","body":{"a":1}}}]}`, sink.URL)
		run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{}`).RunID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		require.Equal(t, 3, run.Steps[0].Attempts)
		keys, _, _ := sink.seen("/flaky")
		require.Len(t, keys, 3)
		require.Equal(t, run.ID+":call", keys[0])
		require.Equal(t, []string{keys[0], keys[0], keys[0]}, keys, "one idempotency key for every attempt")
		history := attempts(t, run.Steps[0])
		require.Len(t, history, 2)
		require.Contains(t, history[0].Error, "503")
		require.Equal(t, 1, history[0].Attempt)
		require.Equal(t, 2, history[1].Attempt)
	})
}

// TestPermanentErrorFailsAtOnce: a 400 is not retried.
func TestPermanentErrorFailsAtOnce(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	sink := newScriptSink(t, time.Now)
	sink.plan("/bad", reply{status: 400})
	wf := createWorkflow(t, eng.Engine, `{"name":"perm","trigger":{"type":"webhook"},"steps":[
	  {"id":"call","uses":"http.request","retry":{"initial":"10ms"},"with":{"url":"%s/bad"}}]}`, sink.URL)
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{}`).RunID)
	require.Equal(t, engine.RunFailed, run.Status)
	require.Equal(t, 1, run.Steps[0].Attempts)
	keys, _, _ := sink.seen("/bad")
	require.Len(t, keys, 1)
	require.Contains(t, run.Error, "400")
}

// TestRetriesExhausted: after the last attempt the run fails with every error kept.
func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	sink := newScriptSink(t, time.Now)
	sink.plan("/down", reply{status: 500}, reply{status: 502}, reply{status: 503})
	wf := createWorkflow(t, eng.Engine, `{"name":"exhaust","trigger":{"type":"webhook"},"steps":[
	  {"id":"call","uses":"http.request","retry":{"max_attempts":3,"initial":"5ms"},"with":{"url":"%s/down"}}]}`, sink.URL)
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{}`).RunID)
	require.Equal(t, engine.RunFailed, run.Status)
	require.Contains(t, run.Error, "after 3 attempts")
	history := attempts(t, run.Steps[0])
	require.Len(t, history, 3)
	for i, code := range []string{"500", "502", "503"} {
		require.Contains(t, history[i].Error, code)
	}
	require.True(t, history[2].RetryAt.IsZero(), "no retry after the last attempt")
}

// TestRetryAfterIsHonoured: a 429 with Retry-After: 2 puts the next attempt at least 2s
// later on the engine's clock, which the test moves by hand.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		clock := enginetest.NewClock(enginetest.ClockStart().Truncate(time.Hour))
		eng := enginetest.New(t, d, enginetest.Options{Configure: func(c *engine.Config) {
			c.Now = clock.Now
			c.PollInterval = 10 * time.Millisecond
		}})
		sink := newScriptSink(t, clock.Now)
		sink.plan("/limited", reply{status: 429, retryAfter: "2"})
		wf := createWorkflow(t, eng.Engine, `{"name":"429","trigger":{"type":"webhook"},"steps":[
		  {"id":"call","uses":"http.request","retry":{"initial":"10ms","jitter":0.01},"with":{"url":"%s/limited"}}]}`, sink.URL)
		runID := ingest(t, eng.Engine, wf, `{}`).RunID
		run := enginetest.WaitStatus(t, eng.Engine, runID, engine.RunWaiting)
		_, times, _ := sink.seen("/limited")
		require.Len(t, times, 1)
		require.NotNil(t, run.RunAt)
		require.GreaterOrEqual(t, run.RunAt.Sub(times[0]), 2*time.Second, "due no sooner than Retry-After")

		clock.Advance(1500 * time.Millisecond)
		time.Sleep(150 * time.Millisecond) // several poll rounds on the moved clock
		_, times, _ = sink.seen("/limited")
		require.Len(t, times, 1, "not retried before Retry-After")

		clock.Advance(600 * time.Millisecond)
		run = enginetest.WaitRun(t, eng.Engine, runID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		_, times, _ = sink.seen("/limited")
		require.Len(t, times, 2)
		require.GreaterOrEqual(t, times[1].Sub(times[0]), 2*time.Second)
	})
}

// TestDedupeConcurrent: 50 concurrent deliveries with one delivery id make one event and
// one run; every answer names them.
func TestDedupeConcurrent(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{})
		wf := createWorkflow(t, eng.Engine, `{"name":"dedupe","trigger":{"type":"webhook","webhook":{"dedupe":"trigger.headers['x-delivery-id']"}},
		  "steps":[{"id":"s","uses":"core.set","with":{"x":1}}]}`)
		const n = 50
		results := make([]*engine.IngestResult, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				res, err := eng.Ingest(context.Background(), wf.HookToken, engine.IngestRequest{Method: "POST",
					Header: http.Header{"X-Delivery-Id": {"d-42"}, "Content-Type": {"application/json"}}, Body: []byte(`{}`)})
				if err != nil {
					t.Errorf("ingest: %v", err)
					return
				}
				results[i] = res
			})
		}
		wg.Wait()
		first := 0
		for _, r := range results {
			require.NotNil(t, r)
			if !r.Duplicate {
				first++
			}
		}
		require.Equal(t, 1, first, "exactly one delivery is new")
		for _, r := range results {
			require.Equal(t, results[0].EventID, r.EventID)
			require.Equal(t, results[0].RunID, r.RunID)
		}
		enginetest.WaitRun(t, eng.Engine, results[0].RunID)
		c, err := eng.Count(context.Background())
		require.NoError(t, err)
		require.EqualValues(t, 1, c.Events["accepted"])
		require.Positive(t, c.Events["duplicate"], "duplicates are recorded for the inspector (sampled)")
		require.Equal(t, map[string]int64{engine.RunSucceeded: 1}, c.Runs)

		// Another id, or none, is a new delivery.
		res, err := eng.Ingest(context.Background(), wf.HookToken, engine.IngestRequest{Method: "POST",
			Header: http.Header{"X-Delivery-Id": {"d-43"}}, Body: []byte(`{}`)})
		require.NoError(t, err)
		require.False(t, res.Duplicate)
		res, err = eng.Ingest(context.Background(), wf.HookToken, engine.IngestRequest{Method: "POST", Header: http.Header{}})
		require.NoError(t, err)
		require.False(t, res.Duplicate)
	})
}

// TestReplay covers a whole replay on the current version and a failed run continued
// from its failed step, keeping the earlier outputs.
func TestReplay(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		eng := enginetest.New(t, d, enginetest.Options{})
		sink := newScriptSink(t, time.Now)
		sink.plan("/two", reply{status: 400})
		wf := createWorkflow(t, eng.Engine, `{"name":"replay","trigger":{"type":"webhook"},"steps":[
		  {"id":"one","uses":"http.request","with":{"url":"%[1]s/one"}},
		  {"id":"two","uses":"http.request","with":{"method":"POST","url":"%[1]s/two","body":{"one":"{{ steps.one.output.status }}"}}}]}`, sink.URL)
		failed := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{"n":1}`).RunID)
		require.Equal(t, engine.RunFailed, failed.Status)

		cont, err := eng.Replay(ctx, failed.ID, engine.ReplayFailed)
		require.NoError(t, err)
		require.Equal(t, failed.ID, cont.ReplayOf)
		done := enginetest.WaitRun(t, eng.Engine, cont.ID)
		require.Equal(t, engine.RunSucceeded, done.Status, done.Error)
		require.Len(t, done.Steps, 2)
		require.JSONEq(t, string(failed.Steps[0].Output), string(done.Steps[0].Output), "the earlier output is kept")
		ones, _, _ := sink.seen("/one")
		require.Len(t, ones, 1, "the step before the failed one is not repeated")
		_, _, bodies := sink.seen("/two")
		require.Len(t, bodies, 2)
		require.JSONEq(t, `{"one":200}`, bodies[1])

		_, err = eng.Replay(ctx, done.ID, engine.ReplayFailed)
		require.ErrorIs(t, err, engine.ErrConflict, "only failed runs continue")

		// A whole replay runs the current version from the start.
		_, err = eng.UpdateWorkflow(ctx, wf.ID, []byte(fmt.Sprintf(`{"name":"replay v2","trigger":{"type":"webhook"},"steps":[
		  {"id":"only","uses":"http.request","with":{"url":"%s/v2"}}]}`, sink.URL)))
		require.NoError(t, err)
		again, err := eng.Replay(ctx, failed.ID, engine.ReplayStart)
		require.NoError(t, err)
		require.Equal(t, 2, again.Version)
		r := enginetest.WaitRun(t, eng.Engine, again.ID)
		require.Equal(t, engine.RunSucceeded, r.Status, r.Error)
		require.Equal(t, failed.EventID, r.EventID, "the same event")
		v2, _, _ := sink.seen("/v2")
		require.Len(t, v2, 1)

		_, err = eng.Replay(ctx, "no-such-run", engine.ReplayStart)
		require.ErrorIs(t, err, engine.ErrNotFound)
	})
}

// TestCancel: a waiting run stops at once; a running one at its next step boundary; an
// ended one cannot be cancelled.
func TestCancel(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		eng := enginetest.New(t, d, enginetest.Options{})
		sink := newScriptSink(t, time.Now)
		waitWF := createWorkflow(t, eng.Engine, `{"name":"waits","trigger":{"type":"webhook"},"steps":[
		  {"id":"pause","uses":"core.delay","with":{"for":"1h"}},
		  {"id":"after","uses":"http.request","with":{"url":"%s/after"}}]}`, sink.URL)
		waiting := ingest(t, eng.Engine, waitWF, `{}`).RunID
		enginetest.WaitStatus(t, eng.Engine, waiting, engine.RunWaiting)
		r, err := eng.Cancel(ctx, waiting)
		require.NoError(t, err)
		require.Equal(t, engine.RunCancelled, r.Status)
		stopped, err := eng.GetRun(ctx, waiting)
		require.NoError(t, err)
		require.Equal(t, "cancelled", stopped.Steps[0].Status, "the step the run waited in ends with it")
		_, err = eng.Cancel(ctx, waiting)
		require.ErrorIs(t, err, engine.ErrConflict, "a cancelled run has ended: cancelling it again is a conflict")

		sink.plan("/slow", reply{status: 200, delay: 300 * time.Millisecond})
		slowWF := createWorkflow(t, eng.Engine, `{"name":"slow","trigger":{"type":"webhook"},"steps":[
		  {"id":"slow","uses":"http.request","with":{"url":"%[1]s/slow"}},
		  {"id":"never","uses":"http.request","with":{"url":"%[1]s/never"}}]}`, sink.URL)
		running := ingest(t, eng.Engine, slowWF, `{}`).RunID
		// Cancel once the first call is under way: a run is stored running from its
		// ingest on (dispatched to a worker), and one cancelled before its first step
		// never starts it.
		require.Eventually(t, func() bool {
			keys, _, _ := sink.seen("/slow")
			return len(keys) == 1
		}, 20*time.Second, 2*time.Millisecond, "the slow call arrives")
		r, err = eng.Cancel(ctx, running)
		require.NoError(t, err)
		require.True(t, r.CancelRequested || r.Status == engine.RunCancelled)
		done := enginetest.WaitRun(t, eng.Engine, running)
		require.Equal(t, engine.RunCancelled, done.Status)
		require.Len(t, done.Steps, 1, "the step in flight finished; the next never started")
		never, _, _ := sink.seen("/never")
		require.Empty(t, never)

		_, err = eng.Cancel(ctx, done.ID)
		require.ErrorIs(t, err, engine.ErrConflict, "already cancelled")
		okWF := createWorkflow(t, eng.Engine, `{"name":"ok","trigger":{"type":"webhook"},"steps":[]}`)
		finished := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, okWF, `{}`).RunID)
		_, err = eng.Cancel(ctx, finished.ID)
		require.ErrorIs(t, err, engine.ErrConflict)
	})
}

// TestDelaySurvivesRestart: a run waiting in core.delay is in the database only; a new
// engine on the same database finishes it when the delay is over.
func TestDelaySurvivesRestart(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		url := storetest.URL(t, d)
		clock := enginetest.NewClock(enginetest.ClockStart().Truncate(time.Hour))
		configure := func(c *engine.Config) { c.Now = clock.Now; c.PollInterval = 10 * time.Millisecond }
		sink := newScriptSink(t, clock.Now)
		first := enginetest.New(t, d, enginetest.Options{DatabaseURL: url, Configure: configure})
		wf := createWorkflow(t, first.Engine, `{"name":"delay","trigger":{"type":"webhook"},"steps":[
		  {"id":"before","uses":"http.request","with":{"url":"%[1]s/before"}},
		  {"id":"pause","uses":"core.delay","with":{"for":"2h"}},
		  {"id":"after","uses":"http.request","with":{"url":"%[1]s/after"}}]}`, sink.URL)
		runID := ingest(t, first.Engine, wf, `{}`).RunID
		r := enginetest.WaitStatus(t, first.Engine, runID, engine.RunWaiting)
		require.Equal(t, clock.Now().Add(2*time.Hour), r.RunAt.UTC())
		require.NoError(t, first.Close())

		clock.Advance(2*time.Hour + time.Second)
		second := enginetest.New(t, d, enginetest.Options{DatabaseURL: url, Configure: configure})
		done := enginetest.WaitRun(t, second.Engine, runID)
		require.Equal(t, engine.RunSucceeded, done.Status, done.Error)
		require.Len(t, done.Steps, 3)
		require.Equal(t, "succeeded", done.Steps[1].Status)
		require.Equal(t, 1, done.Steps[1].Attempts, "waking up is not a new attempt")
		before, _, _ := sink.seen("/before")
		after, _, _ := sink.seen("/after")
		require.Len(t, before, 1)
		require.Len(t, after, 1)
	})
}

// TestConcurrencyOneKeepsOrder: with concurrency 1, runs go one at a time in arrival
// order, even when the first one waits for a retry.
func TestConcurrencyOneKeepsOrder(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{Workers: 4, NoStart: true})
		sink := newScriptSink(t, time.Now)
		sink.plan("/crm", reply{status: 503}) // the first run's first attempt fails
		wf := createWorkflow(t, eng.Engine, `{"name":"serial","concurrency":1,"trigger":{"type":"webhook"},"steps":[
		  {"id":"call","uses":"http.request","retry":{"initial":"20ms"},"with":{"method":"POST","url":"%s/crm","body":{"n":"{{ trigger.body.n }}"}}}]}`, sink.URL)
		var ids []string
		for i := range 8 {
			ids = append(ids, ingest(t, eng.Engine, wf, fmt.Sprintf(`{"n":%d}`, i)).RunID)
		}
		eng.Start(context.Background())
		for _, id := range ids {
			r := enginetest.WaitRun(t, eng.Engine, id)
			require.Equal(t, engine.RunSucceeded, r.Status, r.Error)
		}
		_, _, bodies := sink.seen("/crm")
		require.Len(t, bodies, 9)
		var order []int
		for _, b := range bodies {
			var v struct{ N int }
			require.NoError(t, json.Unmarshal([]byte(b), &v))
			order = append(order, v.N)
		}
		require.Equal(t, []int{0, 0, 1, 2, 3, 4, 5, 6, 7}, order, "in arrival order, the retry before the next run")
	})
}

// TestWatchdogFailsOverdueRuns: a run past its workflow's max_duration fails with the
// reason, whether it is waiting or about to run its next step.
func TestWatchdogFailsOverdueRuns(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		clock := enginetest.NewClock(enginetest.ClockStart().Truncate(time.Hour))
		eng := enginetest.New(t, d, enginetest.Options{Configure: func(c *engine.Config) {
			c.Now = clock.Now
			c.PollInterval = 10 * time.Millisecond
			c.SweepInterval = 10 * time.Millisecond
		}})
		alerts := createWorkflow(t, eng.Engine, `{"name":"alerts","trigger":{"type":"manual"},"steps":[
		  {"id":"note","uses":"core.set","with":{"error":"{{ trigger.error }}"}}]}`)
		wf := createWorkflow(t, eng.Engine, `{"name":"bounded","max_duration":"1h","on_failure":%q,"trigger":{"type":"webhook"},"steps":[
		  {"id":"pause","uses":"core.delay","with":{"for":"3h"}},
		  {"id":"after","uses":"core.set","with":{"x":1}}]}`, alerts.ID)
		runID := ingest(t, eng.Engine, wf, `{}`).RunID
		r := enginetest.WaitStatus(t, eng.Engine, runID, engine.RunWaiting)
		require.Equal(t, clock.Now().Add(time.Hour), r.DeadlineAt.UTC())
		clock.Advance(time.Hour + time.Minute)
		r = enginetest.WaitRun(t, eng.Engine, runID)
		require.Equal(t, engine.RunFailed, r.Status)
		require.Contains(t, r.Error, "maximum duration")
		require.Len(t, r.Steps, 1)
		require.Equal(t, "failed", r.Steps[0].Status, "the step it waited in ends with it")
		waitRuns(t, eng.Engine, alerts.ID, 1) // the watchdog's failures raise alerts too
	})
}

// TestLeaseRenewal: a step longer than the lease keeps its run, because the heartbeat
// renews it; a second engine on the same database never takes the run over.
func TestLeaseRenewal(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		url := storetest.URL(t, d)
		short := func(c *engine.Config) { c.Lease = 150 * time.Millisecond; c.PollInterval = 10 * time.Millisecond }
		a := enginetest.New(t, d, enginetest.Options{DatabaseURL: url, Configure: short})
		b := enginetest.New(t, d, enginetest.Options{DatabaseURL: url, Configure: short})
		sink := newScriptSink(t, time.Now)
		sink.plan("/long", reply{status: 200, delay: 700 * time.Millisecond})
		wf := createWorkflow(t, a.Engine, `{"name":"long","trigger":{"type":"webhook"},"steps":[
		  {"id":"long","uses":"http.request","with":{"url":"%s/long"}}]}`, sink.URL)
		r := enginetest.WaitRun(t, b.Engine, ingest(t, a.Engine, wf, `{}`).RunID)
		require.Equal(t, engine.RunSucceeded, r.Status, r.Error)
		require.Equal(t, 1, r.Attempt, "claimed once: no takeover while the lease was renewed")
		keys, _, _ := sink.seen("/long")
		require.Len(t, keys, 1)
	})
}

// TestRateLimitSpacesCalls: a connection's rate limit spaces the calls of many runs.
func TestRateLimitSpacesCalls(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Workers: 4, NoStart: true})
	sink := newScriptSink(t, time.Now)
	_, err := eng.CreateConnection(context.Background(), engine.ConnectionInput{Name: "limited", Connector: "http",
		Config: map[string]any{"base_url": sink.URL, "rate_limit": int64(10), "rate_burst": int64(1)}})
	require.NoError(t, err)
	wf := createWorkflow(t, eng.Engine, `{"name":"rl","trigger":{"type":"webhook"},"steps":[
	  {"id":"call","uses":"http.request","connection":"limited","with":{"url":"/rl"}}]}`)
	var ids []string
	for range 6 {
		ids = append(ids, ingest(t, eng.Engine, wf, `{}`).RunID)
	}
	eng.Start(context.Background())
	for _, id := range ids {
		require.Equal(t, engine.RunSucceeded, enginetest.WaitRun(t, eng.Engine, id).Status)
	}
	_, times, _ := sink.seen("/rl")
	require.Len(t, times, 6)
	// 10/s with a burst of 1: six calls need at least 5 intervals of 100ms. The bound leaves
	// 100ms for the calls' own jitter (the first call also dials), which a slow machine
	// can only shorten, never the limiter's spacing.
	require.GreaterOrEqual(t, times[5].Sub(times[0]), 400*time.Millisecond)
}

// TestNotifyWakesOtherProcesses: on PostgreSQL a run queued by one process reaches an
// idle worker in another through LISTEN/NOTIFY; its hour-long poll interval rules out
// polling as the explanation.
func TestNotifyWakesOtherProcesses(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t, store.Postgres)
	ingestOnly := enginetest.New(t, store.Postgres, enginetest.Options{DatabaseURL: url, Workers: -1})
	worker := enginetest.New(t, store.Postgres, enginetest.Options{DatabaseURL: url, Workers: 2, Configure: func(c *engine.Config) {
		c.PollInterval = time.Hour
	}})
	wf := createWorkflow(t, ingestOnly.Engine, `{"name":"notify","trigger":{"type":"webhook"},"steps":[{"id":"s","uses":"core.set","with":{"x":1}}]}`)
	time.Sleep(100 * time.Millisecond) // let the worker's first claim and LISTEN settle
	run := enginetest.WaitRun(t, worker.Engine, ingest(t, ingestOnly.Engine, wf, `{}`).RunID)
	require.Equal(t, engine.RunSucceeded, run.Status)
}
