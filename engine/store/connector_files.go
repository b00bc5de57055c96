package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ConnectorFile is a declarative connector file uploaded through the API. Every process
// of a cluster loads the rows; (ID, Revision) changes on every write, so a process sees a
// change by reading the heads only.
type ConnectorFile struct {
	ID     string `gorm:"primaryKey"`
	Name   string
	Source string
	// Revision counts the writes of the name, from 1.
	Revision  int
	CreatedAt time.Time
	UpdatedAt time.Time
	// UpdatedBy is the email of the user who wrote it last, or "" for the system.
	UpdatedBy string
}

// CreateConnectorFile inserts a connector file at revision 1. A taken name is
// ErrConflict.
func (s *Store) CreateConnectorFile(ctx context.Context, f *ConnectorFile) error {
	f.Revision = 1
	if err := s.db.WithContext(ctx).Create(f).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("create connector file %s: %w", f.Name, ErrConflict)
		}
		return fmt.Errorf("create connector file %s: %w", f.Name, err)
	}
	return nil
}

// SaveConnectorFile stores f's source under its name: a new row at revision 1, or the
// next revision of the existing one, which keeps its id and creation time. f is updated
// with what was stored; created says which it was.
func (s *Store) SaveConnectorFile(ctx context.Context, f *ConnectorFile) (created bool, err error) {
	// Two first writes of one name may race: the loser's insert fails on the unique name
	// and its second pass finds the winner's row to update.
	for range 2 {
		created, err = s.saveConnectorFile(ctx, f)
		if !errors.Is(err, ErrConflict) {
			return created, err
		}
	}
	return false, err
}

func (s *Store) saveConnectorFile(ctx context.Context, f *ConnectorFile) (bool, error) {
	created := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Where("name = ?", f.Name)
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var cur ConnectorFile
		err := q.Take(&cur).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			created = true
			f.Revision = 1
			if err := tx.Create(f).Error; err != nil {
				if isUniqueViolation(err) {
					return ErrConflict
				}
				return err
			}
			return nil
		}
		if err != nil {
			return err
		}
		f.ID, f.CreatedAt, f.Revision = cur.ID, cur.CreatedAt, cur.Revision+1
		return tx.Model(&ConnectorFile{}).Where("id = ?", cur.ID).Updates(map[string]any{
			"source": f.Source, "revision": f.Revision, "updated_at": f.UpdatedAt, "updated_by": f.UpdatedBy,
		}).Error
	})
	if err != nil {
		return false, fmt.Errorf("save connector file %s: %w", f.Name, err)
	}
	return created, nil
}

// ConnectorFileByName returns a connector file with its source.
func (s *Store) ConnectorFileByName(ctx context.Context, name string) (*ConnectorFile, error) {
	var f ConnectorFile
	if err := s.rdb.WithContext(ctx).Where("name = ?", name).Take(&f).Error; err != nil {
		return nil, fmt.Errorf("get connector file %s: %w", name, notFound(err))
	}
	return &f, nil
}

// ConnectorFileHeads returns every connector file without its source, by name: what a
// process compares with what it loaded.
func (s *Store) ConnectorFileHeads(ctx context.Context) ([]ConnectorFile, error) {
	var out []ConnectorFile
	err := s.rdb.WithContext(ctx).Select("id", "name", "revision", "created_at", "updated_at", "updated_by").
		Order("name").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list connector files: %w", err)
	}
	return out, nil
}

// DeleteConnectorFile deletes a connector file by name and returns what it held.
func (s *Store) DeleteConnectorFile(ctx context.Context, name string) (*ConnectorFile, error) {
	var out ConnectorFile
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("name = ?", name).Take(&out).Error; err != nil {
			return notFound(err)
		}
		return tx.Where("id = ?", out.ID).Delete(&ConnectorFile{}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("delete connector file %s: %w", name, err)
	}
	return &out, nil
}

// ErrSecretsChanged is what a secrets swap function returns when the stored values are
// no longer the ones the caller started from: the swap writes nothing.
var ErrSecretsChanged = errors.New("connection secrets changed meanwhile")

// SwapConnectionSecrets rewrites a connection's sealed secrets in one transaction: swap
// gets the stored Secrets column and returns its replacement, or ErrSecretsChanged to
// leave it be (then swapped is false and err nil). The row is locked for the swap (FOR
// UPDATE on PostgreSQL; SQLite's write transaction holds the whole database), so two
// processes rotating one credential at once cannot both win.
func (s *Store) SwapConnectionSecrets(ctx context.Context, name string, now time.Time, swap func(sealed string) (string, error)) (swapped bool, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Where("name = ?", name)
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var c Connection
		if err := q.Take(&c).Error; err != nil {
			return notFound(err)
		}
		next, err := swap(c.Secrets)
		if err != nil {
			return err
		}
		return tx.Model(&Connection{}).Where("id = ?", c.ID).
			Updates(map[string]any{"secrets": next, "updated_at": now.UTC()}).Error
	})
	if errors.Is(err, ErrSecretsChanged) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("swap secrets of connection %s: %w", name, err)
	}
	return true, nil
}
