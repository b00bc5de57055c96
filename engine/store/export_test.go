package store

import (
	"context"
	"database/sql"
	"fmt"
)

// IsUniqueViolation exposes isUniqueViolation to the store's tests.
var IsUniqueViolation = isUniqueViolation

// WriterDB returns the store's writing pool, for tests that run raw SQL.
func (s *Store) WriterDB() *sql.DB { return s.closer[0] }

// MigrateTo applies the migrations up to version, so that a test can write rows as an
// older release did before it migrates the rest of the way.
func (s *Store) MigrateTo(ctx context.Context, version int64) error {
	p, done, err := s.migrationProvider()
	if err != nil {
		return err
	}
	defer done()
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("migrate %s to %d: %w", s.dialect, version, err)
	}
	return nil
}

// ReaderDB returns the store's reading pool (on PostgreSQL, the only pool).
func (s *Store) ReaderDB() *sql.DB { return s.closer[len(s.closer)-1] }
