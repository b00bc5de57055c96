package store

import (
	"context"
	"fmt"
	"time"
)

// CreateUser inserts a user. A taken email is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	if err := s.db.WithContext(ctx).Create(u).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("create user %s: %w", u.Email, ErrConflict)
		}
		return fmt.Errorf("create user %s: %w", u.Email, err)
	}
	return nil
}

// UserByEmail finds a user by email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := s.rdb.WithContext(ctx).Where("email = ?", email).Take(&u).Error; err != nil {
		return nil, fmt.Errorf("find user %s: %w", email, notFound(err))
	}
	return &u, nil
}

// CountUsers counts the users.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.rdb.WithContext(ctx).Model(&User{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateAPIToken inserts a token.
func (s *Store) CreateAPIToken(ctx context.Context, t *APIToken) error {
	if err := s.db.WithContext(ctx).Create(t).Error; err != nil {
		return fmt.Errorf("create api token for user %s: %w", t.UserID, err)
	}
	return nil
}

// UserByTokenHash finds the user owning the token with the given hash.
func (s *Store) UserByTokenHash(ctx context.Context, hash string) (*User, *APIToken, error) {
	var t APIToken
	if err := s.rdb.WithContext(ctx).Where("token_hash = ?", hash).Take(&t).Error; err != nil {
		return nil, nil, fmt.Errorf("find api token: %w", notFound(err))
	}
	var u User
	if err := s.rdb.WithContext(ctx).Where("id = ?", t.UserID).Take(&u).Error; err != nil {
		return nil, nil, fmt.Errorf("find user %s of api token: %w", t.UserID, notFound(err))
	}
	return &u, &t, nil
}

// TouchAPIToken records when a token was last used.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	if err := s.db.WithContext(ctx).Model(&APIToken{}).Where("id = ?", id).Update("last_used_at", at).Error; err != nil {
		return fmt.Errorf("touch api token %s: %w", id, err)
	}
	return nil
}
