package engine_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestFilterAtIngress: a webhook its filter drops is stored with its run already ended
// filtered, in the event's own commit, with no worker anywhere; one the filter passes,
// or whose filter fails to evaluate, is stored queued for a worker. A worker then runs
// the queued ones (the failing filter fails its run, as before), and replaying every
// event through a worker, where the filter is evaluated on the stored event, ends each
// the same way: both places give the filter the same trigger (body, headers, query),
// run and workflow.
func TestFilterAtIngress(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		eng := enginetest.New(t, d, enginetest.Options{Workers: -1})
		wf := createWorkflow(t, eng.Engine, `{"name": "Leads", "trigger": {"type": "webhook"},
		  "filter": "trigger.body.amount > 100 && trigger.headers['x-source'] != 'test' && trigger.query.skip != 'yes' && workflow.name == 'Leads' && run.attempt == 1 && run.id != '' && trigger.method == 'POST'",
		  "steps": [{"id": "note", "uses": "core.set", "with": {"a": 1}}]}`)
		send := func(query, source, body string) *engine.IngestResult {
			t.Helper()
			h := http.Header{"Content-Type": {"application/json"}}
			if source != "" {
				h.Set("X-Source", source)
			}
			res, err := eng.Ingest(ctx, wf.HookToken, engine.IngestRequest{Method: "POST", Header: h, RawQuery: query, Body: []byte(body)})
			require.NoError(t, err)
			require.NotEmpty(t, res.RunID)
			return res
		}
		cases := []struct {
			name, query, source, body string
			atIngress, final          string
		}{
			{"passes", "", "site", `{"amount": 500}`, engine.RunQueued, engine.RunSucceeded},
			{"small amount", "", "site", `{"amount": 50}`, engine.RunFiltered, engine.RunFiltered},
			{"test header", "", "test", `{"amount": 500}`, engine.RunFiltered, engine.RunFiltered},
			{"query", "skip=yes", "", `{"amount": 500}`, engine.RunFiltered, engine.RunFiltered},
			{"filter fails", "", "", `{"amount": "lots"}`, engine.RunQueued, engine.RunFailed},
			// Too large to decode at ingress: its worker drops it.
			{"large body", "", "site", `{"amount": 50, "pad": "` + strings.Repeat("x", engine.FilterAtIngressMaxBody) + `"}`, engine.RunQueued, engine.RunFiltered},
		}
		runs := make([]string, len(cases))
		for i, c := range cases {
			runs[i] = send(c.query, c.source, c.body).RunID
			r, err := eng.GetRun(ctx, runs[i])
			require.NoError(t, err)
			require.Equal(t, c.atIngress, r.Status, c.name)
			if c.atIngress == engine.RunFiltered {
				require.Equal(t, 1, r.Attempt, c.name)
				require.NotNil(t, r.StartedAt, c.name)
				require.NotNil(t, r.FinishedAt, c.name)
				require.Empty(t, r.Error, c.name)
			}
		}
		require.Equal(t, "3", metricValue(t, metricsText(t, eng.Engine), `hookflow_runs_finished_total{status="filtered"}`))

		// A worker process on the same database.
		worker := enginetest.New(t, d, enginetest.Options{DatabaseURL: eng.DatabaseURL, DataDir: eng.DataDir, Workers: 1})
		for i, c := range cases {
			r := enginetest.WaitRun(t, worker.Engine, runs[i])
			require.Equal(t, c.final, r.Status, c.name)
			if c.final == engine.RunFailed {
				require.True(t, strings.Contains(r.Error, "evaluate filter"), r.Error)
			}
			again, err := worker.Replay(ctx, runs[i], engine.ReplayStart)
			require.NoError(t, err)
			require.Equal(t, c.final, enginetest.WaitRun(t, worker.Engine, again.ID).Status, "replay of %s", c.name)
		}
	})
}
