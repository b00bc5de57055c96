package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

const oneCallWorkflow = `{"name":"one call","trigger":{"type":"webhook"},"steps":[
  {"id":"a","uses":"http.request","timeout":"60s","retry":{"max_attempts":1},"with":{"method":"POST","url":"%s/{{ trigger.body.path }}"}}]}`

// backlogOne fills eng's single worker with a run held at the sink's gate and puts a
// second run in the backlog behind it. It returns their workflow and the two runs' ids.
func backlogOne(t *testing.T, eng *engine.Engine, sink *gateSink) (wf *engine.Workflow, first, second string) {
	t.Helper()
	wf = createWorkflow(t, eng, oneCallWorkflow, sink.URL)
	waitIdle(t, eng, 1)
	first = ingest(t, eng, wf, `{"path": "first"}`).RunID
	sink.waitArrival(t, "/first")
	second = ingest(t, eng, wf, `{"path": "second"}`).RunID
	require.EqualValues(t, 2, metric(t, eng, "hookflow_runs_dispatched_total"), "the second run went to the backlog")
	waiting, err := eng.GetRun(context.Background(), second)
	require.NoError(t, err)
	require.Equal(t, engine.RunRunning, waiting.Status, "a backlogged run is stored leased, so a cancel only requests its stop")
	return wf, first, second
}

// requireCancelledWithoutCall opens the gate of the first run and checks that the
// backlogged run ended cancelled without its call.
func requireCancelledWithoutCall(t *testing.T, eng *engine.Engine, sink *gateSink, first, second string) {
	t.Helper()
	sink.open(sink.gated["/first"])
	require.Equal(t, engine.RunSucceeded, enginetest.WaitRun(t, eng, first).Status)
	run := enginetest.WaitRun(t, eng, second)
	require.Equal(t, engine.RunCancelled, run.Status, run.Error)
	require.Empty(t, run.Steps, "no step started")
	require.Zero(t, sink.count("/second"), "a run cancelled while it waited in the backlog made its call")
	waitMetric(t, eng, "hookflow_runs_in_flight", 0)
}

// TestCancelBackloggedRun: a run waiting in memory for a worker of the process that
// ingested it is stored running, so a cancel can only request its stop; it must stop
// before its first step, not after it.
func TestCancelBackloggedRun(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{Workers: 1, Configure: noPoll})
		sink := newGateSink(t, "/first")
		_, first, second := backlogOne(t, eng.Engine, sink)

		r, err := eng.Cancel(context.Background(), second)
		require.NoError(t, err)
		require.True(t, r.CancelRequested)
		requireCancelledWithoutCall(t, eng.Engine, sink, first, second)
	})
}

// TestCancelReachesAnotherProcessBacklog: the cancel arrives at a process other than the
// one whose backlog holds the run (another replica behind the load balancer). On
// PostgreSQL the holder hears it through the runs channel at once; on either database
// its heartbeat reads it with the leases it renews.
func TestCancelReachesAnotherProcessBacklog(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		lease := 600 * time.Millisecond
		if d == store.Postgres {
			// Long enough that no heartbeat runs during the test: the notification alone
			// must carry the cancel.
			lease = time.Hour
		}
		holder := enginetest.New(t, d, enginetest.Options{Workers: 1, Configure: func(c *engine.Config) {
			noPoll(c)
			c.Lease = lease
		}})
		api := enginetest.New(t, d, enginetest.Options{Workers: -1, DatabaseURL: holder.DatabaseURL, DataDir: holder.DataDir})
		sink := newGateSink(t, "/first")
		_, first, second := backlogOne(t, holder.Engine, sink)

		_, err := api.Cancel(context.Background(), second)
		require.NoError(t, err)
		deadline := time.Now().Add(20 * time.Second)
		for !holder.StopRequested(second) {
			if time.Now().After(deadline) {
				t.Fatal("the process holding the run never heard of its cancel")
			}
			time.Sleep(5 * time.Millisecond)
		}
		requireCancelledWithoutCall(t, holder.Engine, sink, first, second)
	})
}

// TestDeleteWorkflowStopsBackloggedRun: deleting a workflow asks its running runs to
// stop; one still waiting in the backlog must not make its call.
func TestDeleteWorkflowStopsBackloggedRun(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{Workers: 1, Configure: noPoll})
		sink := newGateSink(t, "/first")
		wf, _, second := backlogOne(t, eng.Engine, sink)

		require.NoError(t, eng.DeleteWorkflow(context.Background(), wf.ID))
		require.True(t, eng.StopRequested(second))
		sink.open(sink.gated["/first"])
		waitMetric(t, eng.Engine, "hookflow_runs_in_flight", 0)
		require.Zero(t, sink.count("/second"), "a run of a deleted workflow waiting in the backlog made its call")
	})
}
