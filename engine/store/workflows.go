package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// CreateWorkflow inserts a workflow and its first version in one transaction.
func (s *Store) CreateWorkflow(ctx context.Context, w *Workflow, v *WorkflowVersion) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(w).Error; err != nil {
			return err
		}
		return tx.Create(v).Error
	})
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("create workflow %s: %w", w.ID, ErrConflict)
		}
		return fmt.Errorf("create workflow %s: %w", w.ID, err)
	}
	s.capped.reset()
	return nil
}

// SaveWorkflowVersion stores v as the workflow's new current version and updates the
// workflow row from w, in one transaction. The version number must be the next one: two
// concurrent saves cannot both win (the second gets ErrConflict).
func (s *Store) SaveWorkflowVersion(ctx context.Context, w *Workflow, v *WorkflowVersion) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(v).Error; err != nil {
			return err
		}
		res := tx.Model(&Workflow{}).Where("id = ? AND version = ? AND deleted_at IS NULL", w.ID, v.Version-1).Updates(map[string]any{
			"name":         w.Name,
			"enabled":      w.Enabled,
			"version":      v.Version,
			"trigger_type": w.TriggerType,
			"concurrency":  w.Concurrency,
			"updated_at":   w.UpdatedAt,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrConflict
		}
		return nil
	})
	if err != nil {
		if isUniqueViolation(err) {
			err = ErrConflict
		}
		return fmt.Errorf("save version %d of workflow %s: %w", v.Version, w.ID, err)
	}
	w.Version = v.Version
	s.capped.reset()
	return nil
}

// SetHookToken replaces a workflow's webhook token.
func (s *Store) SetHookToken(ctx context.Context, id, token string) error {
	res := s.db.WithContext(ctx).Model(&Workflow{}).Where("id = ? AND deleted_at IS NULL", id).Update("hook_token", token)
	if res.Error != nil {
		return fmt.Errorf("set hook token of workflow %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set hook token of workflow %s: %w", id, ErrNotFound)
	}
	return nil
}

// GetWorkflow returns a workflow by id.
func (s *Store) GetWorkflow(ctx context.Context, id string) (*Workflow, error) {
	var w Workflow
	if err := s.rdb.WithContext(ctx).Where("id = ? AND deleted_at IS NULL", id).Take(&w).Error; err != nil {
		return nil, fmt.Errorf("get workflow %s: %w", id, notFound(err))
	}
	return &w, nil
}

// WorkflowByHookToken returns the workflow whose webhook token is token.
func (s *Store) WorkflowByHookToken(ctx context.Context, token string) (*Workflow, error) {
	var w Workflow
	if err := s.rdb.WithContext(ctx).Where("hook_token = ? AND deleted_at IS NULL", token).Take(&w).Error; err != nil {
		return nil, fmt.Errorf("find workflow by hook token: %w", notFound(err))
	}
	return &w, nil
}

// ListWorkflows returns up to limit workflows with ids below before (all when empty),
// newest first.
func (s *Store) ListWorkflows(ctx context.Context, before string, limit int) ([]Workflow, error) {
	q := s.rdb.WithContext(ctx).Where("deleted_at IS NULL").Order("id DESC").Limit(limit)
	if before != "" {
		q = q.Where("id < ?", before)
	}
	var out []Workflow
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	return out, nil
}

// DeleteWorkflow marks a workflow deleted, in one short transaction: from then on it is
// not found, its webhook stores nothing, its queued runs are not claimed and its running
// ones are asked to stop (their ids are returned, for the caller's own workers). Its
// versions, runs, steps and events stay until the pruner removes them in batches
// (PruneDeleted), then the row itself.
func (s *Store) DeleteWorkflow(ctx context.Context, id string, now time.Time) (stopping []string, err error) {
	var affected int64
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Workflow{}).Where("id = ? AND deleted_at IS NULL", id).
			Updates(map[string]any{"deleted_at": now.UTC(), "enabled": false, "updated_at": now.UTC()})
		if res.Error != nil || res.RowsAffected == 0 {
			affected = res.RowsAffected
			return res.Error
		}
		affected = res.RowsAffected
		// The literal status matches the runs_open partial index: only the runs in flight
		// are touched, however long the history.
		if err := tx.Raw(`UPDATE runs SET cancel_requested = ? WHERE workflow_id = ?
			AND status IN ('queued', 'waiting', 'running') AND status = 'running' RETURNING id`, true, id).Scan(&stopping).Error; err != nil {
			return err
		}
		return s.notifyCancel(tx, stopping)
	})
	if err != nil {
		return nil, fmt.Errorf("delete workflow %s: %w", id, err)
	}
	if affected == 0 {
		return nil, fmt.Errorf("delete workflow %s: %w", id, ErrNotFound)
	}
	s.capped.reset()
	return stopping, nil
}

// GetWorkflowVersion returns one version of a workflow.
func (s *Store) GetWorkflowVersion(ctx context.Context, id string, version int) (*WorkflowVersion, error) {
	var v WorkflowVersion
	if err := s.rdb.WithContext(ctx).Where("workflow_id = ? AND version = ?", id, version).Take(&v).Error; err != nil {
		return nil, fmt.Errorf("get version %d of workflow %s: %w", version, id, notFound(err))
	}
	return &v, nil
}

// ListWorkflowVersions returns every version of a workflow, newest first.
func (s *Store) ListWorkflowVersions(ctx context.Context, id string) ([]WorkflowVersion, error) {
	var out []WorkflowVersion
	if err := s.rdb.WithContext(ctx).Where("workflow_id = ?", id).Order("version DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list versions of workflow %s: %w", id, err)
	}
	return out, nil
}

// CurrentDefinitions returns the current definition of every workflow, keyed by id.
func (s *Store) CurrentDefinitions(ctx context.Context) (map[string]string, error) {
	var rows []WorkflowVersion
	err := s.rdb.WithContext(ctx).Raw(`SELECT v.workflow_id, v.version, v.definition, v.created_at
		FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id AND w.version = v.version
		WHERE w.deleted_at IS NULL`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list current workflow definitions: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.WorkflowID] = r.Definition
	}
	return out, nil
}
