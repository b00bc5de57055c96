package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// Setting is one installation-wide fact in the settings table.
type Setting struct {
	Name      string `gorm:"primaryKey"`
	Value     string
	CreatedAt time.Time
}

// EnsureSetting stores value under name unless the name is taken, and returns the stored
// value either way: the first process to start decides, the others compare.
func (s *Store) EnsureSetting(ctx context.Context, name, value string, now time.Time) (string, error) {
	row := Setting{Name: name, Value: value, CreatedAt: now}
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return "", fmt.Errorf("store setting %s: %w", name, err)
	}
	var got Setting
	if err := s.db.WithContext(ctx).Where("name = ?", name).Take(&got).Error; err != nil {
		return "", fmt.Errorf("read setting %s: %w", name, err)
	}
	return got.Value, nil
}
