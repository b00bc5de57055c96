package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hookflow/hookflow/engine/workflow"
)

// A user's own account: preferences, password and sessions. Every user may change their
// own, viewers included; these methods act on the actor of the context and nobody else.

// Locales are the admin UI's languages a user may choose; an empty locale follows the
// browser's Accept-Language.
var Locales = []string{"en", "ru"}

// PasswordMaxLength is the longest password accepted: bcrypt reads no further.
const PasswordMaxLength = 72

// AuditUserPassword is the audit log's action for a user changing their own password;
// the entry holds no diff.
const AuditUserPassword = "user.password"

// AccountPatch changes the acting user's preferences; nil fields stay as they are.
type AccountPatch struct {
	// Locale is "", "en" or "ru".
	Locale *string `json:"locale"`
	// TimeZone is an IANA time zone name ("Europe/Moscow"); empty means UTC.
	TimeZone *string `json:"time_zone"`
}

// accountOwner returns the acting user's id: the system has no account to change.
func accountOwner(ctx context.Context, action string) (*Actor, error) {
	a := ActorFrom(ctx)
	if a == nil || a.UserID == "" {
		return nil, fmt.Errorf("%w: %s needs a signed-in user", ErrForbidden, action)
	}
	return a, nil
}

// UpdateAccount saves the acting user's UI language and time zone. A time zone the
// server's time zone database does not know is a validation error.
func (e *Engine) UpdateAccount(ctx context.Context, p AccountPatch) (*User, error) {
	a, err := accountOwner(ctx, "changing account settings")
	if err != nil {
		return nil, err
	}
	var problems []workflow.FieldError
	if p.Locale != nil && *p.Locale != "" && !slices.Contains(Locales, *p.Locale) {
		problems = append(problems, workflow.FieldError{Path: "locale",
			Message: fmt.Sprintf("%q is not one of %s (or empty for the browser's language)", *p.Locale, strings.Join(Locales, ", "))})
	}
	if p.TimeZone != nil {
		tz := strings.TrimSpace(*p.TimeZone)
		p.TimeZone = &tz
		if err := checkTimeZone(tz); err != nil {
			problems = append(problems, workflow.FieldError{Path: "time_zone", Message: err.Error()})
		}
	}
	if len(problems) > 0 {
		return nil, &workflow.ValidationError{Errors: problems}
	}
	u, err := e.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, translate(err)
	}
	locale, tz := u.Locale, u.TimeZone
	if p.Locale != nil {
		locale = *p.Locale
	}
	if p.TimeZone != nil {
		tz = *p.TimeZone
	}
	u, err = e.store.UpdateUserPreferences(ctx, u.ID, locale, tz)
	if err != nil {
		return nil, translate(err)
	}
	e.log.Info("Account settings changed", slog.String("user_id", u.ID), slog.String("locale", locale), slog.String("time_zone", tz))
	out := userOf(u)
	return &out, nil
}

// checkTimeZone accepts an empty name (UTC) or an IANA name the time zone database
// knows. "Local" is refused: it would mean the server's zone, which users cannot see.
func checkTimeZone(tz string) error {
	if tz == "" {
		return nil
	}
	if tz == "Local" {
		return fmt.Errorf("%q is not an IANA time zone name such as Europe/Moscow", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Errorf("unknown time zone %q; use an IANA name such as Europe/Moscow", tz)
	}
	return nil
}

// ChangePassword sets the acting user's password after checking the current one, then
// ends the user's other sessions: every one but keepSession (a Session.ID; empty ends
// them all). API tokens keep working. A wrong current password counts as a failed
// sign-in for the account's throttle, so a borrowed session cannot guess it quickly:
// too many give *ThrottledError.
func (e *Engine) ChangePassword(ctx context.Context, current, next, keepSession string) error {
	a, err := accountOwner(ctx, "changing a password")
	if err != nil {
		return err
	}
	u, err := e.store.UserByID(ctx, a.UserID)
	if err != nil {
		return translate(err)
	}
	var problems []workflow.FieldError
	switch {
	case len(next) < PasswordMinLength:
		problems = append(problems, workflow.FieldError{Path: "new_password", Message: fmt.Sprintf("must be at least %d characters", PasswordMinLength)})
	case len(next) > PasswordMaxLength:
		problems = append(problems, workflow.FieldError{Path: "new_password", Message: fmt.Sprintf("must be at most %d bytes", PasswordMaxLength)})
	}
	keys := []string{"email:" + u.Email}
	now := e.cfg.Now()
	if wait := e.logins.begin(now, keys); wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(current)) != nil {
		e.log.Info("Password change with a wrong current password", slog.String("user_id", u.ID), slog.String("client_addr", a.Addr))
		problems = append([]workflow.FieldError{{Path: "current_password", Message: "is wrong"}}, problems...)
		return &workflow.ValidationError{Errors: problems}
	}
	e.logins.succeeded(keys)
	if len(problems) > 0 {
		return &workflow.ValidationError{Errors: problems}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(next), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash new password of %s: %w", u.Email, err)
	}
	if err := e.store.SetUserPassword(ctx, u.ID, string(hash)); err != nil {
		return translate(err)
	}
	n, err := e.store.DeleteOtherUserSessions(ctx, u.ID, keepSession)
	if err != nil {
		return err
	}
	e.log.Info("Password changed", slog.String("user_id", u.ID), slog.Int64("sessions_ended", n))
	e.audit(ctx, AuditUserPassword, AuditKindUser, u.ID, u.Email, map[string]any{"sessions_ended": n})
	return nil
}

// SessionInfo is one of a user's signed-in browsers, as the account page lists them.
type SessionInfo struct {
	// ID is the session's id (the SHA-256 of its cookie token), as Session.ID.
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	ClientAddr string    `json:"client_addr"`
}

// ListSessions returns the acting user's live sessions, most recently used first.
func (e *Engine) ListSessions(ctx context.Context) ([]SessionInfo, error) {
	a, err := accountOwner(ctx, "listing sessions")
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	rows, err := e.store.ListUserSessions(ctx, a.UserID, now, now.Add(-e.cfg.SessionIdleTimeout))
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, len(rows))
	for i, r := range rows {
		out[i] = SessionInfo{ID: r.ID, CreatedAt: r.CreatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
			UserAgent: r.UserAgent, ClientAddr: r.ClientAddr}
	}
	return out, nil
}
