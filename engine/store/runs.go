package store

import (
	"context"
	"errors"
	"fmt"
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
// another worker has taken the run over, and this one must stop.
var ErrLeaseLost = errors.New("lease lost")

// CreateEventAndRun stores an event and, when run is not nil, its queued run in one
// transaction, so a webhook is acknowledged only once both are durable.
func (s *Store) CreateEventAndRun(ctx context.Context, ev *Event, run *Run) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(ev).Error; err != nil {
			return err
		}
		if run == nil {
			return nil
		}
		return tx.Create(run).Error
	})
	if err != nil {
		return fmt.Errorf("store event %s of workflow %s: %w", ev.ID, ev.WorkflowID, err)
	}
	return nil
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
// whose run_at has come, and running runs whose lease expired (their worker died). Each
// claim increments the run's attempt counter.
func (s *Store) ClaimRuns(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]Run, error) {
	lock := ""
	if s.dialect == Postgres {
		// SKIP LOCKED: concurrent claimers on other processes take other rows instead of
		// queueing behind this one.
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := `UPDATE runs SET status = ?, attempt = attempt + 1, lease_owner = ?, lease_until = ?,
		started_at = COALESCE(started_at, ?), updated_at = ?
		WHERE id IN (SELECT id FROM runs
			WHERE (status IN (?, ?) AND run_at <= ?) OR (status = ? AND lease_until < ?)
			ORDER BY run_at, id LIMIT ?` + lock + `)
		RETURNING *`
	var runs []Run
	err := s.db.WithContext(ctx).Raw(q, RunRunning, owner, leaseUntil, now, now,
		RunQueued, RunWaiting, now, RunRunning, now, limit).Scan(&runs).Error
	if err != nil {
		return nil, fmt.Errorf("claim runs for %s: %w", owner, err)
	}
	return runs, nil
}

// NextRunAt returns when the earliest queued or waiting run is due, or false when there
// is none. Workers sleep until then instead of polling.
func (s *Store) NextRunAt(ctx context.Context) (time.Time, bool, error) {
	var r Run
	err := s.rdb.WithContext(ctx).Select("run_at").Where("status IN ?", []string{RunQueued, RunWaiting}).
		Order("run_at").Limit(1).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("find next due run: %w", err)
	}
	return r.RunAt, true, nil
}

// SaveStep records a step's result and moves the run to nextIndex, in one transaction,
// provided owner still holds the run's lease. A finished step is thus never lost, and a
// worker that lost its lease cannot overwrite the new holder's progress.
func (s *Store) SaveStep(ctx context.Context, owner string, st *StepRun, nextIndex int, now, leaseUntil time.Time) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Run{}).Where("id = ? AND lease_owner = ? AND status = ?", st.RunID, owner, RunRunning).
			Updates(map[string]any{"step_index": nextIndex, "updated_at": now, "lease_until": leaseUntil})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrLeaseLost
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "run_id"}, {Name: "step_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"status", "attempts", "input", "output", "error", "finished_at", "duration_ms"}),
		}).Create(st).Error
	})
	if err != nil {
		return fmt.Errorf("save step %s of run %s: %w", st.StepID, st.RunID, err)
	}
	return nil
}

// FinishRun ends a run with a final status, provided owner still holds its lease.
func (s *Store) FinishRun(ctx context.Context, owner, runID, status, errText string, now time.Time) error {
	res := s.db.WithContext(ctx).Model(&Run{}).Where("id = ? AND lease_owner = ? AND status = ?", runID, owner, RunRunning).
		Updates(map[string]any{
			"status":      status,
			"error":       errText,
			"finished_at": now,
			"updated_at":  now,
			"lease_owner": nil,
			"lease_until": nil,
		})
	if res.Error != nil {
		return fmt.Errorf("finish run %s as %s: %w", runID, status, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("finish run %s as %s: %w", runID, status, ErrLeaseLost)
	}
	return nil
}

// RunFilter selects runs to list.
type RunFilter struct {
	WorkflowID string
	Status     string
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

// Counts totals the rows that record work: events, runs by status and step records.
type Counts struct {
	Events int64
	Runs   map[string]int64
	Steps  int64
}

// Count returns the totals of events, runs by status and steps.
func (s *Store) Count(ctx context.Context) (*Counts, error) {
	c := &Counts{Runs: map[string]int64{}}
	db := s.rdb.WithContext(ctx)
	if err := db.Model(&Event{}).Count(&c.Events).Error; err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	if err := db.Model(&StepRun{}).Count(&c.Steps).Error; err != nil {
		return nil, fmt.Errorf("count steps: %w", err)
	}
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
	return c, nil
}
