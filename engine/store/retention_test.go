package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

const day = 24 * time.Hour

// fence claims the retention lease for owner at t0 and returns the fence of its writes.
func fence(t *testing.T, s *store.Store, owner string) store.Fence {
	t.Helper()
	held, err := s.ClaimLease(context.Background(), store.RetentionLease, owner, t0, t0.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, held, "lease taken by another owner")
	return store.Fence{Name: store.RetentionLease, Owner: owner, Now: t0, Until: t0.Add(time.Minute)}
}

// addRun stores an accepted event (when ev is empty, a new one) and a run of it with one
// step record, created at created and, for a final status, finished at finished.
func addRun(t *testing.T, s *store.Store, w *store.Workflow, ev, status string, created, finished time.Time) *store.Run {
	t.Helper()
	ctx := context.Background()
	if ev == "" {
		ev = newID()
		require.NoError(t, s.RecordEvent(ctx, &store.Event{ID: ev, WorkflowID: w.ID, ReceivedAt: created, Method: "POST",
			Headers: "{}", Body: []byte(`{}`), Verdict: store.VerdictAccepted}))
	}
	r := &store.Run{ID: newID(), WorkflowID: w.ID, Version: 1, EventID: &ev, Status: status, RunAt: created,
		CreatedAt: created, UpdatedAt: created}
	if status == store.RunRunning {
		owner, until := "worker", created.Add(time.Hour)
		r.LeaseOwner, r.LeaseUntil = &owner, &until
	}
	switch status {
	case store.RunSucceeded, store.RunFailed, store.RunFiltered, store.RunCancelled:
		r.FinishedAt = &finished
	}
	step := store.StepRun{ID: newID(), RunID: r.ID, StepID: "a", Status: store.StepSucceeded, StartedAt: created}
	require.NoError(t, s.CreateRun(ctx, r, []store.StepRun{step}))
	return r
}

// pruneAll prunes a workflow in batches until a batch comes back short, and returns the
// totals and the number of batches.
func pruneAll(t *testing.T, s *store.Store, f store.Fence, w *store.Workflow, r store.Retention, batch int) (store.Pruned, int) {
	t.Helper()
	total, batches := store.Pruned{}, 0
	for range 1000 {
		p, err := s.PruneRuns(context.Background(), f, w.ID, r, batch)
		require.NoError(t, err)
		require.LessOrEqual(t, p["runs"], int64(batch), "a batch deletes at most its size")
		batches++
		for k, v := range p {
			total[k] += v
		}
		if p["runs"] < int64(batch) {
			return total, batches
		}
	}
	t.Fatal("pruning never ended")
	return nil, 0
}

// pruneDeleted removes a deleted workflow's history in batches of 3 until it is gone.
func pruneDeleted(t *testing.T, s *store.Store, id string) store.Pruned {
	t.Helper()
	f := fence(t, s, "pruner")
	total := store.Pruned{}
	for range 1000 {
		p, gone, err := s.PruneDeleted(context.Background(), f, id, 3)
		require.NoError(t, err)
		for k, v := range p {
			total[k] += v
		}
		if gone {
			return total
		}
		require.Positive(t, p.Total(), "neither gone nor progressing")
		require.LessOrEqual(t, p["runs"], int64(3))
	}
	t.Fatal("deleted workflow never gone")
	return nil
}

func runIDs(t *testing.T, s *store.Store, w *store.Workflow) map[string]bool {
	t.Helper()
	runs, err := s.ListRuns(context.Background(), store.RunFilter{WorkflowID: w.ID, Limit: 1000})
	require.NoError(t, err)
	out := map[string]bool{}
	for _, r := range runs {
		out[r.ID] = true
	}
	return out
}

func TestPruneRunsByAge(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w, other := seedWorkflow(t, s), seedWorkflow(t, s)
		old := t0.Add(-40 * day)
		var gone []*store.Run
		for _, st := range []string{store.RunSucceeded, store.RunFailed, store.RunFiltered, store.RunCancelled} {
			gone = append(gone, addRun(t, s, w, "", st, old, old.Add(time.Minute)))
		}
		// Nothing unfinished goes, however old; a run that ended recently stays, however
		// long ago it was created; another workflow's runs are not this one's business.
		var kept []*store.Run
		for _, st := range []string{store.RunQueued, store.RunWaiting, store.RunRunning} {
			kept = append(kept, addRun(t, s, w, "", st, old, time.Time{}))
		}
		kept = append(kept, addRun(t, s, w, "", store.RunSucceeded, old, t0.Add(-29*day)))
		kept = append(kept, addRun(t, s, w, "", store.RunSucceeded, t0.Add(-time.Hour), t0))
		foreign := addRun(t, s, other, "", store.RunSucceeded, old, old)

		total, _ := pruneAll(t, s, fence(t, s, "pruner"), w, store.Retention{Before: t0.Add(-30 * day)}, 500)
		require.Equal(t, store.Pruned{"runs": 4, "step_runs": 4, "events": 4}, total)

		ids := runIDs(t, s, w)
		require.Len(t, ids, len(kept))
		for _, r := range kept {
			require.True(t, ids[r.ID], "run %s (%s) kept", r.ID, r.Status)
			_, err := s.GetEvent(ctx, *r.EventID)
			require.NoError(t, err, "the event of a kept run stays")
			steps, err := s.ListStepRuns(ctx, r.ID)
			require.NoError(t, err)
			require.Len(t, steps, 1)
		}
		for _, r := range gone {
			_, err := s.GetEvent(ctx, *r.EventID)
			require.ErrorIs(t, err, store.ErrNotFound)
		}
		_, err := s.GetRun(ctx, foreign.ID)
		require.NoError(t, err)
	})
}

func TestPruneRunsByCount(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		w := seedWorkflow(t, s)
		var runs []*store.Run
		for i := range 25 {
			at := t0.Add(time.Duration(i-25) * time.Minute)
			status := store.RunSucceeded
			if i == 3 {
				status = store.RunWaiting // old but unfinished: kept, and counts among the runs
			}
			runs = append(runs, addRun(t, s, w, "", status, at, at))
		}
		total, batches := pruneAll(t, s, fence(t, s, "pruner"), w, store.Retention{Keep: 10}, 4)
		require.Equal(t, int64(14), total["runs"], "the 25 runs but the newest 10 and the waiting one")
		require.Equal(t, int64(14), total["events"])
		require.Equal(t, 4, batches, "14 runs in batches of 4")

		ids := runIDs(t, s, w)
		require.Len(t, ids, 11)
		require.True(t, ids[runs[3].ID], "the waiting run stays")
		for _, r := range runs[15:] {
			require.True(t, ids[r.ID], "the newest 10 stay")
		}

		// Both bounds at once: whichever removes more applies.
		total, _ = pruneAll(t, s, fence(t, s, "pruner"), w, store.Retention{Keep: 8, Before: t0.Add(-5 * time.Minute)}, 100)
		require.Equal(t, int64(5), total["runs"], "runs[15:20] ended over 5 minutes ago")
		require.Len(t, runIDs(t, s, w), 6)
	})
}

// TestPruneKeepsSharedEvent: a replay refers to the event of the run it replays; the
// event stays while any run refers to it, and goes with the last one.
func TestPruneKeepsSharedEvent(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		first := addRun(t, s, w, "", store.RunFailed, t0.Add(-40*day), t0.Add(-40*day))
		replay := addRun(t, s, w, *first.EventID, store.RunSucceeded, t0.Add(-day), t0.Add(-day))
		f := fence(t, s, "pruner")

		total, _ := pruneAll(t, s, f, w, store.Retention{Before: t0.Add(-30 * day)}, 10)
		require.Equal(t, int64(1), total["runs"])
		require.Zero(t, total["events"], "the replay still needs the event")
		got, err := s.GetRun(ctx, replay.ID)
		require.NoError(t, err)
		require.Equal(t, first.EventID, got.EventID)
		_, err = s.GetEvent(ctx, *first.EventID)
		require.NoError(t, err)

		total, _ = pruneAll(t, s, f, w, store.Retention{Before: t0}, 10)
		require.Equal(t, store.Pruned{"runs": 1, "step_runs": 1, "events": 1}, total)
		_, err = s.GetEvent(ctx, *first.EventID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

// TestRetentionLease: one process at a time prunes. Of two claiming at once exactly one
// wins; the other gets the lease only once it is released or lapses, and a pruner whose
// lease was taken over writes nothing more.
func TestRetentionLease(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		url := storetest.URL(t, d)
		ctx := context.Background()
		var procs [2]*store.Store
		for i := range procs {
			s, err := store.Open(ctx, store.Config{URL: url})
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			require.NoError(t, s.Migrate(ctx))
			procs[i] = s
		}
		owners := [2]string{"a", "b"}
		for round := range 5 {
			now := t0.Add(time.Duration(round) * time.Hour)
			var won [2]bool
			var wg sync.WaitGroup
			for i, s := range procs {
				wg.Go(func() {
					held, err := s.ClaimLease(ctx, store.RetentionLease, owners[i], now, now.Add(time.Minute))
					require.NoError(t, err)
					won[i] = held
				})
			}
			wg.Wait()
			require.True(t, won[0] != won[1], "round %d: exactly one holds the lease, got %v", round, won)
			winner := 0
			if won[1] {
				winner = 1
			}
			held, err := procs[1-winner].ClaimLease(ctx, store.RetentionLease, owners[1-winner], now.Add(30*time.Second), now.Add(time.Minute))
			require.NoError(t, err)
			require.False(t, held, "held by the other until it lapses")
			require.NoError(t, procs[winner].ReleaseLease(ctx, store.RetentionLease, owners[winner]))
		}

		s := procs[0]
		w := seedWorkflow(t, s)
		r := addRun(t, s, w, "", store.RunSucceeded, t0.Add(-40*day), t0.Add(-40*day))
		fa := fence(t, s, "a")
		// a stalls past its lease; b takes over.
		later := t0.Add(2 * time.Minute)
		held, err := procs[1].ClaimLease(ctx, store.RetentionLease, "b", later, later.Add(time.Minute))
		require.NoError(t, err)
		require.True(t, held, "a lapsed lease is taken over")
		fa.Now, fa.Until = later, later.Add(time.Minute)
		_, err = s.PruneRuns(ctx, fa, w.ID, store.Retention{Before: t0}, 10)
		require.ErrorIs(t, err, store.ErrLeaseNotHeld)
		_, err = s.GetRun(ctx, r.ID)
		require.NoError(t, err, "nothing deleted without the lease")
	})
}

// TestDeleteWorkflowInBatches: deleting a workflow is one short transaction that hides
// it and stops its runs; its history, however long, then goes in small batches, and the
// row last.
func TestDeleteWorkflowInBatches(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w, other := seedWorkflow(t, s), seedWorkflow(t, s)
		for i := range 10 {
			at := t0.Add(time.Duration(i) * time.Second)
			addRun(t, s, w, "", store.RunSucceeded, at, at)
		}
		running := addRun(t, s, w, "", store.RunRunning, t0, time.Time{})
		queued := addRun(t, s, w, "", store.RunQueued, t0, time.Time{})
		require.NoError(t, s.RecordEvent(ctx, &store.Event{ID: newID(), WorkflowID: w.ID, ReceivedAt: t0, Headers: "{}",
			Verdict: store.VerdictRejected}))
		otherRun := addRun(t, s, other, "", store.RunQueued, t0, time.Time{})

		require.NoError(t, deleted(s.DeleteWorkflow(ctx, w.ID, t0)))
		got, err := s.GetRun(ctx, running.ID)
		require.NoError(t, err)
		require.True(t, got.CancelRequested, "the running run is asked to stop")
		claimed, err := s.ClaimRuns(ctx, "worker", t0.Add(time.Minute), t0.Add(2*time.Minute), 10, nil)
		require.NoError(t, err)
		require.Len(t, claimed, 1, "a deleted workflow's queued runs are not claimed")
		require.Equal(t, otherRun.ID, claimed[0].ID)
		_, err = s.GetRun(ctx, queued.ID)
		require.NoError(t, err, "history stays until the pruner comes")

		// Pruning live workflows leaves a deleted one to PruneDeleted, and the reverse.
		p, gone, err := s.PruneDeleted(ctx, fence(t, s, "pruner"), other.ID, 3)
		require.NoError(t, err)
		require.False(t, gone)
		require.Zero(t, p.Total())

		total := pruneDeleted(t, s, w.ID)
		require.Equal(t, int64(12), total["runs"])
		require.Equal(t, int64(12), total["step_runs"])
		require.Equal(t, int64(13), total["events"], "accepted events with their runs, then the rejected one")
		require.Equal(t, int64(1), total["workflow_versions"])
		require.Equal(t, int64(1), total["workflows"])
		list, err := s.RetainedWorkflows(ctx)
		require.NoError(t, err)
		require.Equal(t, []store.RetainedWorkflow{{ID: other.ID, Version: 1}}, list)
		_, err = s.GetRun(ctx, otherRun.ID)
		require.NoError(t, err)
	})
}
