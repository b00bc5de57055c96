package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Run statuses.
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunWaiting   = "waiting"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunFiltered  = "filtered"
	RunCancelled = "cancelled"
)

// Step statuses.
const (
	StepSucceeded = "succeeded"
	StepFailed    = "failed"
	StepSkipped   = "skipped"
)

// ErrLeaseLost is returned when a worker writes to a run whose lease it no longer holds:
// another claim has taken the run over, and this worker must stop.
var ErrLeaseLost = errors.New("lease lost")

// Lease names one claim of a run: the process holding it and the attempt the claim
// counted. Every write a worker makes to its run is fenced by both, so only the latest
// claim can write: a worker whose claim was superseded, by another process or by its own
// after a stall, writes nothing.
type Lease struct {
	RunID   string
	Owner   string
	Attempt int
}

// LeaseOf returns the lease a claimed run was handed out with.
func LeaseOf(r *Run) Lease {
	l := Lease{RunID: r.ID, Attempt: r.Attempt}
	if r.LeaseOwner != nil {
		l.Owner = *r.LeaseOwner
	}
	return l
}

// Step statuses beyond the final ones: a step waits for its retry or its delay; a step
// its run was cancelled in while it waited is cancelled.
const (
	StepWaiting   = "waiting"
	StepCancelled = "cancelled"
)

// ErrDuplicate is returned when an event's dedupe key was already stored for its workflow.
var ErrDuplicate = errors.New("duplicate delivery")

// notifyChannel is the PostgreSQL channel on which new due runs are announced (an empty
// payload) and running runs are asked to stop (cancelPrefix and the run's id).
const notifyChannel = "hookflow_runs"

// cancelPrefix starts the payload of a notification that a running run is to stop. A
// process that predates it takes it for a wake-up, which costs one empty claim.
const cancelPrefix = "cancel:"

// notifyCancel tells every process listening that the running runs named are to stop:
// the one holding a run that is still waiting for a worker then stops it before its
// first step. The notifications are delivered on commit.
func (s *Store) notifyCancel(tx *gorm.DB, runIDs []string) error {
	if s.dialect != Postgres {
		return nil
	}
	for _, id := range runIDs {
		if err := tx.Exec("SELECT pg_notify(?, ?)", notifyChannel, cancelPrefix+id).Error; err != nil {
			return err
		}
	}
	return nil
}

// notify announces a due run to every process listening on PostgreSQL; the
// notification is delivered when tx commits. SQLite processes rely on the in-process
// wake-up and polling.
func (s *Store) notify(tx *gorm.DB) error {
	if s.dialect != Postgres {
		return nil
	}
	return tx.Exec("SELECT pg_notify(?, '')", notifyChannel).Error
}

// OriginalDelivery returns the event stored first with a dedupe key, and the id of the
// run it started ("" when none).
func (s *Store) OriginalDelivery(ctx context.Context, workflowID, key string) (*Event, string, error) {
	var ev Event
	if err := s.db.WithContext(ctx).Where("workflow_id = ? AND dedupe_key = ?", workflowID, key).Take(&ev).Error; err != nil {
		return nil, "", fmt.Errorf("find delivery %q of workflow %s: %w", key, workflowID, notFound(err))
	}
	var run Run
	err := s.db.WithContext(ctx).Select("id").Where("event_id = ? AND replay_of IS NULL", ev.ID).Order("id").Limit(1).Take(&run).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, "", fmt.Errorf("find run of event %s: %w", ev.ID, err)
	}
	return &ev, run.ID, nil
}

// GetEvent returns an event by id.
func (s *Store) GetEvent(ctx context.Context, id string) (*Event, error) {
	var ev Event
	if err := s.rdb.WithContext(ctx).Where("id = ?", id).Take(&ev).Error; err != nil {
		return nil, fmt.Errorf("get event %s: %w", id, notFound(err))
	}
	return &ev, nil
}

// ClaimRuns leases up to limit due runs to owner until leaseUntil: queued or waiting runs
// whose run_at has come, then running runs whose lease expired (their worker died). Each
// claim increments the run's attempt counter, which fences the writes of earlier claims.
// held names the runs owner is still executing: their leases may have lapsed (a stalled
// heartbeat) but their workers are alive, so owner never takes them over from itself.
//
// A workflow's concurrency cap holds: with a cap of 1 a run waits until every earlier run
// of its workflow has ended and none is running, so runs go one at a time in arrival
// order; with a larger cap, the runs holding a live lease are counted. Runs of capped
// workflows are claimed one per statement, so that a batch never overshoots a cap.
func (s *Store) ClaimRuns(ctx context.Context, owner string, now, leaseUntil time.Time, limit int, held []string) ([]Run, error) {
	const ready = "r.status IN ('queued', 'waiting') AND r.run_at <= ?"
	runs, err := s.claim(ctx, owner, now, leaseUntil, limit, ready+" AND w.concurrency = 0", "r.run_at, r.id", nil)
	if err != nil || len(runs) == limit {
		return runs, err
	}
	if s.anyCapped(ctx) {
		capped, err := s.claim(ctx, owner, now, leaseUntil, 1, ready+" AND w.concurrency > 0 AND "+underCap, "r.run_at, r.id", nil)
		runs = append(runs, capped...)
		if err != nil || len(runs) == limit {
			return runs, err
		}
	}
	// Takeovers come last, when the batch has room, and at most once a second while they
	// find nothing: they are rare, and a claim is a transaction.
	if !s.takeoverDue(now) {
		return runs, nil
	}
	expired := "r.status = 'running' AND r.lease_until < ?"
	var extra []any
	if len(held) > 0 {
		expired += " AND NOT (r.lease_owner = ? AND r.id IN (?" + strings.Repeat(",?", len(held)-1) + "))"
		extra = append(extra, owner)
		for _, id := range held {
			extra = append(extra, id)
		}
	}
	taken, err := s.claim(ctx, owner, now, leaseUntil, limit-len(runs), expired, "r.lease_until", extra)
	if len(taken) > 0 {
		s.takeovers.Store(0) // found some: look again at the next claim
	}
	return append(runs, taken...), err
}

// takeoverCheckEvery spaces out the searches for expired leases.
const takeoverCheckEvery = time.Second

// takeoverDue reports whether it is time to look for expired leases.
func (s *Store) takeoverDue(now time.Time) bool {
	next := s.takeovers.Load()
	if now.UnixNano() < next {
		return false
	}
	return s.takeovers.CompareAndSwap(next, now.Add(takeoverCheckEvery).UnixNano())
}

// anyCapped reports whether some workflow has a concurrency cap, from a cache refreshed
// every second: without one, claims skip the capped statement.
func (s *Store) anyCapped(ctx context.Context) bool {
	v, _ := s.capped.get(func() (bool, error) {
		var n int64
		err := s.rdb.WithContext(ctx).Model(&Workflow{}).Where("concurrency > 0").Limit(1).Count(&n).Error
		return err != nil || n > 0, nil // on error, check the capped runs anyway
	})
	return v
}

// underCap is the claim condition for runs of capped workflows; its ? is the current
// time (live leases).
const underCap = `(
	(w.concurrency = 1
		AND NOT EXISTS (SELECT 1 FROM runs e WHERE e.workflow_id = r.workflow_id
			AND e.status IN ('queued', 'waiting', 'running') AND e.status IN ('queued', 'waiting') AND e.id < r.id)
		AND NOT EXISTS (SELECT 1 FROM runs e WHERE e.workflow_id = r.workflow_id
			AND e.status IN ('queued', 'waiting', 'running') AND e.status = 'running'))
	OR (w.concurrency > 1 AND (SELECT COUNT(*) FROM runs b WHERE b.workflow_id = r.workflow_id
			AND b.status IN ('queued', 'waiting', 'running') AND b.status = 'running' AND b.lease_until >= ?) < w.concurrency))`

// claim leases the runs matching due. Each ? in due is the current time, except the
// last len(extra), which take extra's values.
func (s *Store) claim(ctx context.Context, owner string, now, leaseUntil time.Time, limit int, due, order string, extra []any) ([]Run, error) {
	lock := ""
	if s.dialect == Postgres {
		// SKIP LOCKED: concurrent claimers on other processes take other rows instead of
		// queueing behind this one.
		lock = " FOR UPDATE OF r SKIP LOCKED"
	}
	// The limit is a literal: SQLite plans with the value of a bound LIMIT, so binding it
	// expires the kept statement and every run would compile it again.
	// The status literals match the partial indexes of migrations/*/00002 (runs_ready,
	// runs_expiring, runs_open), so the planner walks them in order and stops early.
	q := `UPDATE runs SET status = 'running', attempt = attempt + 1, lease_owner = ?, lease_until = ?,
		started_at = COALESCE(started_at, ?), updated_at = ?
		WHERE id IN (SELECT r.id FROM runs r JOIN workflows w ON w.id = r.workflow_id
			WHERE w.deleted_at IS NULL AND ` + due + `
			ORDER BY ` + order + ` LIMIT ` + strconv.Itoa(limit) + lock + `)
		RETURNING ` + runColumns
	args := []any{owner, leaseUntil, now, now}
	for range strings.Count(due, "?") - len(extra) {
		args = append(args, now)
	}
	args = append(args, extra...)
	// database/sql with a hand-written scan: this runs for every batch of runs, and gorm's
	// reflection cost more than the query.
	rows, err := s.closer[0].QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("claim runs for %s: %w", owner, err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		var r Run
		if err := rows.Scan(&r.ID, &r.WorkflowID, &r.Version, &r.EventID, &r.Status, &r.RunAt, &r.Attempt, &r.LeaseOwner,
			&r.LeaseUntil, &r.StepIndex, &r.Error, &r.CreatedAt, &r.StartedAt, &r.FinishedAt, &r.UpdatedAt,
			&r.CancelRequested, &r.ReplayOf, &r.DeadlineAt); err != nil {
			return nil, fmt.Errorf("claim runs for %s: %w", owner, err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim runs for %s: %w", owner, err)
	}
	return runs, nil
}

// runColumns lists the runs table's columns in the order claim scans them.
const runColumns = `id, workflow_id, version, event_id, status, run_at, attempt, lease_owner, lease_until, step_index, error,
	created_at, started_at, finished_at, updated_at, cancel_requested, replay_of, deadline_at`

// EventsByID loads the events of a batch of claimed runs in one query, keyed by id.
func (s *Store) EventsByID(ctx context.Context, ids []string) (map[string]*Event, error) {
	out := make(map[string]*Event, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q := `SELECT id, workflow_id, received_at, method, headers, query, content_type, body, dedupe_key, verdict, reason, body_size
		FROM events WHERE id IN (?` + strings.Repeat(",?", len(ids)-1) + `)`
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.closer[len(s.closer)-1].QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("load events of claimed runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.ID, &e.WorkflowID, &e.ReceivedAt, &e.Method, &e.Headers, &e.Query, &e.ContentType,
			&e.Body, &e.DedupeKey, &e.Verdict, &e.Reason, &e.BodySize); err != nil {
			return nil, fmt.Errorf("load events of claimed runs: %w", err)
		}
		out[e.ID] = &e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load events of claimed runs: %w", err)
	}
	return out, nil
}

// NotifyRuns announces to other processes that runs may have become claimable, such as
// the next run of a capped workflow when one ends. A no-op on SQLite.
func (s *Store) NotifyRuns(ctx context.Context) error {
	if err := s.notify(s.db.WithContext(ctx)); err != nil {
		return fmt.Errorf("notify runs: %w", err)
	}
	return nil
}

// RenewLeases extends the given leases of one owner, in one statement per attempt
// number and 500 runs: a process heartbeats once for all the claims it is executing. Only
// the claims named are renewed, so a run the process gave up on expires and is taken
// over, and a claim superseded by a later one stays superseded. It returns how many
// leases it renewed, and those of their runs that were asked to stop: a process holding
// a run in its backlog learns of a cancel made through another process at its next
// heartbeat at the latest.
func (s *Store) RenewLeases(ctx context.Context, owner string, leases []Lease, until, now time.Time) (renewed int64, cancel []string, err error) {
	byAttempt := map[int][]string{}
	for _, l := range leases {
		byAttempt[l.Attempt] = append(byAttempt[l.Attempt], l.RunID)
	}
	for attempt, ids := range byAttempt {
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), 500)]
			ids = ids[len(chunk):]
			var held []struct {
				ID              string
				CancelRequested bool
			}
			err := s.db.WithContext(ctx).Raw(`UPDATE runs SET lease_until = ?, updated_at = ?
				WHERE lease_owner = ? AND status = ? AND attempt = ? AND id IN ? RETURNING id, cancel_requested`,
				until, now, owner, RunRunning, attempt, chunk).Scan(&held).Error
			if err != nil {
				return renewed, cancel, fmt.Errorf("renew leases of %s: %w", owner, err)
			}
			renewed += int64(len(held))
			for _, h := range held {
				if h.CancelRequested {
					cancel = append(cancel, h.ID)
				}
			}
		}
	}
	return renewed, cancel, nil
}

// NextRunAt returns when the earliest queued or waiting run is due, or false when there
// is none. Workers sleep until then instead of polling.
func (s *Store) NextRunAt(ctx context.Context) (time.Time, bool, error) {
	var r Run
	err := s.rdb.WithContext(ctx).Select("run_at").Where("status IN ('queued', 'waiting')").
		Order("run_at").Limit(1).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("find next due run: %w", err)
	}
	return r.RunAt, true, nil
}

// upsertStep writes a step record, replacing the one of an earlier attempt.
func upsertStep(tx *gorm.DB, st *StepRun) error {
	return tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "run_id"}, {Name: "step_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"status", "attempts", "input", "output", "error", "finished_at", "duration_ms", "attempt_errors"}),
	}).Create(st).Error
}

// SaveStep records a step's result and moves the run to nextIndex, in one transaction,
// provided the lease is still the run's latest claim. A finished step is thus never lost,
// and a worker that lost its lease cannot overwrite the new holder's progress. It reports
// whether a cancel was requested meanwhile. Checkpoints of runs saved together share one
// transaction (group commit), as outcomes do; each caller returns once its own is
// committed.
func (s *Store) SaveStep(ctx context.Context, l Lease, st *StepRun, nextIndex int, now, leaseUntil time.Time) (cancel bool, err error) {
	it := &checkpointItem{lease: l, step: st, next: nextIndex, now: now, leaseUntil: leaseUntil}
	if err := s.checkpoints.do(ctx, it); err != nil {
		return false, fmt.Errorf("save step %s of run %s: %w", st.StepID, st.RunID, err)
	}
	return it.cancel, nil
}

// checkpointItem is one step's checkpoint; cancel is the run's cancel_requested, set by
// the commit.
type checkpointItem struct {
	lease           Lease
	step            *StepRun
	next            int
	now, leaseUntil time.Time
	cancel          bool
}

func (s *Store) writeCheckpoints(items []*checkpointItem) ([]error, error) {
	if s.dialect == Postgres {
		return s.writeCheckpointsPG(items)
	}
	return inTx(s.closer[0], func(ctx context.Context, tx *sql.Tx) ([]error, error) { return s.writeCheckpointsTx(ctx, tx, items) })
}

// writeCheckpointsTx writes a batch of checkpoints in tx.
func (s *Store) writeCheckpointsTx(ctx context.Context, tx *sql.Tx, items []*checkpointItem) ([]error, error) {
	// One fenced UPDATE per run, in run id order (the order every process locks rows in,
	// as outcomes do), then the step records of those still held, several per statement.
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(items[a].lease.RunID, items[b].lease.RunID) })
	errs := make([]error, len(items))
	steps := make([]*StepRun, 0, len(items))
	q := s.rebind(`UPDATE runs SET step_index = ?, updated_at = ?, lease_until = ?
		WHERE id = ? AND lease_owner = ? AND attempt = ? AND status = 'running' RETURNING cancel_requested`)
	for _, i := range order {
		it := items[i]
		var cancel bool
		err := tx.QueryRowContext(ctx, q, it.next, it.now, it.leaseUntil, it.lease.RunID, it.lease.Owner, it.lease.Attempt).Scan(&cancel)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			errs[i] = ErrLeaseLost // this run only; the batch goes on
			continue
		case err != nil:
			return nil, err
		}
		it.cancel = cancel
		steps = append(steps, it.step)
	}
	if err := s.upsertSteps(ctx, tx, steps); err != nil {
		return nil, err
	}
	return errs, nil
}

// SuspendRun records a step that waits (a retry's backoff or a delay) and puts the run
// to sleep until runAt, giving up the lease: no worker holds a waiting run.
func (s *Store) SuspendRun(ctx context.Context, l Lease, st *StepRun, runAt, now time.Time) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Run{}).Where("id = ? AND lease_owner = ? AND attempt = ? AND status = ?", l.RunID, l.Owner, l.Attempt, RunRunning).
			Updates(map[string]any{"status": RunWaiting, "run_at": runAt, "updated_at": now, "lease_owner": nil, "lease_until": nil})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrLeaseLost
		}
		return upsertStep(tx, st)
	})
	if err != nil {
		return fmt.Errorf("suspend run %s at step %s: %w", st.RunID, st.StepID, err)
	}
	return nil
}

// ReleaseRun gives a run back to the queue, due now, keeping its progress: a worker
// shutting down hands it to another instead of letting its lease run out.
func (s *Store) ReleaseRun(ctx context.Context, l Lease, now time.Time) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Run{}).Where("id = ? AND lease_owner = ? AND attempt = ? AND status = ?", l.RunID, l.Owner, l.Attempt, RunRunning).
			Updates(map[string]any{"status": RunQueued, "run_at": now, "updated_at": now, "lease_owner": nil, "lease_until": nil})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrLeaseLost
		}
		return s.notify(tx)
	})
	if err != nil {
		return fmt.Errorf("release run %s: %w", l.RunID, err)
	}
	return nil
}

// Outcome is how a run ended.
type Outcome struct {
	Status string
	Error  string
	Now    time.Time
	// Last, when not nil, is the run's last step record.
	Last *StepRun
	// Alert, when not nil, is the run of the on_failure workflow this failure starts
	// (skipped if its event's dedupe key is taken).
	Alert *Started
}

// FinishRun records a run's outcome, provided the lease is still the run's latest claim.
// The last step record and the alert run are written in the same transaction, so a
// failure recorded has always started its alert. Runs ending together share one
// transaction (group commit), so a busy worker pays one fsync for many outcomes; each
// caller still returns only once its own outcome is committed.
func (s *Store) FinishRun(ctx context.Context, l Lease, out Outcome) error {
	err := s.finishes.do(ctx, finishItem{lease: l, Outcome: out})
	if err != nil {
		return fmt.Errorf("finish run %s as %s: %w", l.RunID, out.Status, err)
	}
	return nil
}

// finishItem is one run's outcome.
type finishItem struct {
	lease Lease
	Outcome
}

// groupKey is what the runs finished by one statement share.
type groupKey struct {
	owner, status, errText string
	attempt                int
}

// finishGroups groups outcomes by groupKey, the groups in a fixed order: runs ending
// the same way (most end succeeded with no error) are finished by one statement.
// Groups run in this order and each locks its rows in id order, the same in every
// process, so two processes finishing the same runs (one of them after a takeover)
// cannot deadlock.
func finishGroups(items []finishItem) ([]groupKey, map[groupKey][]int) {
	groups := map[groupKey][]int{}
	var keys []groupKey
	for i, it := range items {
		k := groupKey{it.lease.Owner, it.Status, it.Error, it.lease.Attempt}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		if c := strings.Compare(a.owner+"\x00"+a.status+"\x00"+a.errText, b.owner+"\x00"+b.status+"\x00"+b.errText); c != 0 {
			return c
		}
		return a.attempt - b.attempt
	})
	return keys, groups
}

func (s *Store) writeFinishes(items []finishItem) ([]error, error) {
	if s.dialect == Postgres && !slices.ContainsFunc(items, func(it finishItem) bool { return it.Alert != nil }) {
		return s.writeFinishesPG(items)
	}
	return inTx(s.closer[0], func(ctx context.Context, tx *sql.Tx) ([]error, error) { return s.writeFinishesTx(ctx, tx, items) })
}

// writeFinishesTx writes a batch of outcomes in tx.
func (s *Store) writeFinishesTx(ctx context.Context, tx *sql.Tx, items []finishItem) ([]error, error) {
	// RETURNING names the runs whose lease the caller still held.
	keys, groups := finishGroups(items)
	// finished is by item, not by run id: two claims of one run may end in the same batch,
	// and only the latest claim's outcome may be written.
	finished := make([]bool, len(items))
	for _, k := range keys {
		idx := groups[k]
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(items[a].lease.RunID, items[b].lease.RunID) })
		for from := 0; from < len(idx); from += sqliteChunkRows * 4 {
			part := idx[from:min(from+sqliteChunkRows*4, len(idx))]
			now := items[part[0]].Now
			args := []any{k.status, k.errText, now, now, k.owner, k.attempt}
			for _, i := range part {
				args = append(args, items[i].lease.RunID)
			}
			q := `UPDATE runs SET status = ?, error = ?, finished_at = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL
				WHERE lease_owner = ? AND attempt = ? AND status = 'running' AND id IN (?` + strings.Repeat(",?", len(part)-1) + `) RETURNING id`
			rows, err := tx.QueryContext(ctx, s.rebind(q), args...)
			ended := make(map[string]bool, len(part))
			if err := collectIDs(rows, err, ended); err != nil {
				return nil, err
			}
			for _, i := range part {
				finished[i] = ended[items[i].lease.RunID]
			}
		}
	}
	errs := make([]error, len(items))
	var steps []*StepRun
	for i, it := range items {
		if !finished[i] {
			errs[i] = ErrLeaseLost // this run only; the batch goes on
			continue
		}
		if it.Last != nil {
			steps = append(steps, it.Last)
		}
		if it.Alert != nil {
			if _, err := s.insertStarted(ctx, tx, *it.Alert); err != nil {
				return nil, fmt.Errorf("start failure alert of run %s: %w", it.lease.RunID, err)
			}
		}
	}
	if err := s.upsertSteps(ctx, tx, steps); err != nil {
		return nil, fmt.Errorf("save last steps: %w", err)
	}
	return errs, nil
}

// upsertSteps writes step records, several per statement, replacing those of earlier
// attempts.
func (s *Store) upsertSteps(ctx context.Context, tx *sql.Tx, steps []*StepRun) error {
	for from := 0; from < len(steps); from += sqliteChunkRows {
		part := steps[from:min(from+sqliteChunkRows, len(steps))]
		args := make([]any, 0, len(part)*13)
		for _, st := range part {
			args = append(args, st.ID, st.RunID, st.StepID, st.Position, st.Status, st.Attempts, st.Input, st.Output,
				st.Error, st.StartedAt, st.FinishedAt, st.DurationMS, st.AttemptErrors)
		}
		q := s.insertSQL("step_runs", "id, run_id, step_id, position, status, attempts, input, output, error, started_at, finished_at, duration_ms, attempt_errors", 13, len(part)) +
			` ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
			input = excluded.input, output = excluded.output, error = excluded.error, finished_at = excluded.finished_at,
			duration_ms = excluded.duration_ms, attempt_errors = excluded.attempt_errors`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// rebind turns ? placeholders into PostgreSQL's $n.
func (s *Store) rebind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CancelRun stops a run: a queued or waiting one at once (the step it waited in ends
// cancelled too), a running one at its next step boundary (its worker sees
// cancel_requested). It returns the run afterwards, and whether this call stopped it or
// asked it to stop; a run that had already ended is returned unchanged, with false.
func (s *Store) CancelRun(ctx context.Context, runID, reason string, now time.Time) (*Run, bool, error) {
	changed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Run{}).Where("id = ? AND status IN ?", runID, []string{RunQueued, RunWaiting}).
			Updates(map[string]any{"status": RunCancelled, "error": reason, "finished_at": now, "updated_at": now,
				"lease_owner": nil, "lease_until": nil})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected > 0 {
			changed = true
			return tx.Model(&StepRun{}).Where("run_id = ? AND status = ?", runID, StepWaiting).
				Updates(map[string]any{"status": StepCancelled, "error": reason, "finished_at": now}).Error
		}
		res = tx.Model(&Run{}).Where("id = ? AND status = ?", runID, RunRunning).
			Updates(map[string]any{"cancel_requested": true, "updated_at": now})
		changed = res.RowsAffected > 0
		if res.Error != nil || !changed {
			return res.Error
		}
		return s.notifyCancel(tx, []string{runID})
	})
	if err != nil {
		return nil, false, fmt.Errorf("cancel run %s: %w", runID, err)
	}
	r, err := s.getRunWriter(ctx, runID)
	return r, changed, err
}

// getRunWriter reads a run on the write connection, so it sees the write just made.
func (s *Store) getRunWriter(ctx context.Context, id string) (*Run, error) {
	var r Run
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, notFound(err))
	}
	return &r, nil
}

// CreateRun queues a run, with copies of the step records it starts from (a replay from
// the failed step keeps the earlier steps' outputs).
func (s *Store) CreateRun(ctx context.Context, run *Run, steps []StepRun) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(run).Error; err != nil {
			return err
		}
		for i := range steps {
			if err := tx.Create(&steps[i]).Error; err != nil {
				return err
			}
		}
		return s.notify(tx)
	})
	if err != nil {
		return fmt.Errorf("create run %s: %w", run.ID, err)
	}
	return nil
}

// overdue is the condition of a run the watchdog fails; its ? is the current time.
const overdue = "status IN ('queued', 'waiting') AND deadline_at IS NOT NULL AND deadline_at < ?"

// OverdueRuns returns up to limit queued and waiting runs past their deadline (id,
// workflow, version and event only), for the watchdog to fail with FailOverdue.
func (s *Store) OverdueRuns(ctx context.Context, now time.Time, limit int) ([]Run, error) {
	var out []Run
	if err := s.rdb.WithContext(ctx).Select("id, workflow_id, version, event_id").Where(overdue, now).
		Order("deadline_at").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("find overdue runs: %w", err)
	}
	return out, nil
}

// FailOverdue fails those of runs that are still queued or waiting past their deadline:
// the watchdog's sweep. Running runs are failed by their worker, or by the next one after
// a takeover. Each failure's alert (alerts, by run id) is started in the same
// transaction. It returns the runs it failed (id, workflow, version, event and creation
// time: what their trace spans need).
func (s *Store) FailOverdue(ctx context.Context, now time.Time, runs []Run, alerts map[string]*Started) ([]Run, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	var failed []Run
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Raw(`UPDATE runs SET status = ?, error = ?, finished_at = ?, updated_at = ?
			WHERE id IN ? AND `+overdue+` RETURNING id, workflow_id, version, event_id, created_at`,
			RunFailed, OverdueError, now, now, ids, now).Scan(&failed).Error; err != nil {
			return err
		}
		if len(failed) == 0 {
			return nil
		}
		done := make([]string, len(failed))
		for i, r := range failed {
			done[i] = r.ID
		}
		// The step a run waited in (a delay, a retry's backoff) ends with the run.
		if err := tx.Exec(`UPDATE step_runs SET status = ?, error = ?, finished_at = ? WHERE status = ? AND run_id IN ?`,
			StepFailed, OverdueError, now, StepWaiting, done).Error; err != nil {
			return err
		}
		for _, r := range failed {
			if a := alerts[r.ID]; a != nil {
				if _, err := s.insertStarted(ctx, tx.Statement.ConnPool, *a); err != nil {
					return fmt.Errorf("start failure alert of run %s: %w", r.ID, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fail overdue runs: %w", err)
	}
	return failed, nil
}

// OverdueError is the error of a run the watchdog failed.
const OverdueError = "run exceeded its maximum duration"

// GetStepRun returns the record of one step of a run.
func (s *Store) GetStepRun(ctx context.Context, runID, stepID string) (*StepRun, error) {
	var st StepRun
	if err := s.db.WithContext(ctx).Where("run_id = ? AND step_id = ?", runID, stepID).Take(&st).Error; err != nil {
		return nil, fmt.Errorf("get step %s of run %s: %w", stepID, runID, notFound(err))
	}
	return &st, nil
}

// RunFilter selects runs to list.
type RunFilter struct {
	WorkflowID string
	Status     string
	// CreatedFrom (included) and CreatedTo (excluded) bound created_at when not zero.
	CreatedFrom, CreatedTo time.Time
	// Before lists runs with ids below it (the previous page's last id).
	Before string
	Limit  int
}

// ListRuns returns runs matching f, newest first.
func (s *Store) ListRuns(ctx context.Context, f RunFilter) ([]Run, error) {
	q := s.rdb.WithContext(ctx).Order("id DESC").Limit(f.Limit)
	if f.WorkflowID != "" {
		q = q.Where("workflow_id = ?", f.WorkflowID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	// The listing wants the newest matches in id order, which runs_workflow (or the primary
	// key) gives by scanning backwards until the page is full. Offered runs_workflow_created,
	// SQLite's planner reads every run of the time window and sorts them (18 ms against 3 ms
	// at 10,000 runs in BenchmarkRunsPage); a unary + keeps created_at off the index.
	created := "created_at"
	if s.Dialect() == SQLite {
		created = "+created_at"
	}
	if !f.CreatedFrom.IsZero() {
		q = q.Where(created+" >= ?", f.CreatedFrom.UTC())
	}
	if !f.CreatedTo.IsZero() {
		q = q.Where(created+" < ?", f.CreatedTo.UTC())
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	var out []Run
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}

// GetRun returns a run by id.
func (s *Store) GetRun(ctx context.Context, id string) (*Run, error) {
	var r Run
	if err := s.rdb.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, notFound(err))
	}
	return &r, nil
}

// ListStepRuns returns a run's step records in step order.
func (s *Store) ListStepRuns(ctx context.Context, runID string) ([]StepRun, error) {
	var out []StepRun
	if err := s.rdb.WithContext(ctx).Where("run_id = ?", runID).Order("position").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list steps of run %s: %w", runID, err)
	}
	return out, nil
}

// Counts totals the rows that record work: events by verdict, runs by status and step
// records.
type Counts struct {
	Events map[string]int64
	Runs   map[string]int64
	Steps  int64
}

// Count returns the totals of events, runs by status and steps. Runs are counted first:
// a run's final status is committed with its last step record (and a run with its
// event), so totals read in this order never show a run ended whose records are missing,
// which is what callers waiting for runs to settle rely on.
func (s *Store) Count(ctx context.Context) (*Counts, error) {
	c := &Counts{Events: map[string]int64{}, Runs: map[string]int64{}}
	db := s.rdb.WithContext(ctx)
	var rows []struct {
		Status string
		N      int64
	}
	if err := db.Model(&Run{}).Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	for _, r := range rows {
		c.Runs[r.Status] = r.N
	}
	var events []struct {
		Verdict string
		N       int64
	}
	if err := db.Model(&Event{}).Select("verdict, COUNT(*) AS n").Group("verdict").Scan(&events).Error; err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	for _, r := range events {
		c.Events[r.Verdict] = r.N
	}
	if err := db.Model(&StepRun{}).Count(&c.Steps).Error; err != nil {
		return nil, fmt.Errorf("count steps: %w", err)
	}
	return c, nil
}

// Event verdicts, as the inspector shows them.
const (
	VerdictAccepted    = "accepted"
	VerdictRejected    = "rejected"
	VerdictDuplicate   = "duplicate"
	VerdictRateLimited = "rate_limited"
	VerdictTooLarge    = "too_large"
	// VerdictCheck is a sender's check of a new webhook URL (Tilda's test=test): answered
	// 200, no run started.
	VerdictCheck = "check"
)

// RecordEvent stores an event that starts no run (a rejected, duplicate, rate-limited or
// too large request), for the inspector.
func (s *Store) RecordEvent(ctx context.Context, ev *Event) error {
	if err := s.db.WithContext(ctx).Create(ev).Error; err != nil {
		return fmt.Errorf("record %s event of workflow %s: %w", ev.Verdict, ev.WorkflowID, err)
	}
	return nil
}

// ListEvents returns up to limit events of a workflow with ids below before (all when
// empty), newest first.
func (s *Store) ListEvents(ctx context.Context, workflowID, before string, limit int) ([]Event, error) {
	q := s.rdb.WithContext(ctx).Where("workflow_id = ?", workflowID).Order("id DESC").Limit(limit)
	if before != "" {
		q = q.Where("id < ?", before)
	}
	var out []Event
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list events of workflow %s: %w", workflowID, err)
	}
	return out, nil
}

// FirstRuns maps each event id to the first run it started.
func (s *Store) FirstRuns(ctx context.Context, eventIDs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		EventID string
		ID      string
	}
	if err := s.rdb.WithContext(ctx).Model(&Run{}).Select("event_id, MIN(id) AS id").
		Where("event_id IN ? AND replay_of IS NULL", eventIDs).Group("event_id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("find runs of events: %w", err)
	}
	for _, r := range rows {
		out[r.EventID] = r.ID
	}
	return out, nil
}

// LatestAcceptedEvent returns a workflow's newest event that started a run.
func (s *Store) LatestAcceptedEvent(ctx context.Context, workflowID string) (*Event, error) {
	var ev Event
	err := s.rdb.WithContext(ctx).Where("workflow_id = ? AND verdict = ?", workflowID, VerdictAccepted).
		Order("id DESC").Limit(1).Take(&ev).Error
	if err != nil {
		return nil, fmt.Errorf("find latest event of workflow %s: %w", workflowID, notFound(err))
	}
	return &ev, nil
}

// PruneEvents deletes the events that started no run beyond each workflow's newest keep
// events. Events that started runs stay: their runs need them.
func (s *Store) PruneEvents(ctx context.Context, keep int) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM events WHERE verdict <> ? AND id IN (
		SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY workflow_id ORDER BY id DESC) AS rn FROM events) ranked
		WHERE rn > ?)`, VerdictAccepted, keep)
	if res.Error != nil {
		return 0, fmt.Errorf("prune events: %w", res.Error)
	}
	return res.RowsAffected, nil
}
