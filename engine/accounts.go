package engine

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/workflow"
)

// ListUsers returns every account, by email. Admins only.
func (e *Engine) ListUsers(ctx context.Context) ([]User, error) {
	if err := allow(ctx, RoleAdmin, "list users"); err != nil {
		return nil, err
	}
	us, err := e.store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]User, len(us))
	for i := range us {
		out[i] = userOf(&us[i])
	}
	return out, nil
}

func userOf(u *store.User) User {
	return User{ID: u.ID, Email: u.Email, Role: u.Role, CreatedAt: u.CreatedAt, DisabledAt: u.DisabledAt,
		Locale: u.Locale, TimeZone: u.TimeZone}
}

// UserPatch changes an account; nil fields stay as they are.
type UserPatch struct {
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
}

// UpdateUser changes a user's role or disables it (or enables it again). Admins only. A
// change that would leave no active admin is ErrConflict, so an installation can never
// lock its admins out.
func (e *Engine) UpdateUser(ctx context.Context, id string, p UserPatch) (*User, error) {
	if err := allow(ctx, RoleAdmin, "change users"); err != nil {
		return nil, err
	}
	if p.Role != nil && roleRank(*p.Role) == 0 {
		return nil, &workflow.ValidationError{Errors: []workflow.FieldError{
			{Path: "role", Message: fmt.Sprintf("%q is not one of admin, editor, viewer", *p.Role)}}}
	}
	now := e.cfg.Now()
	u, err := e.store.UpdateUser(ctx, id, func(u *store.User) error {
		if p.Role != nil {
			u.Role = *p.Role
		}
		switch {
		case p.Disabled == nil:
		case *p.Disabled && u.DisabledAt == nil:
			u.DisabledAt = &now
		case !*p.Disabled:
			u.DisabledAt = nil
		}
		return nil
	})
	if errors.Is(err, store.ErrLastAdmin) {
		return nil, fmt.Errorf("%w: cannot demote or disable the last active admin", ErrConflict)
	}
	if err != nil {
		return nil, translate(err)
	}
	e.log.Info("User changed", slog.String("user_id", u.ID), slog.String("role", u.Role), slog.Bool("disabled", u.DisabledAt != nil))
	e.audit(ctx, AuditUserUpdate, AuditKindUser, u.ID, u.Email, changedFields(nil, map[string]any{"role": u.Role, "disabled": u.DisabledAt != nil}))
	out := userOf(u)
	return &out, nil
}

// Token is an API token as listed: never the token itself, which is shown once when
// made, only its last four characters.
type Token struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Email      string     `json:"email,omitempty"`
	Name       string     `json:"name"`
	Hint       string     `json:"hint"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func tokenOf(t *store.APIToken, email string) Token {
	hint := ""
	if t.TokenHint != "" {
		hint = apiTokenPrefix + "…" + t.TokenHint
	}
	return Token{ID: t.ID, UserID: t.UserID, Email: email, Name: t.Name, Hint: hint, CreatedAt: t.CreatedAt,
		LastUsedAt: t.LastUsedAt, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
}

// TokenFilter says whose tokens ListTokens returns: UserID's (or Email's), or with All
// everyone's, or else the actor's own (everyone's for the system, which has none).
type TokenFilter struct {
	UserID string
	Email  string
	All    bool
}

// ListTokens lists API tokens, newest first, revoked ones included. Everyone may list
// their own; only admins anyone else's.
func (e *Engine) ListTokens(ctx context.Context, f TokenFilter) ([]Token, error) {
	a := ActorFrom(ctx)
	if f.Email != "" && f.UserID == "" {
		u, err := e.store.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(f.Email)))
		if err != nil {
			return nil, translate(err)
		}
		f.UserID = u.ID
	}
	switch {
	case f.All:
		if err := allow(ctx, RoleAdmin, "list every user's API tokens"); err != nil {
			return nil, err
		}
		f.UserID = ""
	case f.UserID != "":
		if err := allowOwn(ctx, f.UserID, RoleViewer, "list API tokens"); err != nil {
			return nil, err
		}
	case a != nil:
		f.UserID = a.UserID
	}
	ts, err := e.store.ListAPITokens(ctx, store.TokenFilter{UserID: f.UserID})
	if err != nil {
		return nil, err
	}
	us, err := e.store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	emails := make(map[string]string, len(us))
	for _, u := range us {
		emails[u.ID] = u.Email
	}
	out := make([]Token, len(ts))
	for i := range ts {
		out[i] = tokenOf(&ts[i], emails[ts[i].UserID])
	}
	return out, nil
}

// TokenInput describes a new API token. UserID empty means the actor's own. ExpiresAt or
// ExpiresIn (not both) bound its life; neither means it lasts until revoked.
type TokenInput struct {
	UserID    string
	Name      string
	ExpiresAt *time.Time
	ExpiresIn time.Duration
}

// CreateAPIToken makes an API token and returns it with the token itself, shown this
// once: only its hash is stored. Editors and admins make their own; admins anyone's.
func (e *Engine) CreateAPIToken(ctx context.Context, in TokenInput) (*Token, string, error) {
	if in.UserID == "" {
		a := ActorFrom(ctx)
		if a == nil {
			return nil, "", &workflow.ValidationError{Errors: []workflow.FieldError{{Path: "user_id", Message: "is required"}}}
		}
		in.UserID = a.UserID
	}
	if err := allowOwn(ctx, in.UserID, RoleEditor, "create API tokens"); err != nil {
		return nil, "", err
	}
	now := e.cfg.Now()
	expires := in.ExpiresAt
	var problems []workflow.FieldError
	switch {
	case in.ExpiresAt != nil && in.ExpiresIn != 0:
		problems = append(problems, workflow.FieldError{Path: "expires_in", Message: "give expires_in or expires_at, not both"})
	case in.ExpiresIn < 0:
		problems = append(problems, workflow.FieldError{Path: "expires_in", Message: "must be positive"})
	case in.ExpiresIn > 0:
		at := now.Add(in.ExpiresIn)
		expires = &at
	case in.ExpiresAt != nil && !in.ExpiresAt.After(now):
		problems = append(problems, workflow.FieldError{Path: "expires_at", Message: "must be in the future"})
	}
	if len(problems) > 0 {
		return nil, "", &workflow.ValidationError{Errors: problems}
	}
	u, err := e.store.UserByID(ctx, in.UserID)
	if err != nil {
		return nil, "", translate(err)
	}
	if u.DisabledAt != nil {
		return nil, "", fmt.Errorf("%w: user %s is disabled", ErrConflict, u.Email)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, "", fmt.Errorf("generate api token: %w", err)
	}
	token := apiTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	if expires != nil {
		utc := expires.UTC()
		expires = &utc
	}
	t := &store.APIToken{ID: newID(), UserID: u.ID, Name: in.Name, TokenHash: hashToken(token),
		CreatedAt: now, ExpiresAt: expires, TokenHint: token[len(token)-4:]}
	if err := e.store.CreateAPIToken(ctx, t); err != nil {
		return nil, "", err
	}
	e.log.Info("API token created", slog.String("user_id", u.ID), slog.String("token_id", t.ID), slog.String("name", in.Name))
	e.audit(ctx, AuditTokenCreate, AuditKindToken, t.ID, t.Name, changedFields(nil, map[string]any{"user": u.Email, "name": in.Name}))
	out := tokenOf(t, u.Email)
	return &out, token, nil
}

// RevokeToken revokes an API token: it stops working at once but stays listed, marked,
// so its owner can still see it existed and when it was last used. Editors revoke their
// own; admins anyone's. Revoking a revoked token changes nothing.
func (e *Engine) RevokeToken(ctx context.Context, id string) (*Token, error) {
	t, err := e.store.APITokenByID(ctx, id)
	if err != nil {
		return nil, translate(err)
	}
	if err := allowOwn(ctx, t.UserID, RoleEditor, "revoke API tokens"); err != nil {
		return nil, err
	}
	if t.RevokedAt == nil {
		if err := e.store.RevokeAPIToken(ctx, id, e.cfg.Now()); err != nil {
			return nil, err
		}
		e.log.Info("API token revoked", slog.String("user_id", t.UserID), slog.String("token_id", id))
		e.audit(ctx, AuditTokenRevoke, AuditKindToken, id, t.Name, nil)
	}
	t, err = e.store.APITokenByID(ctx, id)
	if err != nil {
		return nil, translate(err)
	}
	out := tokenOf(t, "")
	return &out, nil
}
