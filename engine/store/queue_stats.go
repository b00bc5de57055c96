package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// QueueStats reports the runs due at now and not yet claimed (queued, or waiting whose
// time has come), and when the oldest of them came due (zero when there is none).
func (s *Store) QueueStats(ctx context.Context, now time.Time) (depth int64, oldest time.Time, err error) {
	const due = "status IN ('queued', 'waiting') AND run_at <= ?"
	db := s.rdb.WithContext(ctx)
	if err := db.Model(&Run{}).Where(due, now).Count(&depth).Error; err != nil {
		return 0, time.Time{}, fmt.Errorf("count due runs: %w", err)
	}
	if depth == 0 {
		return 0, time.Time{}, nil
	}
	// A typed row, not MIN(): SQLite returns an aggregate of a time column as text.
	var r Run
	err = db.Select("run_at").Where(due, now).Order("run_at").Limit(1).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return depth, time.Time{}, nil // claimed meanwhile
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read oldest due run: %w", err)
	}
	return depth, r.RunAt, nil
}
