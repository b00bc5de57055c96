package engine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// feedAPI is a source without webhooks: GET /items lists its items oldest first under
// "data", or fails with 500 while broken.
type feedAPI struct {
	*httptest.Server
	mu     sync.Mutex
	items  []map[string]any
	broken bool
	gets   int
}

func newFeedAPI(t *testing.T, ids ...int) *feedAPI {
	f := &feedAPI{}
	f.add(ids...)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.gets++
		w.Header().Set("Content-Type", "application/json")
		if f.broken {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":"database unavailable"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": f.items})
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *feedAPI) add(ids ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		f.items = append(f.items, map[string]any{"id": id, "title": "item " + string(rune('A'+id-1))})
	}
}

func (f *feedAPI) setBroken(b bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.broken = b
}

// pollStep waits for the next poll after moving the clock past the poll's due time, and
// returns the trigger state it left.
func pollStep(t *testing.T, eng *enginetest.Engine, clock *enginetest.Clock, workflowID string) *engine.TriggerState {
	t.Helper()
	// Settle first: a poll already due (the seeding poll of a new workflow, or the next one
	// of a poll whose commit the caller saw before its next time was due) would otherwise
	// run inside this step, and the step would see two polls as one.
	var before *engine.TriggerState
	var err error
	require.Eventually(t, func() bool {
		before, err = eng.GetTriggerState(context.Background(), workflowID)
		require.NoError(t, err)
		return before.Polling == "" && before.NextPollAt != nil && before.NextPollAt.After(clock.Now())
	}, 20*time.Second, 10*time.Millisecond, "a poll already due never ran")
	clock.Advance(time.Second)
	eng.WakeScheduler()
	var st *engine.TriggerState
	require.Eventually(t, func() bool {
		st, err = eng.GetTriggerState(context.Background(), workflowID)
		require.NoError(t, err)
		return st.LastPollAt != nil && (before.LastPollAt == nil || st.LastPollAt.After(*before.LastPollAt)) && st.Polling == ""
	}, 20*time.Second, 10*time.Millisecond, "no poll happened")
	return st
}

// TestPollTrigger walks the acceptance of poll triggers: the first poll only seeds, new
// items start one run each in source order, a restart starts nothing twice, and five
// failed polls in a row show in the health and run the on_failure workflow once.
func TestPollTrigger(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		clock := enginetest.NewClock(enginetest.ClockStart().Truncate(time.Hour))
		opts := enginetest.Options{Configure: func(c *engine.Config) { c.Now = clock.Now }}
		eng := enginetest.New(t, d, opts)
		api := newFeedAPI(t, 1, 2, 3)

		alerts := createWorkflow(t, eng.Engine, `{"name": "Alerts", "trigger": {"type": "manual"},
		  "steps": [{"id": "note", "uses": "core.set", "with": {"kind": "{{ trigger.kind }}", "error": "{{ trigger.error }}",
		    "workflow": "{{ trigger.workflow.name }}", "failures": "{{ trigger.consecutive_failures }}"}}]}`)
		wf := createWorkflow(t, eng.Engine, `{"name": "Feed", "on_failure": %q,
		  "trigger": {"type": "poll", "poll": {"uses": "http.poll", "cron": "@every 1s",
		    "with": {"url": "%s/items", "items": "body.data"}, "key": "item.id"}},
		  "steps": [{"id": "got", "uses": "core.set", "with": {"id": "{{ trigger.item.id }}", "title": "{{ trigger.item.title }}"}}]}`,
			alerts.ID, api.URL)

		// The first poll records what exists and starts nothing.
		var st *engine.TriggerState
		require.Eventually(t, func() bool {
			var err error
			st, err = eng.GetTriggerState(ctx, wf.ID)
			require.NoError(t, err)
			return st.Seeded
		}, 20*time.Second, 10*time.Millisecond)
		require.EqualValues(t, 3, st.ItemsSeen)
		require.Zero(t, st.RunsStarted)
		require.Zero(t, countRuns(t, eng.Engine, wf.ID))

		// Two new items: two runs, oldest first.
		api.add(4, 5)
		st = pollStep(t, eng, clock, wf.ID)
		require.EqualValues(t, 5, st.ItemsSeen)
		require.EqualValues(t, 2, st.RunsStarted)
		page, err := eng.ListRuns(ctx, engine.RunFilter{WorkflowID: wf.ID})
		require.NoError(t, err)
		require.Len(t, page.Items, 2)
		var ids []int
		for i := len(page.Items) - 1; i >= 0; i-- { // the list is newest first
			run := enginetest.WaitRun(t, eng.Engine, page.Items[i].ID)
			require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
			var out struct{ ID int }
			require.NoError(t, json.Unmarshal(run.Steps[0].Output, &out))
			ids = append(ids, out.ID)
		}
		require.Equal(t, []int{4, 5}, ids, "runs start in source order")

		// A restart polls the same items again and starts nothing.
		require.NoError(t, eng.Close())
		opts.DatabaseURL, opts.DataDir = eng.DatabaseURL, eng.DataDir
		eng = enginetest.New(t, d, opts)
		st = pollStep(t, eng, clock, wf.ID)
		require.EqualValues(t, 5, st.ItemsSeen)
		require.Equal(t, 2, countRuns(t, eng.Engine, wf.ID), "no duplicates after a restart")

		// Five failures in a row: the health shows them and the alert runs once.
		api.setBroken(true)
		for i := 1; i <= 6; i++ {
			st = pollStep(t, eng, clock, wf.ID)
			require.Equal(t, i, st.ConsecutiveFailures)
		}
		require.Contains(t, st.LastError, "500")
		require.NotNil(t, st.FailingSince)
		require.True(t, st.LastSuccessAt.Before(*st.LastPollAt))
		waitRuns(t, eng.Engine, alerts.ID, 1)
		page, err = eng.ListRuns(ctx, engine.RunFilter{WorkflowID: alerts.ID})
		require.NoError(t, err)
		require.Len(t, page.Items, 1, "one alert per failure streak")
		alert := enginetest.WaitRun(t, eng.Engine, page.Items[0].ID)
		require.Equal(t, engine.RunSucceeded, alert.Status, alert.Error)
		var note struct {
			Kind, Error, Workflow string
			Failures              int
		}
		require.NoError(t, json.Unmarshal(alert.Steps[0].Output, &note))
		require.Equal(t, "poll", note.Kind)
		require.Equal(t, "Feed", note.Workflow)
		require.Equal(t, 5, note.Failures)
		require.Contains(t, note.Error, "500")

		// Recovery clears the streak.
		api.setBroken(false)
		st = pollStep(t, eng, clock, wf.ID)
		require.Zero(t, st.ConsecutiveFailures)
		require.Empty(t, st.LastError)
		require.Equal(t, 2, countRuns(t, eng.Engine, wf.ID))
	})
}

// TestPollBackfill starts runs for the newest items on the first poll when asked.
func TestPollBackfill(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	api := newFeedAPI(t, 1, 2, 3)
	wf := createWorkflow(t, eng.Engine, `{"name": "Feed", "trigger": {"type": "poll", "poll": {"uses": "http.poll", "cron": "@every 1h",
	    "backfill": 2, "with": {"url": "%s/items", "items": "body.data"}}},
	  "steps": [{"id": "got", "uses": "core.set", "with": {"id": "{{ trigger.item.id }}"}}]}`, api.URL)
	waitRuns(t, eng.Engine, wf.ID, 2)
	st, err := eng.GetTriggerState(context.Background(), wf.ID)
	require.NoError(t, err)
	require.EqualValues(t, 3, st.ItemsSeen)
	require.EqualValues(t, 2, st.RunsStarted)
}

// TestRunFailureAlert runs the on_failure workflow once when a run fails for good, and
// never for a failing alert run.
func TestRunFailureAlert(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	sink := newScriptSink(t, time.Now)
	sink.plan("/bad", reply{status: 400}, reply{status: 400})
	alerts := createWorkflow(t, eng.Engine, `{"name": "Alerts", "trigger": {"type": "manual"},
	  "steps": [{"id": "tell", "uses": "http.request", "with": {"url": "%s/bad", "method": "POST",
	    "body": {"failed": "{{ trigger.workflow.name }}", "run": "{{ trigger.run_id }}", "step": "{{ trigger.step }}", "error": "{{ trigger.error }}"}}}]}`, sink.URL)
	wf := createWorkflow(t, eng.Engine, `{"name": "Lead", "on_failure": %q, "trigger": {"type": "webhook"},
	  "steps": [{"id": "crm", "uses": "http.request", "with": {"url": "%s/bad"}}]}`, alerts.ID, sink.URL)
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{}`).RunID)
	require.Equal(t, engine.RunFailed, run.Status)
	waitRuns(t, eng.Engine, alerts.ID, 1)
	page, err := eng.ListRuns(context.Background(), engine.RunFilter{WorkflowID: alerts.ID})
	require.NoError(t, err)
	alert := enginetest.WaitRun(t, eng.Engine, page.Items[0].ID)
	require.Equal(t, engine.RunFailed, alert.Status, "the alert itself fails on the 400 sink")
	var in struct{ Body map[string]string }
	require.NoError(t, json.Unmarshal(alert.Steps[0].Input, &in))
	sent := in.Body
	require.Equal(t, "Lead", sent["failed"])
	require.Equal(t, run.ID, sent["run"])
	require.Equal(t, "crm", sent["step"])
	require.Contains(t, sent["error"], "400")
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, 1, countRuns(t, eng.Engine, alerts.ID), "a failed alert raises no alert")

	// A workflow cannot alert itself, and the alert workflow must exist.
	_, err = eng.UpdateWorkflow(context.Background(), alerts.ID, []byte(`{"name": "Alerts", "on_failure": "`+alerts.ID+`",
	  "trigger": {"type": "manual"}, "steps": [{"id": "x", "uses": "core.set", "with": {"a": 1}}]}`))
	require.ErrorContains(t, err, "itself")
	_, err = eng.CreateWorkflow(context.Background(), []byte(`{"name": "X", "on_failure": "nope",
	  "trigger": {"type": "manual"}, "steps": [{"id": "x", "uses": "core.set", "with": {"a": 1}}]}`))
	require.ErrorContains(t, err, `workflow "nope" does not exist`)
}
