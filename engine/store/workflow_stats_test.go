package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestWorkflowStats: one query gives each listed workflow its newest run and the runs
// and failures of the window; runs before the window and other workflows' runs do not
// count, and a workflow without runs has zeros.
func TestWorkflowStats(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		busy, idle, other := seedWorkflow(t, s), seedWorkflow(t, s), seedWorkflow(t, s)
		since := t0.Add(-24 * time.Hour)
		// A zone other than UTC: the window must compare instants, not local texts.
		moscow := time.FixedZone("MSK", 3*3600)
		add := func(w *store.Workflow, status string, at time.Time, msg string) *store.Run {
			r := &store.Run{ID: newID(), WorkflowID: w.ID, Version: 1, Status: status, RunAt: at, CreatedAt: at,
				UpdatedAt: at, Error: msg}
			if status == store.RunSucceeded || status == store.RunFailed {
				r.FinishedAt = &at
			}
			require.NoError(t, s.CreateRun(ctx, r, nil))
			return r
		}
		add(busy, store.RunFailed, since.Add(-time.Minute), "old")                 // before the window
		add(busy, store.RunSucceeded, since.Add(time.Minute).In(moscow), "")       // in it
		add(busy, store.RunFailed, t0.Add(-2*time.Hour), "boom")                   // in it
		last := add(busy, store.RunFailed, t0.Add(-time.Hour).In(moscow), "again") // newest
		add(other, store.RunSucceeded, t0, "")

		stats, err := s.WorkflowStats(ctx, []string{busy.ID, idle.ID, "no-such-workflow"}, since)
		require.NoError(t, err)
		require.Len(t, stats, 2)

		b := stats[busy.ID]
		require.EqualValues(t, 3, b.Runs)
		require.EqualValues(t, 2, b.Failures)
		require.NotNil(t, b.LastRunID)
		require.Equal(t, last.ID, *b.LastRunID)
		require.Equal(t, store.RunFailed, *b.LastStatus)
		require.Equal(t, "again", *b.LastRunError)
		require.True(t, b.LastCreatedAt.Equal(t0.Add(-time.Hour)), "%v", b.LastCreatedAt)
		require.Equal(t, time.UTC, b.LastCreatedAt.Location())
		require.NotNil(t, b.LastFinishedAt)

		i := stats[idle.ID]
		require.Equal(t, idle.ID, i.WorkflowID)
		require.Zero(t, i.Runs)
		require.Zero(t, i.Failures)
		require.Nil(t, i.LastRunID)
		require.Nil(t, i.LastCreatedAt)

		none, err := s.WorkflowStats(ctx, nil, since)
		require.NoError(t, err)
		require.Empty(t, none)
	})
}
