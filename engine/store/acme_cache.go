package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm/clause"
)

// ACMEEntry is one value of the ACME cache (HOOKFLOW_TLS_CACHE=db). Data arrives
// sealed: the store never sees a private key in clear text.
type ACMEEntry struct {
	Name      string `gorm:"primaryKey"`
	Data      string
	UpdatedAt time.Time
}

// TableName names the table of migration 00015.
func (ACMEEntry) TableName() string { return "acme_cache" }

// GetACME returns the sealed value stored under name, or ErrNotFound.
func (s *Store) GetACME(ctx context.Context, name string) (string, error) {
	var e ACMEEntry
	if err := s.rdb.WithContext(ctx).Where("name = ?", name).Take(&e).Error; err != nil {
		return "", fmt.Errorf("read acme cache %s: %w", name, notFound(err))
	}
	return e.Data, nil
}

// PutACME stores data under name, replacing what was there.
func (s *Store) PutACME(ctx context.Context, name, data string, now time.Time) error {
	e := ACMEEntry{Name: name, Data: data, UpdatedAt: now.UTC()}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "updated_at"}),
	}).Create(&e).Error
	if err != nil {
		return fmt.Errorf("write acme cache %s: %w", name, err)
	}
	return nil
}

// DeleteACME removes name; a missing name is not an error.
func (s *Store) DeleteACME(ctx context.Context, name string) error {
	if err := s.db.WithContext(ctx).Where("name = ?", name).Delete(&ACMEEntry{}).Error; err != nil {
		return fmt.Errorf("delete acme cache %s: %w", name, err)
	}
	return nil
}

// LockACME waits until this process alone may order a certificate for name, and returns
// the function that lets the others go. On PostgreSQL it is a session advisory lock on
// a connection of its own (the direct URL, as a transaction pooler would lose a session
// lock), so a process that dies mid-order frees it with its connection; the key includes
// the schema, so installs sharing a server do not wait on one another. SQLite serves one
// process, so a lock inside this process is enough.
func (s *Store) LockACME(ctx context.Context, name string) (unlock func(), err error) {
	if s.dialect != Postgres {
		mu := localACMELock(name)
		select {
		case mu <- struct{}{}:
			return func() { <-mu }, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("lock acme order %s: %w", name, ctx.Err())
		}
	}
	conn, err := pgx.Connect(ctx, s.direct)
	if err != nil {
		return nil, fmt.Errorf("lock acme order %s: connect: %w", name, err)
	}
	const key = "hashtextextended(current_schema() || ':acme:' || $1::text, 0)"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock("+key+")", name); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("lock acme order %s: %w", name, err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Closing the session frees the lock too; the explicit unlock only makes it
		// prompt, so its error is of no consequence beyond a log line.
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock("+key+")", name); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Warn("Unlock ACME order failed; closing its connection frees it", slog.String("name", name), slog.Any("err", err))
		}
		_ = conn.Close(ctx)
	}, nil
}

// acmeLocks are the in-process order locks of SQLite, one channel per name.
var acmeLocks sync.Map

func localACMELock(name string) chan struct{} {
	mu, _ := acmeLocks.LoadOrStore(name, make(chan struct{}, 1))
	return mu.(chan struct{})
}
