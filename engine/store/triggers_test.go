package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

func started(w *store.Workflow, at time.Time, key *string) store.Started {
	evID := newID()
	return store.Started{
		Event: &store.Event{ID: evID, WorkflowID: w.ID, ReceivedAt: at, Headers: "{}", ContentType: "application/json",
			Body: []byte(`{}`), DedupeKey: key, Verdict: store.VerdictAccepted},
		Run: &store.Run{ID: newID(), WorkflowID: w.ID, Version: w.Version, EventID: &evID, Status: store.RunQueued,
			RunAt: at, CreatedAt: at, UpdatedAt: at},
	}
}

func polled(w *store.Workflow, at time.Time, keys ...string) []store.PolledItem {
	out := make([]store.PolledItem, len(keys))
	for i, k := range keys {
		out[i] = store.PolledItem{Key: k, Started: started(w, at, nil)}
	}
	return out
}

func runCount(t *testing.T, s *store.Store) int64 {
	t.Helper()
	c, err := s.Count(context.Background())
	require.NoError(t, err)
	var n int64
	for _, v := range c.Runs {
		n += v
	}
	return n
}

// TestFireSlotOnce: a tick's slot is taken once; the last slot only moves forward.
func TestFireSlotOnce(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		_, err := s.SyncTriggerState(ctx, w.ID, 1, t0, t0)
		require.NoError(t, err)
		slot := t0.Add(time.Minute)
		key := fmt.Sprintf("schedule:%d", slot.Unix())
		fired, err := s.FireSlot(ctx, started(w, slot, &key), slot)
		require.NoError(t, err)
		require.True(t, fired)
		fired, err = s.FireSlot(ctx, started(w, slot, &key), slot)
		require.NoError(t, err)
		require.False(t, fired, "the second process finds the slot taken")
		require.EqualValues(t, 1, runCount(t, s))

		require.NoError(t, s.AdvanceSlot(ctx, w.ID, t0, t0))
		st, err := s.GetTriggerState(ctx, w.ID)
		require.NoError(t, err)
		require.True(t, slot.Equal(*st.LastSlot), "the last slot never moves back")
		require.EqualValues(t, 1, st.RunsStarted, "the health counts the tick's run, once")

		// A new version resets the schedule to now, keeping the rest.
		st, err = s.SyncTriggerState(ctx, w.ID, 2, t0.Add(time.Hour), t0.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 2, st.Version)
		require.True(t, t0.Add(time.Hour).Equal(*st.LastSlot))
	})
}

// TestPollLeaseAndCommit: one process at a time holds a due poll; the first commit only
// seeds (plus the backfill); later commits start runs for new keys only, in order; a
// commit after the lease was lost writes nothing.
func TestPollLeaseAndCommit(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		_, err := s.SyncTriggerState(ctx, w.ID, 1, t0, t0)
		require.NoError(t, err)

		a, err := s.ClaimPoll(ctx, w.ID, "a", t0, t0.Add(time.Minute))
		require.NoError(t, err)
		require.NotNil(t, a)
		b, err := s.ClaimPoll(ctx, w.ID, "b", t0, t0.Add(time.Minute))
		require.NoError(t, err)
		require.Nil(t, b, "held by a")

		res, err := s.CommitPoll(ctx, store.PollSuccess{WorkflowID: w.ID, Owner: "a", Now: t0, NextAt: t0.Add(time.Second),
			Items: polled(w, t0, "1", "2", "3"), Cursor: new(`{"since":3}`), Backfill: 1})
		require.NoError(t, err)
		require.Equal(t, store.PollResult{New: 3, Started: 1}, res, "the first poll seeds, backfilling the newest one")

		b, err = s.ClaimPoll(ctx, w.ID, "b", t0, t0.Add(time.Minute))
		require.NoError(t, err)
		require.Nil(t, b, "not due before next_at")
		t1 := t0.Add(time.Second)
		b, err = s.ClaimPoll(ctx, w.ID, "b", t1, t1.Add(time.Minute))
		require.NoError(t, err)
		require.NotNil(t, b)
		require.Equal(t, `{"since":3}`, *b.Cursor)
		require.True(t, b.Seeded)

		items := polled(w, t1, "2", "3", "4", "5", "4")
		res, err = s.CommitPoll(ctx, store.PollSuccess{WorkflowID: w.ID, Owner: "b", Now: t1, NextAt: t1.Add(time.Second), Items: items})
		require.NoError(t, err)
		require.Equal(t, store.PollResult{New: 2, Started: 2}, res, "seen keys and a repeated key start nothing")
		_, err = s.GetRun(ctx, items[2].Run.ID)
		require.NoError(t, err, "item 4 started")
		_, err = s.GetRun(ctx, items[4].Run.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "the repeat of item 4 did not")

		// Owner a lost its lease long ago: its late commit is refused whole.
		_, err = s.CommitPoll(ctx, store.PollSuccess{WorkflowID: w.ID, Owner: "a", Now: t1, NextAt: t1, Items: polled(w, t1, "9")})
		require.ErrorIs(t, err, store.ErrPollLost)
		st, err := s.GetTriggerState(ctx, w.ID)
		require.NoError(t, err)
		require.EqualValues(t, 5, st.ItemsSeen)
		require.EqualValues(t, 3, st.RunsStarted)
		require.Equal(t, `{"since":3}`, *st.Cursor, "a nil cursor keeps the saved one")
		require.EqualValues(t, 3, runCount(t, s))
	})
}

// TestPollFailureAlertsOncePerStreak: the alert starts with the failure that reaches the
// threshold, not before or after, and again only after a success ends the streak.
func TestPollFailureAlertsOncePerStreak(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		alerts := seedWorkflow(t, s)
		_, err := s.SyncTriggerState(ctx, w.ID, 1, t0, t0)
		require.NoError(t, err)
		at := t0
		fail := func() (int, bool) {
			t.Helper()
			st, err := s.ClaimPoll(ctx, w.ID, "p", at, at.Add(time.Minute))
			require.NoError(t, err)
			require.NotNil(t, st)
			alert := started(alerts, at, nil)
			n, alerted, err := s.CommitPollFailure(ctx, store.PollFailure{WorkflowID: w.ID, Owner: "p", Now: at, NextAt: at,
				Error: "503", AlertAfter: 3, Alert: &alert})
			require.NoError(t, err)
			at = at.Add(time.Second)
			return n, alerted
		}
		for i := 1; i <= 4; i++ {
			n, alerted := fail()
			require.Equal(t, i, n)
			require.Equal(t, i == 3, alerted, "failure %d", i)
		}
		st, err := s.ClaimPoll(ctx, w.ID, "p", at, at.Add(time.Minute))
		require.NoError(t, err)
		_, err = s.CommitPoll(ctx, store.PollSuccess{WorkflowID: w.ID, Owner: "p", Now: at, NextAt: at})
		require.NoError(t, err)
		require.NotNil(t, st)
		for i := 1; i <= 3; i++ {
			_, alerted := fail()
			require.Equal(t, i == 3, alerted, "a new streak alerts again")
		}
		require.EqualValues(t, 2, runCount(t, s))
	})
}

// TestPruneSeen keeps the newest keys of each workflow.
func TestPruneSeen(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		_, err := s.SyncTriggerState(ctx, w.ID, 1, t0, t0)
		require.NoError(t, err)
		for i := range 5 {
			at := t0.Add(time.Duration(i) * time.Second)
			_, err := s.ClaimPoll(ctx, w.ID, "p", at, at.Add(time.Minute))
			require.NoError(t, err)
			_, err = s.CommitPoll(ctx, store.PollSuccess{WorkflowID: w.ID, Owner: "p", Now: at, NextAt: at,
				Items: polled(w, at, fmt.Sprint(2*i), fmt.Sprint(2*i+1))})
			require.NoError(t, err)
		}
		n, err := s.PruneSeen(ctx, 4)
		require.NoError(t, err)
		require.EqualValues(t, 6, n, "10 keys, the newest 4 kept")
		n, err = s.PruneSeen(ctx, 4)
		require.NoError(t, err)
		require.Zero(t, n)
		// Forgotten keys count as new again; kept ones do not.
		at := t0.Add(time.Minute)
		_, err = s.ClaimPoll(ctx, w.ID, "p", at, at.Add(time.Minute))
		require.NoError(t, err)
		res, err := s.CommitPoll(ctx, store.PollSuccess{WorkflowID: w.ID, Owner: "p", Now: at, NextAt: at, Items: polled(w, at, "0", "9")})
		require.NoError(t, err)
		require.Equal(t, 1, res.New)
	})
}

// TestPruneSeenKeepsWhatTheSourceStillReturns: a key the source returns again is seen
// again, so pruning (which keeps the most recently seen keys) does not forget it while
// newer keys pile up, and it never starts a second run.
func TestPruneSeenKeepsWhatTheSourceStillReturns(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		_, err := s.SyncTriggerState(ctx, w.ID, 1, t0, t0)
		require.NoError(t, err)
		poll := func(i int, keys ...string) store.PollResult {
			at := t0.Add(time.Duration(i) * time.Minute)
			_, err := s.ClaimPoll(ctx, w.ID, "p", at, at.Add(time.Minute))
			require.NoError(t, err)
			res, err := s.CommitPoll(ctx, store.PollSuccess{WorkflowID: w.ID, Owner: "p", Now: at, NextAt: at, Items: polled(w, at, keys...)})
			require.NoError(t, err)
			return res
		}
		poll(0, "pinned")
		poll(1, "pinned", "a")
		poll(2, "pinned", "b")
		n, err := s.PruneSeen(ctx, 2)
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "only a, seen last a minute before, is forgotten")
		require.Zero(t, poll(3, "pinned", "b").New, "the pinned item is still known")
	})
}
