package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// tickWorkflow records each run's trigger in its one step's output.
const tickWorkflow = `{"name": "Tick", "trigger": {"type": "schedule", "schedule": {"cron": %q, "catch_up": %q}},
 "steps": [{"id": "at", "uses": "core.set", "with": {"scheduled_at": "{{ trigger.scheduled_at }}",
   "catch_up": "{{ trigger.catch_up ?? false }}", "missed": "{{ trigger.missed ?? 0 }}"}}]}`

type tick struct {
	ScheduledAt string `json:"scheduled_at"`
	CatchUp     bool   `json:"catch_up"`
	Missed      int    `json:"missed"`
}

// ticks returns the finished runs of a workflow by their trigger, oldest first.
func ticks(t *testing.T, eng *engine.Engine, workflowID string) []tick {
	t.Helper()
	page, err := eng.ListRuns(context.Background(), engine.RunFilter{WorkflowID: workflowID, Limit: engine.ListLimitMax})
	require.NoError(t, err)
	out := make([]tick, len(page.Items))
	for i, r := range page.Items {
		full := enginetest.WaitRun(t, eng, r.ID)
		require.Equal(t, engine.RunSucceeded, full.Status, full.Error)
		require.NoError(t, json.Unmarshal(full.Steps[0].Output, &out[len(out)-1-i]))
	}
	return out
}

func countRuns(t *testing.T, eng *engine.Engine, workflowID string) int {
	t.Helper()
	page, err := eng.ListRuns(context.Background(), engine.RunFilter{WorkflowID: workflowID, Limit: engine.ListLimitMax})
	require.NoError(t, err)
	return len(page.Items)
}

// waitRuns waits until a workflow has n runs, within a generous bound.
func waitRuns(t *testing.T, eng *engine.Engine, workflowID string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return countRuns(t, eng, workflowID) >= n },
		20*time.Second, 20*time.Millisecond, "workflow %s never reached %d runs", workflowID, n)
}

// TestScheduleOneRunPerTickAcrossProcesses runs two engines on one PostgreSQL database
// with an @every 1s schedule for 5 seconds: every tick starts exactly one run.
func TestScheduleOneRunPerTickAcrossProcesses(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t, store.Postgres)
	a := enginetest.New(t, store.Postgres, enginetest.Options{DatabaseURL: url})
	b := enginetest.New(t, store.Postgres, enginetest.Options{DatabaseURL: url})
	wf := createWorkflow(t, a.Engine, tickWorkflow, "@every 1s", "latest")
	b.WakeScheduler()
	time.Sleep(5 * time.Second)
	// Stop the ticks by disabling the workflow; the runs already queued still finish.
	_, err := a.UpdateWorkflow(context.Background(), wf.ID, []byte(strings.Replace(
		fmt.Sprintf(tickWorkflow, "@every 1s", "latest"), `"name": "Tick"`, `"name": "Tick", "enabled": false`, 1)))
	require.NoError(t, err)
	b.WakeScheduler()

	got := ticks(t, a.Engine, wf.ID)
	require.GreaterOrEqual(t, len(got), 4, "5 seconds of @every 1s")
	require.LessOrEqual(t, len(got), 7)
	seen := map[string]bool{}
	var prev time.Time
	for _, tk := range got {
		require.False(t, seen[tk.ScheduledAt], "tick %s ran twice", tk.ScheduledAt)
		seen[tk.ScheduledAt] = true
		at, err := time.Parse(time.RFC3339, tk.ScheduledAt)
		require.NoError(t, err)
		if !prev.IsZero() {
			require.Equal(t, time.Second, at.Sub(prev), "ticks are consecutive seconds: none skipped")
		}
		prev = at
		require.False(t, tk.CatchUp)
	}
}

// TestScheduleCatchUp stops an engine for a minute of its clock and starts another on
// the same database: the missed ticks of an @every 1s schedule start what catch_up says.
func TestScheduleCatchUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode string
		runs int
	}{{"latest", 1}, {"none", 0}, {"all", 60}} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			start := enginetest.ClockStart().Truncate(time.Hour)
			clock := enginetest.NewClock(start.Add(500 * time.Millisecond))
			opts := enginetest.Options{Configure: func(c *engine.Config) { c.Now = clock.Now }}
			first := enginetest.New(t, store.SQLite, opts)
			wf := createWorkflow(t, first.Engine, tickWorkflow, "@every 1s", tc.mode)
			// The schedule starts counting when a scheduler first sees it.
			require.Eventually(t, func() bool {
				st, err := first.GetTriggerState(context.Background(), wf.ID)
				return err == nil && st.LastTick != nil
			}, 10*time.Second, 10*time.Millisecond)
			clock.Advance(time.Second)
			first.WakeScheduler()
			waitRuns(t, first.Engine, wf.ID, 1)
			require.NoError(t, first.Close())

			clock.Advance(time.Minute)
			opts.DatabaseURL, opts.DataDir = first.DatabaseURL, first.DataDir
			second := enginetest.New(t, store.SQLite, opts)
			second.WakeScheduler()
			// Missed ticks are behind the schedule whatever catch_up says: the second
			// scheduler's first pass moves the last tick to the newest missed one.
			newestMissed := start.Add(time.Minute + time.Second).Format(time.RFC3339)
			require.Eventually(t, func() bool {
				st, err := second.GetTriggerState(context.Background(), wf.ID)
				return err == nil && st.LastTick != nil && st.LastTick.UTC().Format(time.RFC3339) == newestMissed
			}, 20*time.Second, 10*time.Millisecond, "the last tick never reached the newest missed one")
			if tc.runs > 0 {
				waitRuns(t, second.Engine, wf.ID, 1+tc.runs)
			}
			// The clock stands still: no tick falls due, whatever the scheduler does next.
			second.WakeScheduler()
			time.Sleep(300 * time.Millisecond)
			got := ticks(t, second.Engine, wf.ID)
			require.Len(t, got, 1+tc.runs)
			require.False(t, got[0].CatchUp)
			if tc.runs == 0 {
				return
			}
			last := got[len(got)-1]
			require.True(t, last.CatchUp)
			require.Equal(t, 60, last.Missed)
			require.Equal(t, newestMissed, last.ScheduledAt, "the newest missed tick")
		})
	}
}

// TestScheduleChangeAppliesWithoutRestart saves a new cron for a running schedule.
func TestScheduleChangeAppliesWithoutRestart(t *testing.T) {
	t.Parallel()
	start := enginetest.ClockStart().Truncate(time.Hour)
	clock := enginetest.NewClock(start)
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Configure: func(c *engine.Config) { c.Now = clock.Now }})
	wf := createWorkflow(t, eng.Engine, tickWorkflow, "@daily", "latest")
	require.Eventually(t, func() bool {
		st, err := eng.GetTriggerState(context.Background(), wf.ID)
		return err == nil && st.NextTick != nil
	}, 10*time.Second, 10*time.Millisecond)
	st, err := eng.GetTriggerState(context.Background(), wf.ID)
	require.NoError(t, err)
	require.Equal(t, start.Truncate(24*time.Hour).Add(24*time.Hour).Format(time.RFC3339), st.NextTick.UTC().Format(time.RFC3339))

	_, err = eng.UpdateWorkflow(context.Background(), wf.ID, fmt.Appendf(nil, tickWorkflow, "*/5 * * * *", "latest"))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := eng.GetTriggerState(context.Background(), wf.ID)
		return err == nil && st.Version == 2
	}, 10*time.Second, 10*time.Millisecond)
	clock.Advance(5 * time.Minute)
	eng.WakeScheduler()
	waitRuns(t, eng.Engine, wf.ID, 1)
	got := ticks(t, eng.Engine, wf.ID)
	require.Len(t, got, 1)
	require.Equal(t, start.Add(5*time.Minute).Format(time.RFC3339), got[0].ScheduledAt)
}

// countingHandler counts the log records with a given message, and passes every record
// on to the test's log.
type countingHandler struct {
	slog.Handler
	message string
	n       *atomic.Int64
}

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.message {
		h.n.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h countingHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return countingHandler{h.Handler.WithAttrs(a), h.message, h.n}
}

func (h countingHandler) WithGroup(g string) slog.Handler {
	return countingHandler{h.Handler.WithGroup(g), h.message, h.n}
}

// TestFailingTickBacksOff: a tick the database refuses is retried after a growing
// delay, not at every pass of the scheduler, and fires once the database is well.
func TestFailingTickBacksOff(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		start := enginetest.ClockStart().Truncate(time.Hour)
		clock := enginetest.NewClock(start.Add(500 * time.Millisecond))
		var failures atomic.Int64
		eng := enginetest.New(t, d, enginetest.Options{Configure: func(c *engine.Config) {
			c.Now = clock.Now
			c.Logger = slog.New(countingHandler{enginetest.Logger(t).Handler(), "Schedule tick failed; retrying", &failures})
		}})
		wf := createWorkflow(t, eng.Engine, tickWorkflow, "@every 1s", "latest")
		require.Eventually(t, func() bool {
			st, err := eng.GetTriggerState(context.Background(), wf.ID)
			return err == nil && st.LastTick != nil
		}, 10*time.Second, 10*time.Millisecond)
		unblock := blockRuns(t, d, eng.DatabaseURL, wf.ID)

		clock.Advance(time.Second)
		eng.WakeScheduler()
		require.Eventually(t, func() bool { return failures.Load() >= 1 }, 10*time.Second, 5*time.Millisecond)
		time.Sleep(300 * time.Millisecond) // thirty passes at the scheduler's shortest wait
		require.EqualValues(t, 1, failures.Load(), "no retry before the backoff has passed on the engine's clock")

		clock.Advance(time.Second) // past the first backoff
		eng.WakeScheduler()
		require.Eventually(t, func() bool { return failures.Load() >= 2 }, 10*time.Second, 5*time.Millisecond)
		unblock()
		clock.Advance(5 * time.Second)
		eng.WakeScheduler()
		waitRuns(t, eng.Engine, wf.ID, 1)
	})
}
