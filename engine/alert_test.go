package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // database/sql driver "sqlite", to break the test database on purpose

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// blockRuns makes every insert of a run of workflowID fail in the database itself, as a
// database error or a crash at that moment would, until the returned function is called.
func blockRuns(t *testing.T, d store.Dialect, url, workflowID string) (unblock func()) {
	t.Helper()
	driver := "sqlite"
	stmts := []string{fmt.Sprintf(`CREATE TRIGGER block_runs BEFORE INSERT ON runs WHEN NEW.workflow_id = '%s'
		BEGIN SELECT RAISE(ABORT, 'inserts of runs blocked by the test'); END`, workflowID)}
	undo := []string{"DROP TRIGGER block_runs"}
	if d == store.Postgres {
		driver = "pgx"
		stmts = []string{`CREATE FUNCTION block_runs() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'inserts of runs blocked by the test'; END $$`,
			fmt.Sprintf(`CREATE TRIGGER block_runs BEFORE INSERT ON runs FOR EACH ROW
			WHEN (NEW.workflow_id = '%s') EXECUTE FUNCTION block_runs()`, workflowID)}
		undo = []string{"DROP TRIGGER block_runs ON runs", "DROP FUNCTION block_runs()"}
	}
	if d == store.SQLite {
		// The engine writes all the while: wait for its write lock rather than fail.
		url = "file:" + strings.TrimPrefix(url, "file:") + "?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	for _, q := range stmts {
		_, err := db.Exec(q)
		require.NoError(t, err)
	}
	return func() {
		for _, q := range undo {
			_, err := db.Exec(q)
			require.NoError(t, err)
		}
	}
}

// TestRunFailureAlertIsNeverLost: the database refuses the alert's run at the moment a
// run fails for good. The failure and its alert are one transaction, so neither is
// recorded; once the database is well again the run is taken over, fails again, and
// its alert runs, once.
func TestRunFailureAlertIsNeverLost(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		clock := enginetest.NewClock(enginetest.ClockStart())
		lease := time.Second
		eng := enginetest.New(t, d, enginetest.Options{Configure: func(c *engine.Config) {
			c.Now, c.Lease, c.PollInterval = clock.Now, lease, 10*time.Millisecond
		}})
		sink := newScriptSink(t, time.Now)
		sink.plan("/bad", reply{status: 400}, reply{status: 400})
		alerts := createWorkflow(t, eng.Engine, `{"name":"alerts","trigger":{"type":"manual"},"steps":[
		  {"id":"note","uses":"core.set","with":{"failed":"{{ trigger.run_id }}"}}]}`)
		wf := createWorkflow(t, eng.Engine, `{"name":"lead","on_failure":%q,"trigger":{"type":"webhook"},"steps":[
		  {"id":"crm","uses":"http.request","with":{"url":"%s/bad"}}]}`, alerts.ID, sink.URL)
		unblock := blockRuns(t, d, eng.DatabaseURL, alerts.ID)
		runID := ingest(t, eng.Engine, wf, `{}`).RunID
		require.Eventually(t, func() bool { keys, _, _ := sink.seen("/bad"); return len(keys) == 1 }, 20*time.Second, 5*time.Millisecond)
		time.Sleep(300 * time.Millisecond) // the failure's commit is tried and refused meanwhile
		unblock()

		clock.Advance(3 * lease) // the run's lease lapses; it is taken over
		run := enginetest.WaitRun(t, eng.Engine, runID)
		require.Equal(t, engine.RunFailed, run.Status)
		waitRuns(t, eng.Engine, alerts.ID, 1)
		time.Sleep(200 * time.Millisecond)
		require.Equal(t, 1, countRuns(t, eng.Engine, alerts.ID), "one alert for one failed run")
	})
}

// TestWatchdogAlertIsNeverLost: the same for a run the watchdog fails past its
// max_duration.
func TestWatchdogAlertIsNeverLost(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		clock := enginetest.NewClock(enginetest.ClockStart())
		eng := enginetest.New(t, d, enginetest.Options{Configure: func(c *engine.Config) {
			c.Now, c.PollInterval, c.SweepInterval = clock.Now, 10*time.Millisecond, 10*time.Millisecond
		}})
		alerts := createWorkflow(t, eng.Engine, `{"name":"alerts","trigger":{"type":"manual"},"steps":[
		  {"id":"note","uses":"core.set","with":{"error":"{{ trigger.error }}"}}]}`)
		wf := createWorkflow(t, eng.Engine, `{"name":"bounded","max_duration":"1h","on_failure":%q,"trigger":{"type":"webhook"},"steps":[
		  {"id":"pause","uses":"core.delay","with":{"for":"3h"}}]}`, alerts.ID)
		runID := ingest(t, eng.Engine, wf, `{}`).RunID
		enginetest.WaitStatus(t, eng.Engine, runID, engine.RunWaiting)

		unblock := blockRuns(t, d, eng.DatabaseURL, alerts.ID)
		clock.Advance(time.Hour + time.Minute)
		time.Sleep(300 * time.Millisecond) // thirty sweeps find the run overdue and are refused
		unblock()

		run := enginetest.WaitRun(t, eng.Engine, runID)
		require.Equal(t, engine.RunFailed, run.Status)
		require.Contains(t, run.Error, "maximum duration")
		waitRuns(t, eng.Engine, alerts.ID, 1)
		time.Sleep(200 * time.Millisecond)
		require.Equal(t, 1, countRuns(t, eng.Engine, alerts.ID), "one alert for one failed run")
		page, err := eng.ListRuns(context.Background(), engine.RunFilter{WorkflowID: alerts.ID})
		require.NoError(t, err)
		alert := enginetest.WaitRun(t, eng.Engine, page.Items[0].ID)
		require.Equal(t, engine.RunSucceeded, alert.Status, alert.Error)
	})
}
