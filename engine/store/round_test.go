package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// openTwice opens two stores on one fresh database: the first migrated, to seed it; the
// second, whose writer has not started, for CommitTogether.
func openTwice(t *testing.T, d store.Dialect) (*store.Store, *store.Store) {
	t.Helper()
	ctx := context.Background()
	url := storetest.URL(t, d)
	seed, err := store.Open(ctx, store.Config{URL: url})
	require.NoError(t, err)
	t.Cleanup(func() { seed.Close() })
	require.NoError(t, seed.Migrate(ctx))
	s, err := store.Open(ctx, store.Config{URL: url})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, seed
}

// webhook is an event of w with its queued run; a non-empty key is its delivery id.
func webhook(w *store.Workflow, key string) (*store.Event, *store.Run) {
	ev := &store.Event{ID: newID(), WorkflowID: w.ID, ReceivedAt: t0, Method: "POST", Headers: "{}",
		Body: []byte(`{"a":1}`), Verdict: store.VerdictAccepted}
	if key != "" {
		ev.DedupeKey = &key
	}
	return ev, &store.Run{ID: newID(), WorkflowID: w.ID, Version: w.Version, EventID: &ev.ID,
		Status: store.RunQueued, RunAt: t0, CreatedAt: t0, UpdatedAt: t0}
}

func stepOf(r *store.Run, id string, pos int) *store.StepRun {
	return &store.StepRun{ID: newID(), RunID: r.ID, StepID: id, Position: pos, Status: store.StepSucceeded,
		Attempts: 1, StartedAt: t0, DurationMS: 1}
}

// requireRun checks a run's status and its number of step records.
func requireRun(t *testing.T, s *store.Store, id, status string, steps int) {
	t.Helper()
	ctx := context.Background()
	got, err := s.GetRun(ctx, id)
	require.NoError(t, err)
	require.Equal(t, status, got.Status, "run %s", id)
	recs, err := s.ListStepRuns(ctx, id)
	require.NoError(t, err)
	require.Len(t, recs, steps, "step records of run %s", id)
}

// TestWriterJoinsCommitters: webhooks, checkpoints and outcomes sent at once by many
// callers are committed in shared rounds (on PostgreSQL, one pipeline each), and every
// caller gets its own verdict: a duplicate delivery id, a lost lease.
func TestWriterJoinsCommitters(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		until := t0.Add(time.Minute)
		const n = 30
		stepping, ending := make([]*store.Run, n), make([]*store.Run, n)
		for i := range n {
			stepping[i] = leasedRun(t, s, w, "p1", t0, until)
			ending[i] = leasedRun(t, s, w, "p1", t0, until)
		}
		ev, r := webhook(w, "taken")
		require.NoError(t, s.IngestEvent(ctx, ev, r))
		before := s.WriterRounds()

		start := make(chan struct{})
		var wg sync.WaitGroup
		ingErrs, cpErrs, finErrs := make([]error, n), make([]error, n), make([]error, n)
		ingRuns := make([]*store.Run, n)
		for i := range n {
			key := fmt.Sprintf("k%d", i)
			switch i % 3 {
			case 0:
				key = "taken"
			case 1:
				key = ""
			}
			ev, r := webhook(w, key)
			ingRuns[i] = r
			wg.Go(func() {
				<-start
				ingErrs[i] = s.IngestEvent(ctx, ev, r)
			})
			l := store.LeaseOf(stepping[i])
			if i%5 == 0 {
				l.Attempt = 2 // superseded
			}
			wg.Go(func() {
				<-start
				_, cpErrs[i] = s.SaveStep(ctx, l, stepOf(stepping[i], "a", 0), 1, t0, until)
			})
			fl := store.LeaseOf(ending[i])
			if i%7 == 0 {
				fl.Owner = "p2" // never held
			}
			wg.Go(func() {
				<-start
				finErrs[i] = s.FinishRun(ctx, fl, store.Outcome{Status: store.RunSucceeded, Now: t0, Last: stepOf(ending[i], "b", 1)})
			})
		}
		close(start)
		wg.Wait()

		rounds := s.WriterRounds() - before
		t.Logf("%d items in %d shared rounds", 3*n, rounds)
		require.Positive(t, rounds, "no round held more than one kind")
		require.Less(t, rounds, int64(3*n))
		for i := range n {
			if i%3 == 0 {
				require.ErrorIs(t, ingErrs[i], store.ErrDuplicate, "webhook %d", i)
				_, err := s.GetRun(ctx, ingRuns[i].ID)
				require.ErrorIs(t, err, store.ErrNotFound, "webhook %d", i)
			} else {
				require.NoError(t, ingErrs[i], "webhook %d", i)
				requireRun(t, s, ingRuns[i].ID, store.RunQueued, 0)
			}
			if i%5 == 0 {
				require.ErrorIs(t, cpErrs[i], store.ErrLeaseLost, "checkpoint %d", i)
				requireRun(t, s, stepping[i].ID, store.RunRunning, 0)
			} else {
				require.NoError(t, cpErrs[i], "checkpoint %d", i)
				requireRun(t, s, stepping[i].ID, store.RunRunning, 1)
			}
			if i%7 == 0 {
				require.ErrorIs(t, finErrs[i], store.ErrLeaseLost, "outcome %d", i)
				requireRun(t, s, ending[i].ID, store.RunRunning, 0)
			} else {
				require.NoError(t, finErrs[i], "outcome %d", i)
				requireRun(t, s, ending[i].ID, store.RunSucceeded, 1)
			}
		}
	})
}

// TestJoinedRoundVerdicts commits webhooks, checkpoints and outcomes in one round and
// checks each one's verdict: a duplicate delivery id and lost leases fail only their
// own item, two claims of one run ending together write only the holder's outcome, a
// cancel requested is read back, and an outcome that starts an alert (its own
// transaction on PostgreSQL) starts it.
func TestJoinedRoundVerdicts(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s, seed := openTwice(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, seed)
		until := t0.Add(time.Minute)
		runs := make([]*store.Run, 6)
		for i := range runs {
			runs[i] = leasedRun(t, seed, w, "p1", t0, until)
		}
		ev, r := webhook(w, "taken")
		require.NoError(t, seed.IngestEvent(ctx, ev, r))
		_, _, err := seed.CancelRun(ctx, runs[1].ID, "stop", t0)
		require.NoError(t, err)

		var evs []*store.Event
		var ingRuns []*store.Run
		for _, key := range []string{"", "taken", "fresh", "fresh"} {
			ev, r := webhook(w, key)
			evs, ingRuns = append(evs, ev), append(ingRuns, r)
		}
		cps := []store.Checkpoint{
			{Lease: store.LeaseOf(runs[0]), Step: stepOf(runs[0], "a", 0), Next: 1, Now: t0, LeaseUntil: until},
			{Lease: store.LeaseOf(runs[1]), Step: stepOf(runs[1], "a", 0), Next: 1, Now: t0, LeaseUntil: until},
			{Lease: store.Lease{RunID: runs[2].ID, Owner: "p1", Attempt: 2}, Step: stepOf(runs[2], "a", 0), Next: 1, Now: t0, LeaseUntil: until},
		}
		alertEv, alertRun := webhook(w, "")
		leases := []store.Lease{store.LeaseOf(runs[3]), {RunID: runs[3].ID, Owner: "p2", Attempt: 1},
			store.LeaseOf(runs[4]), {RunID: runs[5].ID, Owner: "p2", Attempt: 1}}
		outs := []store.Outcome{
			{Status: store.RunSucceeded, Now: t0, Last: stepOf(runs[3], "b", 1)},
			{Status: store.RunFailed, Error: "stale", Now: t0, Last: stepOf(runs[3], "b", 1)},
			{Status: store.RunFailed, Error: "boom", Now: t0, Alert: &store.Started{Event: alertEv, Run: alertRun}},
			{Status: store.RunSucceeded, Now: t0},
		}
		v := s.CommitTogether(evs, ingRuns, cps, leases, outs)

		require.EqualValues(t, 1, s.WriterRounds(), "one shared round")
		require.NoError(t, v.Ingests[0])
		require.ErrorIs(t, v.Ingests[1], store.ErrDuplicate)
		require.NoError(t, v.Ingests[2])
		require.ErrorIs(t, v.Ingests[3], store.ErrDuplicate, "the same new delivery id twice in the round")
		for i, stored := range []bool{true, false, true, false} {
			_, err := s.GetRun(ctx, ingRuns[i].ID)
			if stored {
				require.NoError(t, err, "webhook %d", i)
			} else {
				require.ErrorIs(t, err, store.ErrNotFound, "webhook %d", i)
			}
		}
		require.NoError(t, v.Checkpoints[0])
		require.NoError(t, v.Checkpoints[1])
		require.ErrorIs(t, v.Checkpoints[2], store.ErrLeaseLost)
		require.Equal(t, []bool{false, true, false}, v.Cancels)
		requireRun(t, s, runs[0].ID, store.RunRunning, 1)
		requireRun(t, s, runs[1].ID, store.RunRunning, 1)
		requireRun(t, s, runs[2].ID, store.RunRunning, 0)

		require.NoError(t, v.Finishes[0])
		require.ErrorIs(t, v.Finishes[1], store.ErrLeaseLost, "only the holder's outcome of run 3")
		require.NoError(t, v.Finishes[2])
		require.ErrorIs(t, v.Finishes[3], store.ErrLeaseLost)
		requireRun(t, s, runs[3].ID, store.RunSucceeded, 1)
		requireRun(t, s, runs[4].ID, store.RunFailed, 0)
		requireRun(t, s, runs[5].ID, store.RunRunning, 0)
		requireRun(t, s, alertRun.ID, store.RunQueued, 0)
	})
}

// TestJoinedRoundFallback: a webhook that fails (its run's id is taken) fails the shared
// round; every batch is then committed on its own, and the faulty one item by item, so
// that only the faulty webhook fails and every other item gets its own verdict.
func TestJoinedRoundFallback(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s, seed := openTwice(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, seed)
		until := t0.Add(time.Minute)
		runs := make([]*store.Run, 4)
		for i := range runs {
			runs[i] = leasedRun(t, seed, w, "p1", t0, until)
		}

		var evs []*store.Event
		var ingRuns []*store.Run
		for _, key := range []string{"", "", "k"} {
			ev, r := webhook(w, key)
			evs, ingRuns = append(evs, ev), append(ingRuns, r)
		}
		ingRuns[1].ID = runs[0].ID // taken: the INSERT fails
		cps := []store.Checkpoint{
			{Lease: store.LeaseOf(runs[0]), Step: stepOf(runs[0], "a", 0), Next: 1, Now: t0, LeaseUntil: until},
			{Lease: store.Lease{RunID: runs[1].ID, Owner: "p1", Attempt: 2}, Step: stepOf(runs[1], "a", 0), Next: 1, Now: t0, LeaseUntil: until},
		}
		leases := []store.Lease{store.LeaseOf(runs[2]), {RunID: runs[3].ID, Owner: "p2", Attempt: 1}}
		outs := []store.Outcome{
			{Status: store.RunSucceeded, Now: t0, Last: stepOf(runs[2], "b", 1)},
			{Status: store.RunSucceeded, Now: t0},
		}
		v := s.CommitTogether(evs, ingRuns, cps, leases, outs)

		require.EqualValues(t, 0, s.WriterRounds(), "the failed round was not counted")
		require.NoError(t, v.Ingests[0])
		require.Error(t, v.Ingests[1], "the faulty webhook fails")
		require.NotErrorIs(t, v.Ingests[1], store.ErrDuplicate)
		require.NoError(t, v.Ingests[2])
		requireRun(t, s, ingRuns[0].ID, store.RunQueued, 0)
		requireRun(t, s, ingRuns[2].ID, store.RunQueued, 0)
		_, err := s.GetEvent(ctx, evs[1].ID)
		require.ErrorIs(t, err, store.ErrNotFound, "the faulty webhook's event went with its run")

		require.NoError(t, v.Checkpoints[0])
		require.ErrorIs(t, v.Checkpoints[1], store.ErrLeaseLost)
		require.NoError(t, v.Finishes[0])
		require.ErrorIs(t, v.Finishes[1], store.ErrLeaseLost)
		requireRun(t, s, runs[0].ID, store.RunRunning, 1)
		requireRun(t, s, runs[1].ID, store.RunRunning, 0)
		requireRun(t, s, runs[2].ID, store.RunSucceeded, 1)
		requireRun(t, s, runs[3].ID, store.RunRunning, 0)
	})
}
