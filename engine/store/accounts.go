package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ErrLastAdmin is returned when a change would leave no active admin.
var ErrLastAdmin = errors.New("it would leave no active admin")

// ListUsers returns every account, by email.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	var us []User
	if err := s.rdb.WithContext(ctx).Order("email").Find(&us).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id string) (*User, error) {
	var u User
	if err := s.rdb.WithContext(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, fmt.Errorf("find user %s: %w", id, notFound(err))
	}
	return &u, nil
}

func activeAdmin(u *User) bool { return u.Role == "admin" && u.DisabledAt == nil }

// UpdateUser applies change to the user with id and saves its role and disabled_at. When
// the user was an active admin and is no longer one, and no other active admin remains,
// nothing is saved and the error is ErrLastAdmin. On PostgreSQL the active admins' rows
// are locked first, so two admins demoting each other at once cannot both succeed; on
// SQLite the single writer connection already serialises the two.
func (s *Store) UpdateUser(ctx context.Context, id string, change func(u *User) error) (*User, error) {
	var out User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		admins := tx.Model(&User{}).Where("role = ? AND disabled_at IS NULL", "admin")
		if s.dialect == Postgres {
			admins = admins.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var ids []string
		if err := admins.Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("lock admins: %w", err)
		}
		if err := tx.Where("id = ?", id).Take(&out).Error; err != nil {
			return fmt.Errorf("find user %s: %w", id, notFound(err))
		}
		was := activeAdmin(&out)
		if err := change(&out); err != nil {
			return err
		}
		if was && !activeAdmin(&out) && len(ids) <= 1 {
			return fmt.Errorf("update user %s: %w", out.Email, ErrLastAdmin)
		}
		err := tx.Model(&User{}).Where("id = ?", id).
			Updates(map[string]any{"role": out.Role, "disabled_at": out.DisabledAt}).Error
		if err != nil {
			return fmt.Errorf("update user %s: %w", out.Email, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// TokenFilter narrows ListAPITokens; an empty UserID lists every user's tokens.
type TokenFilter struct {
	UserID string
}

// ListAPITokens returns tokens, newest first.
func (s *Store) ListAPITokens(ctx context.Context, f TokenFilter) ([]APIToken, error) {
	q := s.rdb.WithContext(ctx).Order("created_at DESC, id DESC")
	if f.UserID != "" {
		q = q.Where("user_id = ?", f.UserID)
	}
	var ts []APIToken
	if err := q.Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return ts, nil
}

// APITokenByID finds a token by id.
func (s *Store) APITokenByID(ctx context.Context, id string) (*APIToken, error) {
	var t APIToken
	if err := s.rdb.WithContext(ctx).Where("id = ?", id).Take(&t).Error; err != nil {
		return nil, fmt.Errorf("find api token %s: %w", id, notFound(err))
	}
	return &t, nil
}

// RevokeAPIToken marks a token revoked at at; revoking it again keeps the first time.
func (s *Store) RevokeAPIToken(ctx context.Context, id string, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&APIToken{}).Where("id = ? AND revoked_at IS NULL", id).
		Update("revoked_at", at).Error
	if err != nil {
		return fmt.Errorf("revoke api token %s: %w", id, err)
	}
	return nil
}
