package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// RetentionLease names the lease the pruner holds while it deletes: one process at a
// time prunes, across every process sharing the database.
const RetentionLease = "retention"

// ErrLeaseNotHeld means a batch was not written because the process no longer holds the
// lease it was done under: another process took it over after it lapsed.
var ErrLeaseNotHeld = errors.New("lease not held")

// Fence names the lease a write is made under and extends it: the write commits only
// while owner still holds the lease, and leaves it held until Until.
type Fence struct {
	Name, Owner string
	Now, Until  time.Time
}

// ClaimLease takes the named lease for owner until until, unless another owner holds it
// past now. It reports whether owner holds it. Holding it already renews it.
func (s *Store) ClaimLease(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Exec(`UPDATE leases SET lease_owner = ?, lease_until = ?
		WHERE name = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)`,
		owner, until.UTC(), name, owner, now.UTC())
	if res.Error != nil {
		return false, fmt.Errorf("claim lease %s for %s: %w", name, owner, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ReleaseLease gives up the named lease if owner holds it.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	if err := s.db.WithContext(ctx).Exec(`UPDATE leases SET lease_owner = NULL, lease_until = NULL
		WHERE name = ? AND lease_owner = ?`, name, owner).Error; err != nil {
		return fmt.Errorf("release lease %s of %s: %w", name, owner, err)
	}
	return nil
}

// renew extends the fence's lease inside tx, or fails with ErrLeaseNotHeld.
func renew(tx *gorm.DB, f Fence) error {
	res := tx.Exec(`UPDATE leases SET lease_until = ? WHERE name = ? AND lease_owner = ? AND lease_until >= ?`,
		f.Until.UTC(), f.Name, f.Owner, f.Now.UTC())
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%w: %s by %s", ErrLeaseNotHeld, f.Name, f.Owner)
	}
	return nil
}

// RetainedWorkflow is a workflow as the pruner sees it: its current version (which holds
// its retention settings) and whether it was deleted.
type RetainedWorkflow struct {
	ID      string
	Version int
	Deleted bool
}

// RetainedWorkflows lists every workflow, deleted ones included, oldest first.
func (s *Store) RetainedWorkflows(ctx context.Context) ([]RetainedWorkflow, error) {
	var rows []struct {
		ID        string
		Version   int
		DeletedAt *time.Time
	}
	if err := s.rdb.WithContext(ctx).Model(&Workflow{}).Select("id, version, deleted_at").Order("id").
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list workflows to prune: %w", err)
	}
	out := make([]RetainedWorkflow, len(rows))
	for i, r := range rows {
		out[i] = RetainedWorkflow{ID: r.ID, Version: r.Version, Deleted: r.DeletedAt != nil}
	}
	return out, nil
}

// Pruned counts the rows a prune deleted, by table.
type Pruned map[string]int64

// Total is the number of rows deleted from every table.
func (p Pruned) Total() int64 {
	var n int64
	for _, v := range p {
		n += v
	}
	return n
}

// Retention bounds a workflow's finished runs: those that ended before Before, and those
// beyond the newest Keep runs, are pruned. A zero Before or Keep sets no bound.
type Retention struct {
	Before time.Time
	Keep   int
}

// finished is the condition of a run that may be pruned: it has ended.
const finished = "status IN ('succeeded', 'failed', 'filtered', 'cancelled')"

// PruneRuns deletes up to batch of a workflow's finished runs that r no longer retains,
// oldest first, with their step records and the accepted events no run refers to any
// more, in one transaction fenced by f. It reports the rows deleted; fewer than batch
// runs means the workflow is within its bounds. Queued, running and waiting runs are
// never deleted.
func (s *Store) PruneRuns(ctx context.Context, f Fence, workflowID string, r Retention, batch int) (Pruned, error) {
	cond := "workflow_id = ? AND " + finished + " AND ("
	var args []any
	args = append(args, workflowID)
	var bounds []string
	if !r.Before.IsZero() {
		bounds = append(bounds, "finished_at < ?")
		args = append(args, r.Before.UTC())
	}
	if r.Keep > 0 {
		// The newest Keep runs, finished or not, are kept: the Keep-th newest id is the
		// lowest kept one. Fewer runs than that keep them all.
		var cut []string
		if err := s.rdb.WithContext(ctx).Raw(`SELECT id FROM runs WHERE workflow_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?`,
			workflowID, r.Keep-1).Scan(&cut).Error; err != nil {
			return nil, fmt.Errorf("find the runs of workflow %s to keep: %w", workflowID, err)
		}
		if len(cut) == 1 {
			bounds = append(bounds, "id < ?")
			args = append(args, cut[0])
		}
	}
	if len(bounds) == 0 {
		return Pruned{}, nil
	}
	for i, b := range bounds {
		if i > 0 {
			cond += " OR "
		}
		cond += b
	}
	cond += ")"
	return s.pruneRuns(ctx, f, workflowID, cond, args, batch)
}

// pruneRuns deletes the oldest batch runs matching cond (whose arguments are args) with
// their steps and their events that no run refers to any more.
func (s *Store) pruneRuns(ctx context.Context, f Fence, workflowID, cond string, args []any, batch int) (Pruned, error) {
	// The batch is chosen on a reader, so the scan never holds the writer; the writer then
	// deletes by id range under the same condition, which a finished run keeps meeting.
	var picked []struct {
		ID      string
		EventID *string
	}
	if err := s.rdb.WithContext(ctx).Raw(`SELECT id, event_id FROM runs WHERE `+cond+` ORDER BY id LIMIT ?`,
		append(args, batch)...).Scan(&picked).Error; err != nil {
		return nil, fmt.Errorf("find runs of workflow %s to prune: %w", workflowID, err)
	}
	if len(picked) == 0 {
		return Pruned{}, nil
	}
	first, last := picked[0].ID, picked[len(picked)-1].ID
	var evFirst, evLast string
	for _, p := range picked {
		if p.EventID == nil {
			continue
		}
		if evFirst == "" || *p.EventID < evFirst {
			evFirst = *p.EventID
		}
		if *p.EventID > evLast {
			evLast = *p.EventID
		}
	}
	ranged := cond + " AND id >= ? AND id <= ?"
	rargs := append(append([]any{}, args...), first, last)
	out := Pruned{}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := renew(tx, f); err != nil {
			return err
		}
		res := tx.Exec(`DELETE FROM step_runs WHERE run_id IN (SELECT id FROM runs WHERE `+ranged+`)`, rargs...)
		if res.Error != nil {
			return res.Error
		}
		out["step_runs"] = res.RowsAffected
		if res = tx.Exec(`DELETE FROM runs WHERE `+ranged, rargs...); res.Error != nil {
			return res.Error
		}
		out["runs"] = res.RowsAffected
		if evFirst == "" {
			return nil
		}
		// An event goes with its last run: a replay or another run still referring to it
		// keeps it. Refused requests are the inspector's, pruned by their own rule.
		res = tx.Exec(`DELETE FROM events WHERE workflow_id = ? AND id >= ? AND id <= ? AND verdict = ?
			AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.event_id = events.id)`,
			workflowID, evFirst, evLast, VerdictAccepted)
		out["events"] = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return nil, fmt.Errorf("prune runs of workflow %s: %w", workflowID, err)
	}
	return out, nil
}

// PruneDeleted removes up to batch rows of a deleted workflow's history in one
// transaction fenced by f: its runs with their steps (whatever their status), then its
// events, then its seen poll items; once none is left, the workflow's row with its
// versions. It reports what it deleted and whether the workflow is gone.
func (s *Store) PruneDeleted(ctx context.Context, f Fence, workflowID string, batch int) (Pruned, bool, error) {
	var deleted int64
	if err := s.rdb.WithContext(ctx).Model(&Workflow{}).Where("id = ? AND deleted_at IS NOT NULL", workflowID).
		Count(&deleted).Error; err != nil {
		return nil, false, fmt.Errorf("check workflow %s is deleted: %w", workflowID, err)
	}
	if deleted == 0 {
		return Pruned{}, false, nil // not deleted (or already gone): nothing of it is pruned here
	}
	p, err := s.pruneRuns(ctx, f, workflowID, "workflow_id = ?", []any{workflowID}, batch)
	if err != nil || p.Total() > 0 {
		return p, false, err
	}
	for _, table := range []struct{ name, key string }{{"events", "id"}, {"poll_seen", "item_key"}} {
		n, err := s.pruneTable(ctx, f, table.name, table.key, workflowID, batch)
		if err != nil || n > 0 {
			return Pruned{table.name: n}, false, err
		}
	}
	out := Pruned{}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := renew(tx, f); err != nil {
			return err
		}
		// A run or event written by a process that had not yet heard of the delete (its
		// webhook cache lasts a second) goes with the row, by ON DELETE CASCADE.
		for _, table := range []string{"workflow_versions", "trigger_states"} {
			res := tx.Exec("DELETE FROM "+table+" WHERE workflow_id = ?", workflowID)
			if res.Error != nil {
				return res.Error
			}
			out[table] = res.RowsAffected
		}
		res := tx.Exec("DELETE FROM workflows WHERE id = ? AND deleted_at IS NOT NULL", workflowID)
		out["workflows"] = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return nil, false, fmt.Errorf("delete workflow %s: %w", workflowID, err)
	}
	return out, true, nil
}

// pruneTable deletes up to batch rows of a workflow from a table keyed by (workflow_id,
// key), the lowest keys first.
func (s *Store) pruneTable(ctx context.Context, f Fence, table, key, workflowID string, batch int) (int64, error) {
	var keys []string
	if err := s.rdb.WithContext(ctx).Raw(`SELECT `+key+` FROM `+table+` WHERE workflow_id = ? ORDER BY `+key+` LIMIT ?`,
		workflowID, batch).Scan(&keys).Error; err != nil {
		return 0, fmt.Errorf("find %s of workflow %s to prune: %w", table, workflowID, err)
	}
	if len(keys) == 0 {
		return 0, nil
	}
	var n int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := renew(tx, f); err != nil {
			return err
		}
		res := tx.Exec(`DELETE FROM `+table+` WHERE workflow_id = ? AND `+key+` >= ? AND `+key+` <= ?`,
			workflowID, keys[0], keys[len(keys)-1])
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("prune %s of workflow %s: %w", table, workflowID, err)
	}
	return n, nil
}
