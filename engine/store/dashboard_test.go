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

// dashRun inserts a run of w with a status, created (and due) at at.
func dashRun(t *testing.T, s *store.Store, w *store.Workflow, status string, at time.Time) *store.Run {
	t.Helper()
	r := &store.Run{ID: newID(), WorkflowID: w.ID, Version: w.Version, Status: status, RunAt: at, CreatedAt: at, UpdatedAt: at}
	if status == store.RunFailed {
		r.Error = "step send: POST /leads: 400 Bad Request"
		fin := at.Add(time.Second)
		r.FinishedAt = &fin
	}
	require.NoError(t, s.CreateRun(context.Background(), r, nil))
	return r
}

// histogram turns RunHistogram's rows into bucket → status → count.
func histogram(t *testing.T, s *store.Store, start time.Time, size time.Duration, n int) map[int]map[string]int64 {
	t.Helper()
	rows, err := s.RunHistogram(context.Background(), start, size, n)
	require.NoError(t, err)
	out := map[int]map[string]int64{}
	for _, r := range rows {
		require.GreaterOrEqual(t, r.Bucket, 0)
		require.Less(t, r.Bucket, n)
		if out[r.Bucket] == nil {
			out[r.Bucket] = map[string]int64{}
		}
		out[r.Bucket][r.Status] += r.N
	}
	return out
}

func TestRunHistogram(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		w, other, gone := seedWorkflow(t, s), seedWorkflow(t, s), seedWorkflow(t, s)
		start := t0.Truncate(time.Hour).Add(-23 * time.Hour)
		end := start.Add(24 * time.Hour)

		dashRun(t, s, w, store.RunSucceeded, start)                                                  // on the first edge: bucket 0
		dashRun(t, s, w, store.RunSucceeded, start.Add(time.Hour-time.Millisecond))                  // the last instant of bucket 0
		dashRun(t, s, other, store.RunFailed, start.Add(time.Hour))                                  // on an edge: bucket 1
		dashRun(t, s, w, store.RunFailed, start.Add(90*time.Minute).In(time.FixedZone("", 10*3600))) // written in +10:00
		dashRun(t, s, w, store.RunCancelled, start.Add(5*time.Hour+time.Minute))
		dashRun(t, s, w, store.RunFiltered, start.Add(5*time.Hour+2*time.Minute))
		for _, st := range []string{store.RunQueued, store.RunRunning, store.RunWaiting, store.RunSucceeded} {
			dashRun(t, s, w, st, start.Add(23*time.Hour+30*time.Minute))
		}
		dashRun(t, s, w, store.RunSucceeded, start.Add(-time.Nanosecond)) // older than the window
		dashRun(t, s, w, store.RunFailed, start.Add(-48*time.Hour))       // much older
		dashRun(t, s, w, store.RunSucceeded, end)                         // the end is excluded
		dashRun(t, s, gone, store.RunFailed, start.Add(2*time.Hour))      // a deleted workflow's
		require.NoError(t, deleted(s.DeleteWorkflow(context.Background(), gone.ID, t0)))

		require.Equal(t, map[int]map[string]int64{
			0:  {store.RunSucceeded: 2},
			1:  {store.RunFailed: 2},
			5:  {store.RunCancelled: 1, store.RunFiltered: 1},
			23: {store.RunQueued: 1, store.RunRunning: 1, store.RunWaiting: 1, store.RunSucceeded: 1},
		}, histogram(t, s, start, time.Hour, 24))

		// Six-hour buckets over seven days from a half-hour edge (a +05:30 zone's midnight).
		week := start.Add(-6*24*time.Hour - 30*time.Minute)
		dashRun(t, s, w, store.RunSucceeded, week.Add(6*time.Hour-time.Millisecond))
		dashRun(t, s, w, store.RunCancelled, week.Add(6*time.Hour))
		require.Equal(t, map[int]map[string]int64{
			0:  {store.RunSucceeded: 1},
			1:  {store.RunCancelled: 1},
			16: {store.RunFailed: 1},
			// From start-30m to start+5h30m: the run just before the 24 h window is in,
			// and the runs of start+23h30m are past the end.
			24: {store.RunSucceeded: 3, store.RunFailed: 2, store.RunCancelled: 1, store.RunFiltered: 1},
		}, histogram(t, s, week, 6*time.Hour, 28))

		_, err := s.RunHistogram(context.Background(), start, 1500*time.Millisecond, 24)
		require.Error(t, err, "a bucket of a fraction of a second")
	})
}

func TestRecentFailures(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w, gone := seedWorkflow(t, s), seedWorkflow(t, s)
		since := t0.Add(-24 * time.Hour)
		var want []string
		for i := range 12 {
			r := dashRun(t, s, w, store.RunFailed, since.Add(time.Duration(i)*time.Hour))
			want = append([]string{r.ID}, want...)
		}
		dashRun(t, s, w, store.RunFailed, since.Add(-time.Second))
		dashRun(t, s, w, store.RunSucceeded, t0)
		dashRun(t, s, gone, store.RunFailed, t0)
		require.NoError(t, deleted(s.DeleteWorkflow(ctx, gone.ID, t0)))

		got, err := s.RecentFailures(ctx, since, 10)
		require.NoError(t, err)
		require.Len(t, got, 10)
		for i, f := range got {
			require.Equal(t, want[i], f.ID, "newest first")
			require.Equal(t, w.ID, f.WorkflowID)
			require.Equal(t, "wf", f.WorkflowName)
			require.Contains(t, f.Error, "400 Bad Request")
			require.NotNil(t, f.FinishedAt)
		}
		require.True(t, got[0].CreatedAt.Equal(since.Add(11*time.Hour)), "%s", got[0].CreatedAt)

		all, err := s.RecentFailures(ctx, since, 100)
		require.NoError(t, err)
		require.Len(t, all, 12, "neither the older one nor the deleted workflow's")
	})
}

func TestFailingPolls(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		poll := func(name string, fail int) *store.Workflow {
			w := &store.Workflow{ID: newID(), Name: name, Enabled: true, Version: 1, TriggerType: "poll",
				HookToken: newID(), CreatedAt: t0, UpdatedAt: t0}
			require.NoError(t, s.CreateWorkflow(ctx, w, &store.WorkflowVersion{WorkflowID: w.ID, Version: 1, Definition: `{}`, CreatedAt: t0}))
			_, err := s.SyncTriggerState(ctx, w.ID, 1, t0, t0)
			require.NoError(t, err)
			for i := range fail {
				now := t0.Add(time.Duration(i) * time.Minute)
				st, err := s.ClaimPoll(ctx, w.ID, "me", now, now.Add(time.Minute))
				require.NoError(t, err)
				require.NotNil(t, st)
				_, _, err = s.CommitPollFailure(ctx, store.PollFailure{WorkflowID: w.ID, Owner: "me", Now: now,
					NextAt: now.Add(time.Minute), Error: fmt.Sprintf("GET /items: 500 (%s, %d)", name, i+1)})
				require.NoError(t, err)
			}
			return w
		}
		poll("healthy", 0)
		twice := poll("twice", 2)
		thrice := poll("thrice", 3)
		gone := poll("gone", 1)
		require.NoError(t, deleted(s.DeleteWorkflow(ctx, gone.ID, t0)))
		off := poll("disabled", 1)
		off.Enabled, off.UpdatedAt = false, t0
		require.NoError(t, s.SaveWorkflowVersion(ctx, off, &store.WorkflowVersion{WorkflowID: off.ID, Version: 2, Definition: `{}`, CreatedAt: t0}))

		got, total, err := s.FailingPolls(ctx, 10)
		require.NoError(t, err)
		require.EqualValues(t, 2, total, "enabled, not deleted, failing")
		require.Len(t, got, 2)
		require.Equal(t, []string{twice.ID, thrice.ID}, []string{got[0].WorkflowID, got[1].WorkflowID},
			"failing since the same moment: by id")
		byID := map[string]store.FailingPoll{got[0].WorkflowID: got[0], got[1].WorkflowID: got[1]}
		require.Equal(t, 3, byID[thrice.ID].ConsecutiveFailures)
		require.Equal(t, "GET /items: 500 (thrice, 3)", byID[thrice.ID].LastError)
		require.Equal(t, "thrice", byID[thrice.ID].WorkflowName)
		require.True(t, byID[thrice.ID].FailingSince.Equal(t0))
		require.True(t, byID[thrice.ID].LastPollAt.Equal(t0.Add(2*time.Minute)))

		one, total, err := s.FailingPolls(ctx, 1)
		require.NoError(t, err)
		require.EqualValues(t, 2, total)
		require.Len(t, one, 1)
	})
}

func TestQueue(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		q, err := s.Queue(ctx, t0)
		require.NoError(t, err)
		require.Equal(t, &store.QueueDepth{}, q, "an empty queue")

		w, gone := seedWorkflow(t, s), seedWorkflow(t, s)
		dashRun(t, s, w, store.RunQueued, t0.Add(-10*time.Minute))
		dashRun(t, s, w, store.RunQueued, t0) // due exactly now
		dashRun(t, s, w, store.RunWaiting, t0.Add(-time.Minute))
		dashRun(t, s, w, store.RunWaiting, t0.Add(time.Hour))
		dashRun(t, s, w, store.RunQueued, t0.Add(time.Second))
		dashRun(t, s, w, store.RunRunning, t0.Add(-time.Hour))
		dashRun(t, s, w, store.RunSucceeded, t0.Add(-time.Hour))
		dashRun(t, s, gone, store.RunQueued, t0.Add(-time.Hour))
		require.NoError(t, deleted(s.DeleteWorkflow(ctx, gone.ID, t0)))

		q, err = s.Queue(ctx, t0)
		require.NoError(t, err)
		require.EqualValues(t, 3, q.Ready)
		require.EqualValues(t, 2, q.Scheduled)
		require.EqualValues(t, 1, q.Running)
		require.NotNil(t, q.OldestReadyAt)
		require.True(t, q.OldestReadyAt.Equal(t0.Add(-10*time.Minute)), "%s", q.OldestReadyAt)
	})
}
