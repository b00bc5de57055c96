package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// leasedRun ingests an event with its run already leased to owner until leaseUntil, as
// direct dispatch does.
func leasedRun(t *testing.T, s *store.Store, w *store.Workflow, owner string, now, leaseUntil time.Time) *store.Run {
	t.Helper()
	evID := newID()
	ev := &store.Event{ID: evID, WorkflowID: w.ID, ReceivedAt: now, Method: "POST", Headers: "{}",
		Body: []byte(`{"a":1}`), Verdict: store.VerdictAccepted}
	r := &store.Run{ID: newID(), WorkflowID: w.ID, Version: w.Version, EventID: &evID, Status: store.RunQueued,
		RunAt: now, CreatedAt: now, UpdatedAt: now}
	r.Leased(owner, now, leaseUntil)
	require.NoError(t, s.IngestEvent(context.Background(), ev, r))
	return r
}

// TestLeasedIngestIsAClaim: a run ingested already leased (direct dispatch) is stored as
// a claim leaves it, is never claimed by another process while its lease lives, and once
// the lease has expired (its process died) is taken over with the next attempt, which
// fences every write of the first holder.
func TestLeasedIngestIsAClaim(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		lease := 30 * time.Second
		run := leasedRun(t, s, w, "p1", t0, t0.Add(lease))

		got, err := s.GetRun(ctx, run.ID)
		require.NoError(t, err)
		require.Equal(t, store.RunRunning, got.Status)
		require.Equal(t, 1, got.Attempt)
		require.NotNil(t, got.LeaseOwner)
		require.Equal(t, "p1", *got.LeaseOwner)
		require.NotNil(t, got.LeaseUntil)
		require.True(t, got.LeaseUntil.Equal(t0.Add(lease)), "lease until %s", got.LeaseUntil)
		require.NotNil(t, got.StartedAt)
		first := store.LeaseOf(run)
		require.Equal(t, store.Lease{RunID: run.ID, Owner: "p1", Attempt: 1}, first)

		// While the lease lives, no other process claims the run, takeovers included.
		for _, at := range []time.Time{t0, t0.Add(lease / 2), t0.Add(lease - time.Second)} {
			claimed, err := s.ClaimRuns(ctx, "p2", at, at.Add(lease), 8, nil)
			require.NoError(t, err)
			require.Empty(t, claimed, "claimed a directly dispatched run at +%s", at.Sub(t0))
		}
		// Its own heartbeat renews it like any claim.
		renewed, _, err := s.RenewLeases(ctx, "p1", []store.Lease{first}, t0.Add(lease+time.Second), t0.Add(time.Second))
		require.NoError(t, err)
		require.EqualValues(t, 1, renewed)

		// p1 dies: nothing renews the lease; once it expired p2 takes the run over.
		later := t0.Add(3 * lease)
		taken, err := s.ClaimRuns(ctx, "p2", later, later.Add(lease), 8, nil)
		require.NoError(t, err)
		require.Len(t, taken, 1)
		require.Equal(t, run.ID, taken[0].ID)
		require.Equal(t, 2, taken[0].Attempt)

		// The dead process's writes are fenced out.
		step := &store.StepRun{ID: newID(), RunID: run.ID, StepID: "a", Status: store.StepSucceeded, Attempts: 1, StartedAt: t0}
		_, err = s.SaveStep(ctx, first, step, 1, later, later.Add(lease))
		require.ErrorIs(t, err, store.ErrLeaseLost)
		require.ErrorIs(t, s.FinishRun(ctx, first, store.Outcome{Status: store.RunFailed, Error: "stale", Now: later, Last: step}), store.ErrLeaseLost)
		steps, err := s.ListStepRuns(ctx, run.ID)
		require.NoError(t, err)
		require.Empty(t, steps, "the dead holder wrote no step")

		require.NoError(t, s.FinishRun(ctx, store.LeaseOf(&taken[0]), store.Outcome{Status: store.RunSucceeded, Now: later, Last: step}))
		got, err = s.GetRun(ctx, run.ID)
		require.NoError(t, err)
		require.Equal(t, store.RunSucceeded, got.Status)
		require.Nil(t, got.LeaseOwner)
	})
}

// TestLeasedIngestOfDeletedWorkflowIsCancelled: a process whose webhook cache still has
// a workflow deleted elsewhere ingests a run leased to itself; the run comes back marked
// cancelled, so its worker ends it instead of running a deleted workflow.
func TestLeasedIngestOfDeletedWorkflowIsCancelled(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		live := leasedRun(t, s, w, "p1", t0, t0.Add(time.Minute))
		require.False(t, live.CancelRequested)

		stopping, err := s.DeleteWorkflow(ctx, w.ID, t0)
		require.NoError(t, err)
		require.Equal(t, []string{live.ID}, stopping, "the run in flight is asked to stop, and named for its process")
		run := leasedRun(t, s, w, "p1", t0, t0.Add(time.Minute))
		require.True(t, run.CancelRequested, "the run's worker is told to cancel it")
		got, err := s.GetRun(ctx, run.ID)
		require.NoError(t, err)
		require.True(t, got.CancelRequested)
	})
}
