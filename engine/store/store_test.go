package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm/schema"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// t0 is where the store tests' times start: the wall clock (shifted when
// HOOKFLOW_TEST_CLOCK_SHIFT is set), never a fixed date.
var t0 = storetest.ClockStart().Truncate(time.Second)

func seedWorkflow(t *testing.T, s *store.Store) *store.Workflow {
	t.Helper()
	w := &store.Workflow{ID: newID(), Name: "wf", Enabled: true, Version: 1, TriggerType: "webhook",
		HookToken: newID(), CreatedAt: t0, UpdatedAt: t0}
	require.NoError(t, s.CreateWorkflow(context.Background(), w,
		&store.WorkflowVersion{WorkflowID: w.ID, Version: 1, Definition: `{"name":"wf"}`, CreatedAt: t0}))
	return w
}

func queueRun(t *testing.T, s *store.Store, w *store.Workflow, runAt time.Time) *store.Run {
	t.Helper()
	evID := newID()
	ev := &store.Event{ID: evID, WorkflowID: w.ID, ReceivedAt: runAt, Method: "POST", Headers: "{}",
		Body: []byte(`{"a":1}`), Verdict: "accepted"}
	r := &store.Run{ID: newID(), WorkflowID: w.ID, Version: w.Version, EventID: &evID, Status: store.RunQueued,
		RunAt: runAt, CreatedAt: runAt, UpdatedAt: runAt}
	require.NoError(t, s.IngestEvent(context.Background(), ev, r))
	return r
}

func TestUsersAndTokens(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		n, err := s.CountUsers(ctx)
		require.NoError(t, err)
		require.Zero(t, n)

		u := &store.User{ID: newID(), Email: "a@example.com", PasswordHash: "h", Role: "admin", CreatedAt: t0}
		require.NoError(t, s.CreateUser(ctx, u))
		err = s.CreateUser(ctx, &store.User{ID: newID(), Email: "a@example.com", PasswordHash: "h", Role: "admin", CreatedAt: t0})
		require.ErrorIs(t, err, store.ErrConflict)

		tok := &store.APIToken{ID: newID(), UserID: u.ID, Name: "ci", TokenHash: "abc", CreatedAt: t0}
		require.NoError(t, s.CreateAPIToken(ctx, tok))
		got, gotTok, err := s.UserByTokenHash(ctx, "abc")
		require.NoError(t, err)
		require.Equal(t, u.Email, got.Email)
		require.Equal(t, "ci", gotTok.Name)
		require.NoError(t, s.TouchAPIToken(ctx, tok.ID, t0.Add(time.Minute)))

		_, _, err = s.UserByTokenHash(ctx, "nope")
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestWorkflowVersions(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)

		w.Name, w.Enabled, w.UpdatedAt = "renamed", false, t0.Add(time.Hour)
		require.NoError(t, s.SaveWorkflowVersion(ctx, w, &store.WorkflowVersion{WorkflowID: w.ID, Version: 2, Definition: `{"name":"renamed"}`, CreatedAt: t0.Add(time.Hour)}))
		require.Equal(t, 2, w.Version)

		// A save based on a stale version loses instead of overwriting.
		stale := *w
		err := s.SaveWorkflowVersion(ctx, &stale, &store.WorkflowVersion{WorkflowID: w.ID, Version: 2, Definition: `{}`, CreatedAt: t0})
		require.ErrorIs(t, err, store.ErrConflict)

		got, err := s.GetWorkflow(ctx, w.ID)
		require.NoError(t, err)
		require.Equal(t, "renamed", got.Name)
		require.False(t, got.Enabled)
		require.Equal(t, 2, got.Version)

		versions, err := s.ListWorkflowVersions(ctx, w.ID)
		require.NoError(t, err)
		require.Len(t, versions, 2)
		require.Equal(t, 2, versions[0].Version)
		v1, err := s.GetWorkflowVersion(ctx, w.ID, 1)
		require.NoError(t, err)
		require.JSONEq(t, `{"name":"wf"}`, v1.Definition, "old versions stay as they were")

		defs, err := s.CurrentDefinitions(ctx)
		require.NoError(t, err)
		require.JSONEq(t, `{"name":"renamed"}`, defs[w.ID])

		byToken, err := s.WorkflowByHookToken(ctx, w.HookToken)
		require.NoError(t, err)
		require.Equal(t, w.ID, byToken.ID)
		require.NoError(t, s.SetHookToken(ctx, w.ID, "new-token"))
		_, err = s.WorkflowByHookToken(ctx, w.HookToken)
		require.ErrorIs(t, err, store.ErrNotFound)

		queueRun(t, s, w, t0)
		require.NoError(t, deleted(s.DeleteWorkflow(ctx, w.ID, t0)))
		_, err = s.GetWorkflow(ctx, w.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.WorkflowByHookToken(ctx, "new-token")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, deleted(s.DeleteWorkflow(ctx, w.ID, t0)), store.ErrNotFound)
		// Its history goes with the pruner (retention_test.go), then the row.
		pruneDeleted(t, s, w.ID)
		runs, err := s.ListRuns(ctx, store.RunFilter{WorkflowID: w.ID, Limit: 10})
		require.NoError(t, err)
		require.Empty(t, runs)
	})
}

func TestListWorkflowsPaging(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		var ids []string
		for range 5 {
			ids = append(ids, seedWorkflow(t, s).ID)
		}
		page1, err := s.ListWorkflows(ctx, "", 3)
		require.NoError(t, err)
		require.Len(t, page1, 3)
		require.Equal(t, ids[4], page1[0].ID, "newest first")
		page2, err := s.ListWorkflows(ctx, page1[2].ID, 3)
		require.NoError(t, err)
		require.Len(t, page2, 2)
		require.Equal(t, ids[0], page2[1].ID)
	})
}

func TestConnections(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		c := &store.Connection{ID: newID(), Name: "sink", Connector: "http", Config: `{"base_url":"x"}`, Secrets: `{}`, CreatedAt: t0, UpdatedAt: t0}
		require.NoError(t, s.CreateConnection(ctx, c))
		dup := *c
		dup.ID = newID()
		require.ErrorIs(t, s.CreateConnection(ctx, &dup), store.ErrConflict)

		c.Config = `{"base_url":"y"}`
		require.NoError(t, s.UpdateConnection(ctx, c))
		got, err := s.ConnectionByName(ctx, "sink")
		require.NoError(t, err)
		require.JSONEq(t, `{"base_url":"y"}`, got.Config)

		all, err := s.ListConnections(ctx)
		require.NoError(t, err)
		require.Len(t, all, 1)

		require.NoError(t, s.DeleteConnection(ctx, "sink"))
		require.ErrorIs(t, s.DeleteConnection(ctx, "sink"), store.ErrNotFound)
		_, err = s.ConnectionByName(ctx, "sink")
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

// TestSameOwnerClaimsTwice: one process claims a run, stalls past its lease and claims
// it again. Every write of the first claim is refused, in every kind of checkpoint, and
// so is its heartbeat; the second claim writes. A run the process names as held (still
// executing) is not taken over from itself at all.
func TestSameOwnerClaimsTwice(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		run := queueRun(t, s, w, t0)
		first, err := s.ClaimRuns(ctx, "p1", t0, t0.Add(time.Minute), 1, nil)
		require.NoError(t, err)
		require.Len(t, first, 1)
		stale := store.LeaseOf(&first[0])

		held, err := s.ClaimRuns(ctx, "p1", t0.Add(2*time.Minute), t0.Add(3*time.Minute), 1, []string{run.ID})
		require.NoError(t, err)
		require.Empty(t, held, "a run its owner still executes is not taken over by that owner")

		second, err := s.ClaimRuns(ctx, "p1", t0.Add(4*time.Minute), t0.Add(5*time.Minute), 1, nil)
		require.NoError(t, err)
		require.Len(t, second, 1, "an expired run whose worker is gone is taken over, by its own process too")
		fresh := store.LeaseOf(&second[0])
		require.Equal(t, stale.Owner, fresh.Owner)
		require.Equal(t, stale.Attempt+1, fresh.Attempt)

		step := &store.StepRun{ID: newID(), RunID: run.ID, StepID: "a", Status: store.StepSucceeded, Attempts: 1, StartedAt: t0}
		_, err = s.SaveStep(ctx, stale, step, 1, t0, t0.Add(time.Hour))
		require.ErrorIs(t, err, store.ErrLeaseLost)
		require.ErrorIs(t, s.SuspendRun(ctx, stale, step, t0.Add(time.Hour), t0), store.ErrLeaseLost)
		require.ErrorIs(t, s.ReleaseRun(ctx, stale, t0), store.ErrLeaseLost)
		renewed, _, err := s.RenewLeases(ctx, "p1", []store.Lease{stale}, t0.Add(time.Hour), t0)
		require.NoError(t, err)
		require.Zero(t, renewed, "a superseded claim is not renewed")
		require.ErrorIs(t, s.FinishRun(ctx, stale, store.Outcome{Status: store.RunFailed, Error: "stale", Now: t0, Last: step}), store.ErrLeaseLost)
		steps, err := s.ListStepRuns(ctx, run.ID)
		require.NoError(t, err)
		require.Empty(t, steps, "the superseded claim wrote no step")

		_, asked, err := s.CancelRun(ctx, run.ID, "stop", t0)
		require.NoError(t, err)
		require.True(t, asked, "a running run is asked to stop")
		renewed, cancel, err := s.RenewLeases(ctx, "p1", []store.Lease{fresh}, t0.Add(time.Hour), t0)
		require.NoError(t, err)
		require.EqualValues(t, 1, renewed)
		require.Equal(t, []string{run.ID}, cancel, "the renewal tells the holder that its run is to stop")
		_, err = s.SaveStep(ctx, fresh, step, 1, t0, t0.Add(time.Hour))
		require.NoError(t, err)
		require.NoError(t, s.FinishRun(ctx, fresh, store.Outcome{Status: store.RunSucceeded, Now: t0}))
		got, err := s.GetRun(ctx, run.ID)
		require.NoError(t, err)
		require.Equal(t, store.RunSucceeded, got.Status)
		require.Equal(t, 1, got.StepIndex)
	})
}

func TestClaimAndFinish(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		due := queueRun(t, s, w, t0)
		later := queueRun(t, s, w, t0.Add(time.Hour))

		next, ok, err := s.NextRunAt(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, next.Equal(t0), "next due is %v", next)

		claimed, err := s.ClaimRuns(ctx, "w1", t0.Add(time.Second), t0.Add(time.Minute), 10, nil)
		require.NoError(t, err)
		require.Len(t, claimed, 1, "only the due run")
		require.Equal(t, due.ID, claimed[0].ID)
		require.Equal(t, store.RunRunning, claimed[0].Status)
		require.Equal(t, 1, claimed[0].Attempt)

		// Nothing else is due; the claimed run is leased.
		again, err := s.ClaimRuns(ctx, "w2", t0.Add(2*time.Second), t0.Add(time.Minute), 10, nil)
		require.NoError(t, err)
		require.Empty(t, again)

		step := &store.StepRun{ID: newID(), RunID: due.ID, StepID: "a", Position: 0, Status: store.StepSucceeded,
			Attempts: 1, StartedAt: t0, DurationMS: 5}
		out := `{"status":200}`
		step.Output = &out
		_, err = s.SaveStep(ctx, store.LeaseOf(&claimed[0]), step, 1, t0, t0.Add(time.Minute))
		require.NoError(t, err)
		// A worker without the lease cannot write.
		_, err = s.SaveStep(ctx, store.Lease{RunID: due.ID, Owner: "w2", Attempt: 1}, step, 1, t0, t0.Add(time.Minute))
		require.ErrorIs(t, err, store.ErrLeaseLost)

		// The lease expires: another worker takes the run over where it stopped.
		taken, err := s.ClaimRuns(ctx, "w2", t0.Add(2*time.Minute), t0.Add(3*time.Minute), 10, nil)
		require.NoError(t, err)
		require.Len(t, taken, 1)
		require.Equal(t, due.ID, taken[0].ID)
		require.Equal(t, 1, taken[0].StepIndex)
		require.Equal(t, 2, taken[0].Attempt)
		require.ErrorIs(t, s.FinishRun(ctx, store.LeaseOf(&claimed[0]), store.Outcome{Status: store.RunSucceeded, Now: t0}), store.ErrLeaseLost)
		require.NoError(t, s.FinishRun(ctx, store.LeaseOf(&taken[0]), store.Outcome{Status: store.RunSucceeded, Now: t0.Add(2 * time.Minute), Last: &store.StepRun{ID: newID(), RunID: due.ID, StepID: "b", Position: 1, Status: store.StepSucceeded, Attempts: 1, StartedAt: t0}}))

		got, err := s.GetRun(ctx, due.ID)
		require.NoError(t, err)
		require.Equal(t, store.RunSucceeded, got.Status)
		require.Nil(t, got.LeaseOwner)
		require.NotNil(t, got.FinishedAt)
		steps, err := s.ListStepRuns(ctx, due.ID)
		require.NoError(t, err)
		require.Len(t, steps, 2, "the last step is saved with the outcome")
		require.JSONEq(t, out, *steps[0].Output)
		require.Equal(t, "b", steps[1].StepID)

		runs, err := s.ListRuns(ctx, store.RunFilter{WorkflowID: w.ID, Status: store.RunQueued, Limit: 10})
		require.NoError(t, err)
		require.Len(t, runs, 1)
		require.Equal(t, later.ID, runs[0].ID)
	})
}

// TestConcurrentClaimsAreExclusive has several workers claim at once: every run is
// claimed exactly once.
func TestConcurrentClaimsAreExclusive(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		const runs = 60
		for range runs {
			queueRun(t, s, w, t0)
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				owner := fmt.Sprintf("w%d", i)
				for {
					got, err := s.ClaimRuns(ctx, owner, t0, t0.Add(time.Hour), 4, nil)
					if err != nil {
						t.Errorf("claim: %v", err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, r := range got {
						seen[r.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		require.Len(t, seen, runs)
		for id, n := range seen {
			require.Equal(t, 1, n, "run %s claimed %d times", id, n)
		}
	})
}

// TestModelsMatchSchema checks every gorm model field has a column in the migrated
// schema, so a migration and its model cannot drift apart unnoticed.
func TestModelsMatchSchema(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		for _, m := range []any{&store.User{}, &store.APIToken{}, &store.Workflow{}, &store.WorkflowVersion{},
			&store.Connection{}, &store.Event{}, &store.Run{}, &store.StepRun{}, &store.Setting{}, &store.TriggerState{}, &store.AuditEntry{}, &store.ConnectorFile{}} {
			sch, err := schema.Parse(m, &sync.Map{}, schema.NamingStrategy{})
			require.NoError(t, err)
			cols, err := s.ColumnNames(context.Background(), sch.Table)
			require.NoError(t, err)
			for _, f := range sch.Fields {
				if f.DBName == "" {
					continue
				}
				require.Contains(t, cols, f.DBName, "table %s lacks column for %T.%s", sch.Table, m, f.Name)
			}
			require.Len(t, cols, len(sch.DBNames), "table %s has columns %v, model %T maps %v", sch.Table, cols, m, sch.DBNames)
		}
	})
}

func TestMigrationStatus(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		cur, latest, err := s.MigrationStatus(context.Background())
		require.NoError(t, err)
		require.Equal(t, latest, cur)
		require.Positive(t, cur)
		require.NoError(t, s.Migrate(context.Background()), "migrating twice is a no-op")
	})
}

func TestEnsureSetting(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		got, err := s.EnsureSetting(ctx, "k", "first", t0)
		require.NoError(t, err)
		require.Equal(t, "first", got)
		got, err = s.EnsureSetting(ctx, "k", "second", t0)
		require.NoError(t, err)
		require.Equal(t, "first", got, "the first value stays")
	})
}

func cappedWorkflow(t *testing.T, s *store.Store, concurrency int) *store.Workflow {
	t.Helper()
	w := &store.Workflow{ID: newID(), Name: "capped", Enabled: true, Version: 1, TriggerType: "webhook",
		HookToken: newID(), Concurrency: concurrency, CreatedAt: t0, UpdatedAt: t0}
	require.NoError(t, s.CreateWorkflow(context.Background(), w,
		&store.WorkflowVersion{WorkflowID: w.ID, Version: 1, Definition: `{}`, CreatedAt: t0}))
	return w
}

// TestCapHoldsWithinABatch: one large claim never starts more runs of a capped workflow
// than its cap.
func TestCapHoldsWithinABatch(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := cappedWorkflow(t, s, 2)
		free := seedWorkflow(t, s)
		for range 10 {
			queueRun(t, s, w, t0)
		}
		for range 3 {
			queueRun(t, s, free, t0)
		}
		var capped, uncapped int
		for range 5 {
			got, err := s.ClaimRuns(ctx, "w", t0, t0.Add(time.Hour), 10, nil)
			require.NoError(t, err)
			for _, r := range got {
				if r.WorkflowID == w.ID {
					capped++
				} else {
					uncapped++
				}
			}
		}
		require.Equal(t, 2, capped, "a cap of 2 holds however many claims run")
		require.Equal(t, 3, uncapped)
	})
}

// TestCapOneWaitsForARunningRun: a run that becomes visible late (its transaction
// committed after a later run was claimed) still waits while another run of its
// workflow is running.
func TestCapOneWaitsForARunningRun(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := cappedWorkflow(t, s, 1)
		early := newID() // made first, committed last
		later := queueRun(t, s, w, t0)
		got, err := s.ClaimRuns(ctx, "w", t0, t0.Add(time.Hour), 10, nil)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, later.ID, got[0].ID)

		r := &store.Run{ID: early, WorkflowID: w.ID, Version: 1, Status: store.RunQueued, RunAt: t0, CreatedAt: t0, UpdatedAt: t0}
		require.NoError(t, s.CreateRun(ctx, r, nil))
		got, err = s.ClaimRuns(ctx, "w", t0, t0.Add(time.Hour), 10, nil)
		require.NoError(t, err)
		require.Empty(t, got, "one run of the workflow is already running")

		require.NoError(t, s.FinishRun(ctx, store.Lease{RunID: later.ID, Owner: "w", Attempt: 1}, store.Outcome{Status: store.RunSucceeded, Now: t0}))
		got, err = s.ClaimRuns(ctx, "w", t0, t0.Add(time.Hour), 10, nil)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, early, got[0].ID)
	})
}

// TestConcurrentMigrations: processes starting together on an empty database all
// migrate without error; the advisory lock serialises them.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t, store.Postgres)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := store.Open(ctx, store.Config{URL: url})
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			errs[i] = s.Migrate(ctx)
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

// TestPruneEvents keeps each workflow's newest events and every event that started a run.
func TestPruneEvents(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		accepted := queueRun(t, s, w, t0) // the oldest event, with a run
		for i := range 5 {
			require.NoError(t, s.RecordEvent(ctx, &store.Event{ID: newID(), WorkflowID: w.ID, ReceivedAt: t0.Add(time.Duration(i) * time.Second),
				Method: "POST", Headers: "{}", Verdict: store.VerdictRejected, Reason: "signature mismatch"}))
		}
		n, err := s.PruneEvents(ctx, 3)
		require.NoError(t, err)
		require.EqualValues(t, 2, n, "the two oldest refused events beyond the newest 3")
		left, err := s.ListEvents(ctx, w.ID, "", 100)
		require.NoError(t, err)
		require.Len(t, left, 4)
		require.Equal(t, *accepted.EventID, left[3].ID, "an event that started a run stays")
	})
}

// deleted drops the runs DeleteWorkflow asked to stop, for tests that check only its error.
func deleted(_ []string, err error) error { return err }
