package store

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry is one row of the audit log: a change made through the service API.
type AuditEntry struct {
	ID         string `gorm:"primaryKey"`
	At         time.Time
	ActorID    string
	ActorEmail string
	Via        string
	Action     string
	TargetKind string
	TargetID   string
	TargetName string
	// Diff is a JSON object of the non-secret fields that changed.
	Diff       string
	ClientAddr string
}

// TableName names the table: gorm would pluralise the model to audit_entries.
func (AuditEntry) TableName() string { return "audit_log" }

// AuditFilter selects audit entries to list.
type AuditFilter struct {
	Kind string
	// Target matches the target's id or name.
	Target string
	// Actor matches the acting user's id or email.
	Actor string
	// Before is the cursor: only entries with a smaller id.
	Before string
	Limit  int
}

// AddAudit inserts one audit entry.
func (s *Store) AddAudit(ctx context.Context, a *AuditEntry) error {
	if err := s.db.WithContext(ctx).Create(a).Error; err != nil {
		return fmt.Errorf("add audit entry %s on %s %s: %w", a.Action, a.TargetKind, a.TargetID, err)
	}
	return nil
}

// ListAudit returns up to f.Limit audit entries, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	q := s.rdb.WithContext(ctx).Order("id DESC").Limit(f.Limit)
	if f.Kind != "" {
		q = q.Where("target_kind = ?", f.Kind)
	}
	if f.Target != "" {
		q = q.Where("target_id = ? OR target_name = ?", f.Target, f.Target)
	}
	if f.Actor != "" {
		q = q.Where("actor_id = ? OR actor_email = ?", f.Actor, f.Actor)
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	var out []AuditEntry
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}

// WorkflowName returns a workflow's name, deleted or not, so the audit log can name a
// workflow it records as deleted.
func (s *Store) WorkflowName(ctx context.Context, id string) (string, error) {
	var w Workflow
	if err := s.rdb.WithContext(ctx).Select("name").Where("id = ?", id).Take(&w).Error; err != nil {
		return "", fmt.Errorf("get name of workflow %s: %w", id, notFound(err))
	}
	return w.Name, nil
}
