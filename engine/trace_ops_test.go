package engine_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trace"
)

// spansNamed waits until the collector holds at least n spans named name and returns
// them in arrival order.
func (r *otlpReceiver) spansNamed(t *testing.T, name string, n int) []otlpSpan {
	t.Helper()
	var got []otlpSpan
	require.Eventually(t, func() bool {
		got = got[:0]
		for _, s := range r.received() {
			if s.Name == name {
				got = append(got, s)
			}
		}
		return len(got) >= n
	}, 20*time.Second, 10*time.Millisecond, "fewer than %d %q spans", n, name)
	return got
}

// tracerFor exports to rcv every 20 ms.
func tracerFor(rcv *otlpReceiver) *trace.Tracer {
	return trace.New(trace.Config{Endpoint: rcv.URL + "/v1/traces", Interval: 20 * time.Millisecond})
}

// TestTracePollSpans: every poll records a poll span with its trigger, the items found
// and the new ones (a seeding poll finds items and starts nothing), with the poller's
// HTTP call under it; a failed poll's span has an error status.
func TestTracePollSpans(t *testing.T) {
	t.Parallel()
	rcv := newOTLPReceiver(t)
	clock := enginetest.NewClock(enginetest.ClockStart())
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Configure: func(c *engine.Config) {
		c.Now, c.Tracer = clock.Now, tracerFor(rcv)
	}})
	api := newFeedAPI(t, 1, 2)
	wf := createWorkflow(t, eng.Engine, `{"name": "Feed",
	  "trigger": {"type": "poll", "poll": {"uses": "http.poll", "cron": "@every 1s",
	    "with": {"url": "%s/items", "items": "body.data"}, "key": "item.id"}},
	  "steps": [{"id": "got", "uses": "core.set", "with": {"id": "{{ trigger.item.id }}"}}]}`, api.URL)

	seed := rcv.spansNamed(t, "poll", 1)[0]
	require.Equal(t, wf.ID, seed.attr("hookflow.workflow.id"))
	require.Equal(t, "http.poll", seed.attr("hookflow.poll.uses"))
	require.Equal(t, "2", seed.attr("hookflow.poll.items"))
	require.Equal(t, "0", seed.attr("hookflow.poll.runs"), "the first poll only seeds")
	require.Equal(t, 1, seed.Status.Code)
	require.Empty(t, seed.ParentSpanID, "a poll is the root of its trace")

	api.add(3)
	pollStep(t, eng, clock, wf.ID)
	polls := rcv.spansNamed(t, "poll", 2)
	second := polls[len(polls)-1]
	require.Equal(t, "3", second.attr("hookflow.poll.items"))
	require.Equal(t, "1", second.attr("hookflow.poll.new"))
	require.Equal(t, "1", second.attr("hookflow.poll.runs"))
	require.Equal(t, 1, second.Status.Code)
	var call *otlpSpan
	for _, s := range rcv.spansNamed(t, "HTTP GET", 2) {
		if s.ParentSpanID == second.SpanID {
			call = &s
		}
	}
	require.NotNil(t, call, "the poller's request is a child of its poll span")
	require.Equal(t, second.TraceID, call.TraceID)
	require.Equal(t, "200", call.attr("http.response.status_code"))

	api.setBroken(true)
	pollStep(t, eng, clock, wf.ID)
	polls = rcv.spansNamed(t, "poll", 3)
	failed := polls[len(polls)-1]
	require.Equal(t, 2, failed.Status.Code, "a failed poll is an error")
	require.Equal(t, "0", failed.attr("hookflow.poll.items"))
	require.Empty(t, failed.attr("hookflow.poll.runs"))
}

// TestTraceWatchdogRunSpan: a run waiting out a retry past its max_duration is failed by
// the watchdog, not by a worker; it still gets its run span, with an error status, as
// the parent of the step span its first attempt recorded.
func TestTraceWatchdogRunSpan(t *testing.T) {
	t.Parallel()
	rcv := newOTLPReceiver(t)
	clock := enginetest.NewClock(enginetest.ClockStart())
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Configure: func(c *engine.Config) {
		c.Now, c.Tracer, c.SweepInterval = clock.Now, tracerFor(rcv), 20*time.Millisecond
	}})
	sink := newScriptSink(t, clock.Now)
	sink.plan("/down", reply{status: http.StatusServiceUnavailable})
	wf := createWorkflow(t, eng.Engine, `{"name":"overdue","max_duration":"1m","trigger":{"type":"webhook"},"steps":[
	  {"id":"call","uses":"http.request","retry":{"max_attempts":5,"initial":"1h","max":"1h"},"with":{"url":"%s/down"}}]}`, sink.URL)
	runID := ingest(t, eng.Engine, wf, `{}`).RunID
	require.Eventually(t, func() bool {
		r, err := eng.GetRun(context.Background(), runID)
		require.NoError(t, err)
		return r.Status == engine.RunWaiting
	}, 20*time.Second, 10*time.Millisecond, "the run never waited for its retry")

	clock.Advance(2 * time.Minute)
	run := enginetest.WaitRun(t, eng.Engine, runID)
	require.Equal(t, engine.RunFailed, run.Status)
	require.Equal(t, store.OverdueError, run.Error)

	runSpan := rcv.spansNamed(t, "run", 1)[0]
	require.Equal(t, runID, runSpan.attr("hookflow.run.id"))
	require.Equal(t, wf.ID, runSpan.attr("hookflow.workflow.id"))
	require.Equal(t, engine.RunFailed, runSpan.attr("hookflow.run.status"))
	require.Equal(t, 2, runSpan.Status.Code, "the watchdog's failure is an error")
	require.Less(t, runSpan.Start, runSpan.End, "the span starts when the run was created")
	step := rcv.spansNamed(t, "step call", 1)[0]
	require.Equal(t, runSpan.TraceID, step.TraceID)
	require.Equal(t, runSpan.SpanID, step.ParentSpanID)
	require.Len(t, rcv.spansNamed(t, "run", 1), 1, "one run span")
}

// TestTraceTakenOverRunSpan: a process stalls past its lease with a step in flight and
// the run's deadline passes; the process that takes the run over fails it as overdue
// and records the run span with an error status, the parent of the stalled process's
// step span.
func TestTraceTakenOverRunSpan(t *testing.T) {
	t.Parallel()
	rcv := newOTLPReceiver(t)
	clock := enginetest.NewClock(enginetest.ClockStart())
	lease := time.Second
	first := enginetest.New(t, store.SQLite, enginetest.Options{Configure: func(c *engine.Config) {
		c.Now, c.Lease, c.Tracer = clock.Now, lease, tracerFor(rcv)
	}})
	sink := newGateSink(t, "/a")
	wf := createWorkflow(t, first.Engine, `{"name":"stalled","max_duration":"10s","trigger":{"type":"webhook"},"steps":[
	  {"id":"a","uses":"http.request","timeout":"60s","with":{"method":"POST","url":"%[1]s/a"}},
	  {"id":"b","uses":"http.request","with":{"method":"POST","url":"%[1]s/b"}}]}`, sink.URL)
	runID := ingest(t, first.Engine, wf, `{}`).RunID
	sink.waitArrival(t, "/a")

	first.PauseHeartbeat()
	clock.Advance(time.Minute) // past the lease and the run's deadline
	second := enginetest.New(t, store.SQLite, enginetest.Options{DatabaseURL: first.DatabaseURL, DataDir: first.DataDir,
		Configure: func(c *engine.Config) { c.Now, c.Lease, c.Tracer = clock.Now, lease, tracerFor(rcv) }})
	run := enginetest.WaitRun(t, second.Engine, runID)
	require.Equal(t, engine.RunFailed, run.Status)
	require.Contains(t, run.Error, store.OverdueError)
	require.Equal(t, 2, run.Attempt, "failed by the process that took it over")

	runSpan := rcv.spansNamed(t, "run", 1)[0]
	require.Equal(t, runID, runSpan.attr("hookflow.run.id"))
	require.Equal(t, engine.RunFailed, runSpan.attr("hookflow.run.status"))
	require.Equal(t, 2, runSpan.Status.Code)

	// The stalled step returns now: its span, recorded by the first process, belongs to
	// the same run span.
	sink.open(sink.gated["/a"])
	step := rcv.spansNamed(t, "step a", 1)[0]
	require.Equal(t, runSpan.TraceID, step.TraceID)
	require.Equal(t, runSpan.SpanID, step.ParentSpanID)
	require.Zero(t, sink.count("/b"), "nothing ran after the deadline")
}
