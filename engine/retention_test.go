package engine_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// runsOf ingests n webhooks into wf and waits for their runs to end.
func runsOf(t *testing.T, eng *engine.Engine, wf *engine.Workflow, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = ingest(t, eng, wf, `{"n":1}`).RunID
	}
	for _, id := range ids {
		r := enginetest.WaitRun(t, eng, id)
		require.Equal(t, engine.RunSucceeded, r.Status, r.Error)
	}
	return ids
}

func exists(t *testing.T, eng *engine.Engine, runID string) bool {
	t.Helper()
	_, err := eng.GetRun(context.Background(), runID)
	if err != nil {
		require.ErrorIs(t, err, engine.ErrNotFound)
		return false
	}
	return true
}

func metricsText(t *testing.T, eng *engine.Engine) string {
	t.Helper()
	rec := httptest.NewRecorder()
	eng.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(b)
}

// TestRetention: finished runs go after the server's max age, or a workflow's own; a
// workflow's max_runs keeps its newest runs; the rows pruned show in /metrics.
func TestRetention(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		clock := enginetest.NewClock(enginetest.ClockStart())
		eng := enginetest.New(t, d, enginetest.Options{Configure: func(c *engine.Config) {
			c.Now = clock.Now
			c.RetentionMaxAge = 30 * 24 * time.Hour
		}})
		const steps = `"steps":[{"id":"a","uses":"core.set","with":{"x":1}}]`
		byDefault := createWorkflow(t, eng.Engine, `{"name":"default","trigger":{"type":"webhook"},`+steps+`}`)
		longer := createWorkflow(t, eng.Engine, `{"name":"longer","trigger":{"type":"webhook"},`+steps+`,"retention":{"max_age":"60d"}}`)
		few := createWorkflow(t, eng.Engine, `{"name":"few","trigger":{"type":"webhook"},`+steps+`,"retention":{"max_runs":2}}`)

		defaultRuns := runsOf(t, eng.Engine, byDefault, 2)
		longerRuns := runsOf(t, eng.Engine, longer, 2)
		fewRuns := runsOf(t, eng.Engine, few, 3)

		pruned, err := eng.Prune(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(1), pruned["runs"], "only the oldest run of few, beyond its newest 2")
		require.False(t, exists(t, eng.Engine, fewRuns[0]))
		require.True(t, exists(t, eng.Engine, fewRuns[1]))

		clock.Advance(31 * 24 * time.Hour)
		pruned, err = eng.Prune(ctx)
		require.NoError(t, err)
		require.Equal(t, store.Pruned{"runs": 4, "step_runs": 4, "events": 4}, pruned, "default and few are past 30 days")
		for _, id := range defaultRuns {
			require.False(t, exists(t, eng.Engine, id))
		}
		for _, id := range longerRuns {
			require.True(t, exists(t, eng.Engine, id), "longer keeps its runs 60 days")
		}
		// The workflow itself and its webhook stay: only history goes.
		fresh := ingest(t, eng.Engine, byDefault, `{"n":2}`)
		require.Equal(t, engine.RunSucceeded, enginetest.WaitRun(t, eng.Engine, fresh.RunID).Status)

		clock.Advance(30 * 24 * time.Hour)
		pruned, err = eng.Prune(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(2), pruned["runs"], "longer's runs are past 60 days; the fresh run is not past 30")
		require.True(t, exists(t, eng.Engine, fresh.RunID))

		m := metricsText(t, eng.Engine)
		require.Contains(t, m, `hookflow_pruned_rows_total{table="runs"} 7`)
		require.Contains(t, m, `hookflow_pruned_rows_total{table="events"} 7`)
	})
}

// TestDeleteWorkflowPrunesHistory: a deleted workflow is gone at once for the API and
// its webhook; its runs are removed by the pruner, woken by the delete.
func TestDeleteWorkflowPrunesHistory(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		eng := enginetest.New(t, d, enginetest.Options{Configure: func(c *engine.Config) { c.RetentionBatch = 2 }})
		wf := createWorkflow(t, eng.Engine, `{"name":"doomed","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set","with":{"x":1}}]}`)
		ids := runsOf(t, eng.Engine, wf, 5)

		require.NoError(t, eng.DeleteWorkflow(ctx, wf.ID))
		_, err := eng.GetWorkflow(ctx, wf.ID)
		require.ErrorIs(t, err, engine.ErrNotFound)
		require.ErrorIs(t, eng.DeleteWorkflow(ctx, wf.ID), engine.ErrNotFound)
		_, err = eng.Ingest(ctx, wf.HookToken, engine.IngestRequest{Method: "POST", Body: []byte(`{}`)})
		require.ErrorIs(t, err, engine.ErrNotFound, "its webhook answers 404")

		// The last thing the pruner deletes is the workflow's row.
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(metricsText(t, eng.Engine), `hookflow_pruned_rows_total{table="workflows"} 1`) {
			require.True(t, time.Now().Before(deadline), "deleted workflow's row still there after 10s")
			time.Sleep(10 * time.Millisecond)
		}
		for _, id := range ids {
			require.False(t, exists(t, eng.Engine, id))
		}
	})
}
