package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/workflow"
)

// User roles.
const (
	RoleAdmin  = "admin"
	RoleEditor = "editor"
	RoleViewer = "viewer"
)

// User is an account.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Role  string `json:"role"`
	// CreatedAt and DisabledAt are set where users are listed; a disabled user's tokens
	// and sessions stop working.
	CreatedAt  time.Time  `json:"created_at,omitzero"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
	// Locale ("en", "ru") and TimeZone (IANA) are the admin UI's preferences; empty
	// follows the browser's language and UTC.
	Locale   string `json:"locale,omitempty"`
	TimeZone string `json:"time_zone,omitempty"`
}

// PasswordMinLength is the shortest password accepted.
const PasswordMinLength = 8

// apiTokenPrefix marks Hookflow API tokens so secret scanners can recognise them.
const apiTokenPrefix = "hf_"

// CreateUser adds an account. A taken email is ErrConflict.
func (e *Engine) CreateUser(ctx context.Context, email, password, role string) (*User, error) {
	if err := allow(ctx, RoleAdmin, "create users"); err != nil {
		return nil, err
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if role == "" {
		role = RoleAdmin
	}
	var problems []workflow.FieldError
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		problems = append(problems, workflow.FieldError{Path: "email", Message: fmt.Sprintf("%q is not an email address", email)})
	}
	if len(password) < PasswordMinLength {
		problems = append(problems, workflow.FieldError{Path: "password", Message: fmt.Sprintf("must be at least %d characters", PasswordMinLength)})
	}
	if role != RoleAdmin && role != RoleEditor && role != RoleViewer {
		problems = append(problems, workflow.FieldError{Path: "role", Message: fmt.Sprintf("%q is not one of admin, editor, viewer", role)})
	}
	if len(problems) > 0 {
		return nil, &workflow.ValidationError{Errors: problems}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password of %s: %w", email, err)
	}
	u := &store.User{ID: newID(), Email: email, PasswordHash: string(hash), Role: role, CreatedAt: e.cfg.Now()}
	if err := e.store.CreateUser(ctx, u); err != nil {
		return nil, translate(err)
	}
	e.log.Info("User created", slog.String("user_id", u.ID), slog.String("email", email), slog.String("role", role))
	e.audit(ctx, AuditUserCreate, AuditKindUser, u.ID, u.Email, changedFields(nil, map[string]any{"email": u.Email, "role": u.Role}))
	out := userOf(u)
	return &out, nil
}

// EnsureAdmin creates the first admin when there is no user at all; it does nothing
// otherwise, so the admin's later password changes are never overwritten.
func (e *Engine) EnsureAdmin(ctx context.Context, email, password string) error {
	if email == "" {
		return nil
	}
	n, err := e.store.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := e.CreateUser(ctx, email, password, RoleAdmin); err != nil {
		return fmt.Errorf("create first admin %s: %w", email, err)
	}
	return nil
}

// CountUsers returns how many accounts exist; serve uses it to tell a new installation
// how to create the first one.
func (e *Engine) CountUsers(ctx context.Context) (int64, error) {
	return e.store.CountUsers(ctx)
}

// CreateToken makes an API token for the user with email and returns it; see
// CreateAPIToken.
func (e *Engine) CreateToken(ctx context.Context, email, name string) (string, error) {
	u, err := e.store.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return "", translate(err)
	}
	_, token, err := e.CreateAPIToken(ctx, TokenInput{UserID: u.ID, Name: name})
	return token, err
}

// Authenticate returns the user owning an API token, or ErrUnauthorized when there is
// none, or the token has expired or was revoked, or its user is disabled. The token's
// last use is recorded in memory and written at most once a minute (tokenUse).
func (e *Engine) Authenticate(ctx context.Context, token string) (*User, error) {
	if !strings.HasPrefix(token, apiTokenPrefix) {
		return nil, ErrUnauthorized
	}
	u, t, err := e.store.UserByTokenHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	if u.DisabledAt != nil || t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) {
		return nil, ErrUnauthorized
	}
	e.tokenUse().used(ctx, t.ID, now)
	return &User{ID: u.ID, Email: u.Email, Role: u.Role, Locale: u.Locale, TimeZone: u.TimeZone}, nil
}

// hashToken uses SHA-256 rather than bcrypt: tokens carry 256 random bits, so a fast
// hash is safe and keeps authentication cheap on every API call.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
