package store

import (
	"context"
	"fmt"
	"time"
)

// UpdateUserPreferences saves a user's UI language and time zone and returns the user.
func (s *Store) UpdateUserPreferences(ctx context.Context, id, locale, timeZone string) (*User, error) {
	res := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", id).
		Updates(map[string]any{"locale": locale, "time_zone": timeZone})
	if res.Error != nil {
		return nil, fmt.Errorf("update preferences of user %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("update preferences of user %s: %w", id, ErrNotFound)
	}
	return s.UserByID(ctx, id)
}

// SetUserPassword replaces a user's password hash.
func (s *Store) SetUserPassword(ctx context.Context, id, hash string) error {
	res := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", id).Update("password_hash", hash)
	if res.Error != nil {
		return fmt.Errorf("set password of user %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set password of user %s: %w", id, ErrNotFound)
	}
	return nil
}

// ListUserSessions returns a user's sessions that have not ended at now (past
// expires_at, or unused since idleSince), most recently used first.
func (s *Store) ListUserSessions(ctx context.Context, userID string, now, idleSince time.Time) ([]Session, error) {
	var out []Session
	err := s.rdb.WithContext(ctx).Where("user_id = ? AND expires_at > ? AND last_seen_at > ?", userID, now, idleSince).
		Order("last_seen_at DESC, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %s: %w", userID, err)
	}
	return out, nil
}

// DeleteOtherUserSessions removes every session of a user but the one with id keep
// and returns how many it removed.
func (s *Store) DeleteOtherUserSessions(ctx context.Context, userID, keep string) (int64, error) {
	res := s.db.WithContext(ctx).Where("user_id = ? AND id <> ?", userID, keep).Delete(&Session{})
	if res.Error != nil {
		return 0, fmt.Errorf("delete other sessions of user %s: %w", userID, res.Error)
	}
	return res.RowsAffected, nil
}
