package engine_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/engine/workflow"
)

// TestDashboard creates runs at known offsets from the test clock, with workers, so they
// end succeeded, failed or filtered; the dashboard counts them in the right buckets of
// both ranges, lists the failures newest first, and leaves out what is older.
func TestDashboard(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		hour := enginetest.ClockStart().Truncate(time.Hour) // H: the hour "now" ends in
		clock := enginetest.NewClock(hour.Add(-30*time.Hour + 10*time.Minute))
		eng := enginetest.New(t, d, enginetest.Options{Workers: 1, Configure: func(c *engine.Config) { c.Now = clock.Now }})
		sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":"no such pipeline"}`, http.StatusBadRequest)
		}))
		t.Cleanup(sink.Close)
		ok := createWorkflow(t, eng.Engine, `{"name": "Fine", "trigger": {"type": "webhook"}, "filter": "trigger.body.go == true",
		  "steps": [{"id": "note", "uses": "core.set", "with": {"a": 1}}]}`)
		bad := createWorkflow(t, eng.Engine, `{"name": "Broken CRM", "trigger": {"type": "webhook"},
		  "steps": [{"id": "crm", "uses": "http.request", "with": {"url": "%s/leads", "method": "POST"}}]}`, sink.URL)
		run := func(wf *engine.Workflow, body, want string) *engine.Run {
			t.Helper()
			r := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, body).RunID)
			require.Equal(t, want, r.Status, r.Error)
			return r
		}

		run(ok, `{"go": true}`, engine.RunSucceeded) // H-30h+10m: only in the week
		clock.Advance(7 * time.Hour)                 // H-23h+10m: the day's first bucket
		firstFail := run(bad, `{}`, engine.RunFailed)
		run(ok, `{"go": true}`, engine.RunSucceeded)
		clock.Advance(21*time.Hour + 50*time.Minute) // H-1h: on an edge
		run(ok, `{"go": true}`, engine.RunSucceeded)
		run(ok, `{"go": false}`, engine.RunFiltered)
		clock.Advance(time.Hour) // H: on the current hour's edge
		lastFail := run(bad, `{}`, engine.RunFailed)
		clock.Advance(5 * time.Minute)

		day, err := eng.Dashboard(ctx, engine.DashboardQuery{})
		require.NoError(t, err)
		require.Equal(t, engine.DashboardDay, day.Range)
		require.Equal(t, time.Hour, day.Bucket)
		require.True(t, day.From.Equal(hour.Add(-23*time.Hour)), "from %s", day.From)
		require.True(t, day.To.Equal(hour.Add(time.Hour)), "to %s", day.To)
		require.Len(t, day.Buckets, 24)
		for i, b := range day.Buckets {
			require.True(t, b.Start.Equal(day.From.Add(time.Duration(i)*time.Hour)))
			switch i {
			case 0:
				require.Equal(t, map[string]int64{engine.RunSucceeded: 1, engine.RunFailed: 1}, b.Counts)
			case 22:
				require.Equal(t, map[string]int64{engine.RunSucceeded: 1, engine.RunFiltered: 1}, b.Counts)
			case 23:
				require.Equal(t, map[string]int64{engine.RunFailed: 1}, b.Counts)
			default:
				require.Empty(t, b.Counts, "bucket %d", i)
			}
		}
		require.Equal(t, map[string]int64{engine.RunSucceeded: 2, engine.RunFailed: 2, engine.RunFiltered: 1}, day.Totals)
		require.Len(t, day.Failures, 2)
		require.Equal(t, lastFail.ID, day.Failures[0].ID, "newest first")
		require.Equal(t, firstFail.ID, day.Failures[1].ID)
		require.Equal(t, "Broken CRM", day.Failures[0].WorkflowName)
		require.Equal(t, bad.ID, day.Failures[0].WorkflowID)
		require.Contains(t, day.Failures[0].Error, "400")
		require.Equal(t, engine.Queue{}, day.Queue, "everything ran")
		require.Empty(t, day.FailingPolls)

		week, err := eng.Dashboard(ctx, engine.DashboardQuery{Range: engine.DashboardWeek})
		require.NoError(t, err)
		require.Len(t, week.Buckets, 28)
		require.Equal(t, 6*time.Hour, week.Bucket)
		require.Equal(t, 7*24*time.Hour, week.To.Sub(week.From))
		require.Zero(t, week.From.Hour()%6, "UTC buckets start at 00, 06, 12, 18")
		require.Equal(t, map[string]int64{engine.RunSucceeded: 3, engine.RunFailed: 2, engine.RunFiltered: 1}, week.Totals,
			"the run of 30 hours ago is in the week")

		// A viewer reads it too; a range that does not exist is refused.
		viewer := engine.WithActor(ctx, &engine.Actor{UserID: "v", Role: engine.RoleViewer, Via: "ui"})
		_, err = eng.Dashboard(viewer, engine.DashboardQuery{Range: engine.DashboardWeek})
		require.NoError(t, err)
		_, err = eng.Dashboard(ctx, engine.DashboardQuery{Range: "1y"})
		var invalid *workflow.ValidationError
		require.ErrorAs(t, err, &invalid)
	})
}

// TestDashboardZones: the buckets follow the asked zone's clock, half-hour offsets too.
func TestDashboardZones(t *testing.T) {
	t.Parallel()
	clock := enginetest.NewClock(enginetest.ClockStart())
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Workers: -1, Configure: func(c *engine.Config) { c.Now = clock.Now }})
	for _, name := range []string{"Asia/Vladivostok", "America/New_York", "Asia/Kolkata"} {
		loc, err := time.LoadLocation(name)
		require.NoError(t, err)
		for _, rng := range []engine.DashboardRange{engine.DashboardDay, engine.DashboardWeek} {
			d, err := eng.Dashboard(context.Background(), engine.DashboardQuery{Range: rng, Location: loc})
			require.NoError(t, err)
			local := d.Buckets[len(d.Buckets)-1].Start.In(loc)
			require.Zero(t, local.Minute(), "%s %s: the last bucket starts on the zone's hour", name, rng)
			require.False(t, d.Now.Before(d.Buckets[len(d.Buckets)-1].Start), "now is in the last bucket")
			require.True(t, d.Now.Before(d.To))
			if rng == engine.DashboardWeek {
				require.Zero(t, local.Hour()%6, "%s: six-hour buckets from the zone's midnight", name)
			}
			if name == "Asia/Kolkata" {
				require.Equal(t, 30, d.From.UTC().Minute(), "+05:30")
			}
		}
	}
}

// TestDashboardQueue: runs no worker takes show as the queue's depth with the oldest
// one's age, and a cancelled run counts as cancelled.
func TestDashboardQueue(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		clock := enginetest.NewClock(enginetest.ClockStart().Truncate(time.Hour).Add(10 * time.Minute))
		eng := enginetest.New(t, d, enginetest.Options{Workers: -1, Configure: func(c *engine.Config) { c.Now = clock.Now }})
		wf := createWorkflow(t, eng.Engine, `{"name": "Later", "trigger": {"type": "webhook"},
		  "steps": [{"id": "note", "uses": "core.set", "with": {"a": 1}}]}`)
		ingest(t, eng.Engine, wf, `{}`)
		clock.Advance(5 * time.Minute)
		ingest(t, eng.Engine, wf, `{}`)
		cancelled := ingest(t, eng.Engine, wf, `{}`)
		_, err := eng.Cancel(ctx, cancelled.RunID)
		require.NoError(t, err)
		clock.Advance(2 * time.Minute)

		dash, err := eng.Dashboard(ctx, engine.DashboardQuery{})
		require.NoError(t, err)
		require.EqualValues(t, 2, dash.Queue.Ready)
		require.Zero(t, dash.Queue.Running)
		require.Zero(t, dash.Queue.Scheduled)
		require.Equal(t, 7*time.Minute, dash.Queue.OldestReadyAge)
		require.True(t, dash.Queue.OldestReadyAt.Equal(dash.Now.Add(-7*time.Minute)))
		require.Equal(t, map[string]int64{engine.RunQueued: 2, engine.RunCancelled: 1}, dash.Totals)
		require.Empty(t, dash.Failures, "a cancelled run is not a failure")
	})
}

// TestDashboardFailingPoll: a poll failing against a broken source is listed with its
// error, and leaves the list when it recovers.
func TestDashboardFailingPoll(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		clock := enginetest.NewClock(enginetest.ClockStart())
		eng := enginetest.New(t, d, enginetest.Options{Configure: func(c *engine.Config) { c.Now = clock.Now }})
		api := newFeedAPI(t, 1)
		api.setBroken(true)
		feed := createWorkflow(t, eng.Engine, `{"name": "Feed", "trigger": {"type": "poll", "poll": {"uses": "http.poll",
		  "cron": "@every 1s", "with": {"url": "%s/items", "items": "body.data"}, "key": "item.id"}},
		  "steps": [{"id": "got", "uses": "core.set", "with": {"id": "{{ trigger.item.id }}"}}]}`, api.URL)
		var st *engine.TriggerState
		require.Eventually(t, func() bool {
			var err error
			st, err = eng.GetTriggerState(ctx, feed.ID)
			require.NoError(t, err)
			return st.ConsecutiveFailures > 0 && st.Polling == ""
		}, 20*time.Second, 10*time.Millisecond)

		dash, err := eng.Dashboard(ctx, engine.DashboardQuery{})
		require.NoError(t, err)
		require.EqualValues(t, 1, dash.FailingPollsTotal)
		require.Len(t, dash.FailingPolls, 1)
		p := dash.FailingPolls[0]
		require.Equal(t, feed.ID, p.WorkflowID)
		require.Equal(t, "Feed", p.WorkflowName)
		require.Contains(t, p.LastError, "500")
		require.Equal(t, st.ConsecutiveFailures, p.ConsecutiveFailures)
		require.NotNil(t, p.FailingSince)

		api.setBroken(false)
		st = pollStep(t, eng, clock, feed.ID)
		require.Zero(t, st.ConsecutiveFailures)
		dash, err = eng.Dashboard(ctx, engine.DashboardQuery{})
		require.NoError(t, err)
		require.Zero(t, dash.FailingPollsTotal)
		require.Empty(t, dash.FailingPolls)
	})
}
