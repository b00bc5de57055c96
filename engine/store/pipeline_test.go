package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestGroupCommitFencesEachItem writes checkpoints and outcomes of runs whose leases are
// held and of runs whose leases are not, as one group commit each (on PostgreSQL, one
// pipelined round trip whose statements write a step record only with its run's fenced
// update): each item gets its own verdict, and a worker without the lease writes neither
// the run nor its step record.
func TestGroupCommitFencesEachItem(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		until := t0.Add(time.Minute)
		runs := make([]*store.Run, 4)
		leases := make([]store.Lease, 4)
		for i := range runs {
			runs[i] = leasedRun(t, s, w, "p1", t0, until)
			leases[i] = store.LeaseOf(runs[i])
		}
		leases[1].Attempt = 2                                 // superseded by a later claim
		leases[3].Owner = "p2"                                // never held by this process
		_, _, err := s.CancelRun(ctx, runs[2].ID, "stop", t0) // running: asked to stop
		require.NoError(t, err)
		step := func(r *store.Run, id string, pos int) *store.StepRun {
			return &store.StepRun{ID: newID(), RunID: r.ID, StepID: id, Position: pos, Status: store.StepSucceeded,
				Attempts: 1, StartedAt: t0, DurationMS: int64(pos + 1)}
		}
		steps := make([]*store.StepRun, 4)
		for i, r := range runs {
			steps[i] = step(r, "a", 0)
		}

		errs, cancels, err := s.CheckpointBatch(leases, steps, 1, t0, until)
		require.NoError(t, err)
		require.NoError(t, errs[0])
		require.ErrorIs(t, errs[1], store.ErrLeaseLost)
		require.NoError(t, errs[2])
		require.ErrorIs(t, errs[3], store.ErrLeaseLost)
		require.Equal(t, []bool{false, false, true, false}, cancels)
		for i, want := range []int{1, 0, 1, 0} {
			got, err := s.GetRun(ctx, runs[i].ID)
			require.NoError(t, err)
			require.Equal(t, want, got.StepIndex, "run %d", i)
			recs, err := s.ListStepRuns(ctx, runs[i].ID)
			require.NoError(t, err)
			require.Len(t, recs, want, "run %d: a step record only with its run's progress", i)
		}

		outs := []store.Outcome{
			{Status: store.RunSucceeded, Now: t0, Last: step(runs[0], "b", 1)},
			{Status: store.RunSucceeded, Now: t0, Last: step(runs[1], "b", 1)},
			{Status: store.RunFailed, Error: "boom", Now: t0, Last: step(runs[2], "b", 1)},
			{Status: store.RunSucceeded, Now: t0, Last: step(runs[3], "b", 1)},
		}
		errs, err = s.FinishBatch(leases, outs)
		require.NoError(t, err)
		require.NoError(t, errs[0])
		require.ErrorIs(t, errs[1], store.ErrLeaseLost)
		require.NoError(t, errs[2])
		require.ErrorIs(t, errs[3], store.ErrLeaseLost)
		for i, want := range []struct {
			status, err string
			steps       int
		}{{store.RunSucceeded, "", 2}, {store.RunRunning, "", 0}, {store.RunFailed, "boom", 2}, {store.RunRunning, "", 0}} {
			got, err := s.GetRun(ctx, runs[i].ID)
			require.NoError(t, err)
			require.Equal(t, want.status, got.Status, "run %d", i)
			require.Equal(t, want.err, got.Error, "run %d", i)
			recs, err := s.ListStepRuns(ctx, runs[i].ID)
			require.NoError(t, err)
			require.Len(t, recs, want.steps, "run %d", i)
		}
		// The same batch again: every lease is gone now, nothing more is written.
		errs, err = s.FinishBatch(leases, outs)
		require.NoError(t, err)
		for i := range errs {
			require.ErrorIs(t, errs[i], store.ErrLeaseLost, "run %d", i)
		}
	})
}

// TestGroupCommitDedupesWithinABatch ingests one batch holding a delivery id already
// stored, the same new id twice and a fresh one: each duplicate is told so and starts no
// run, and the rest are stored with their runs.
func TestGroupCommitDedupesWithinABatch(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		mk := func(key string) (*store.Event, *store.Run) {
			ev := &store.Event{ID: newID(), WorkflowID: w.ID, ReceivedAt: t0, Method: "POST", Headers: "{}",
				Body: []byte(`{"a":1}`), DedupeKey: &key, Verdict: store.VerdictAccepted}
			return ev, &store.Run{ID: newID(), WorkflowID: w.ID, Version: w.Version, EventID: &ev.ID,
				Status: store.RunQueued, RunAt: t0, CreatedAt: t0, UpdatedAt: t0}
		}
		ev, r := mk("k0")
		require.NoError(t, s.IngestEvent(ctx, ev, r))
		var evs []*store.Event
		var runs []*store.Run
		for _, k := range []string{"k0", "k1", "k1", "k2"} {
			ev, r := mk(k)
			evs, runs = append(evs, ev), append(runs, r)
		}
		errs, err := s.IngestBatch(evs, runs)
		require.NoError(t, err)
		require.ErrorIs(t, errs[0], store.ErrDuplicate)
		require.NoError(t, errs[1])
		require.ErrorIs(t, errs[2], store.ErrDuplicate)
		require.NoError(t, errs[3])
		for i, stored := range []bool{false, true, false, true} {
			_, err := s.GetRun(ctx, runs[i].ID)
			if stored {
				require.NoError(t, err, "run %d", i)
			} else {
				require.ErrorIs(t, err, store.ErrNotFound, "run %d", i)
			}
		}
	})
}
