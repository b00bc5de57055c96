package store

import (
	"context"
	"fmt"
	"time"
)

// Session is a signed-in browser. ID is the SHA-256 of the cookie's token.
type Session struct {
	ID         string `gorm:"primaryKey"`
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	ClientAddr string
}

// CreateSession inserts a session.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	if err := s.db.WithContext(ctx).Create(sess).Error; err != nil {
		return fmt.Errorf("create session for user %s: %w", sess.UserID, err)
	}
	return nil
}

// SessionByID finds a session and its user.
func (s *Store) SessionByID(ctx context.Context, id string) (*Session, *User, error) {
	var sess Session
	if err := s.rdb.WithContext(ctx).Where("id = ?", id).Take(&sess).Error; err != nil {
		return nil, nil, fmt.Errorf("find session: %w", notFound(err))
	}
	var u User
	if err := s.rdb.WithContext(ctx).Where("id = ?", sess.UserID).Take(&u).Error; err != nil {
		return nil, nil, fmt.Errorf("find user %s of session: %w", sess.UserID, notFound(err))
	}
	return &sess, &u, nil
}

// TouchSession records when a session was last used.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	if err := s.db.WithContext(ctx).Model(&Session{}).Where("id = ?", id).Update("last_seen_at", at).Error; err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession removes a session; a missing one is no error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.db.WithContext(ctx).Where("id = ?", id).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions removes every session of a user and returns how many there were.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	res := s.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&Session{})
	if res.Error != nil {
		return 0, fmt.Errorf("delete sessions of user %s: %w", userID, res.Error)
	}
	return res.RowsAffected, nil
}

// DeleteStaleSessions removes a user's sessions that ended at now: past expires_at or
// unused since idleSince. Sign-in calls it, so the table holds no more dead rows than
// users who never came back.
func (s *Store) DeleteStaleSessions(ctx context.Context, userID string, now, idleSince time.Time) error {
	if err := s.db.WithContext(ctx).Where("user_id = ? AND (expires_at <= ? OR last_seen_at <= ?)", userID, now, idleSince).
		Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("delete stale sessions of user %s: %w", userID, err)
	}
	return nil
}
