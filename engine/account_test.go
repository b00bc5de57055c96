package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/engine/workflow"
)

// TestUpdateAccount: every user, a viewer too, sets their own language and time zone;
// unknown ones are refused by field; the system has no account.
func TestUpdateAccount(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setupAccounts(t, d)
		ctx := context.Background()
		token, _, err := b.eng.SignIn(ctx, "viewer@example.com", "viewer-password", engine.Client{Addr: "127.0.0.1"})
		require.NoError(t, err)

		ru, moscow := "ru", " Europe/Moscow "
		u, err := b.eng.UpdateAccount(b.as(b.viewer), engine.AccountPatch{Locale: &ru, TimeZone: &moscow})
		require.NoError(t, err, "viewers change their own account")
		require.Equal(t, "ru", u.Locale)
		require.Equal(t, "Europe/Moscow", u.TimeZone)
		s, err := b.eng.Session(ctx, token)
		require.NoError(t, err)
		require.Equal(t, "ru", s.User.Locale, "the session's user carries the setting")
		require.Equal(t, "Europe/Moscow", s.User.TimeZone)

		auto := ""
		u, err = b.eng.UpdateAccount(b.as(b.viewer), engine.AccountPatch{Locale: &auto})
		require.NoError(t, err)
		require.Equal(t, "", u.Locale)
		require.Equal(t, "Europe/Moscow", u.TimeZone, "a nil field stays")

		us, err := b.eng.ListUsers(b.as(b.admin))
		require.NoError(t, err)
		for _, other := range us {
			if other.ID != b.viewer.ID {
				require.Empty(t, other.TimeZone, "only the actor's own account changes: %s", other.Email)
			}
		}

		for _, tc := range []struct {
			patch engine.AccountPatch
			path  string
		}{
			{engine.AccountPatch{Locale: ptr("de")}, "locale"},
			{engine.AccountPatch{TimeZone: ptr("Mars/Olympus")}, "time_zone"},
			{engine.AccountPatch{TimeZone: ptr("Local")}, "time_zone"},
			{engine.AccountPatch{TimeZone: ptr("../../etc/passwd")}, "time_zone"},
		} {
			_, err := b.eng.UpdateAccount(b.as(b.viewer), tc.patch)
			var invalid *workflow.ValidationError
			require.True(t, errors.As(err, &invalid), "%v: %v", tc.patch, err)
			require.Equal(t, tc.path, invalid.Errors[0].Path)
		}
		_, err = b.eng.UpdateAccount(ctx, engine.AccountPatch{Locale: &ru})
		require.ErrorIs(t, err, engine.ErrForbidden, "the system has no account")
	})
}

func ptr(s string) *string { return &s }

// TestChangePassword: the current password is checked, the new one must be long enough,
// the old one stops working, and every other session ends while the one that changed it
// stays; the audit log records it without the password.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setupAccounts(t, d)
		ctx := context.Background()
		client := engine.Client{Addr: "127.0.0.1"}
		here, s, err := b.eng.SignIn(ctx, "viewer@example.com", "viewer-password", client)
		require.NoError(t, err)
		there, _, err := b.eng.SignIn(ctx, "viewer@example.com", "viewer-password", client)
		require.NoError(t, err)
		editors, _, err := b.eng.SignIn(ctx, "editor@example.com", "editor-password", client)
		require.NoError(t, err)
		_, secret, err := b.eng.CreateAPIToken(context.Background(), engine.TokenInput{UserID: b.viewer.ID, Name: "kept"})
		require.NoError(t, err)

		as := b.as(b.viewer)
		var invalid *workflow.ValidationError
		err = b.eng.ChangePassword(as, "not my password", "a new password", s.ID)
		require.True(t, errors.As(err, &invalid), "%v", err)
		require.Equal(t, "current_password", invalid.Errors[0].Path)
		err = b.eng.ChangePassword(as, "viewer-password", "short", s.ID)
		require.True(t, errors.As(err, &invalid), "%v", err)
		require.Equal(t, "new_password", invalid.Errors[0].Path)
		require.Contains(t, invalid.Error(), "at least 8 characters")

		sessions, err := b.eng.ListSessions(as)
		require.NoError(t, err)
		require.Len(t, sessions, 2)

		require.NoError(t, b.eng.ChangePassword(as, "viewer-password", "a new password", s.ID))
		_, err = b.eng.Session(ctx, here)
		require.NoError(t, err, "the session that changed it stays")
		_, err = b.eng.Session(ctx, there)
		require.ErrorIs(t, err, engine.ErrUnauthorized, "other sessions end")
		_, err = b.eng.Session(ctx, editors)
		require.NoError(t, err, "other users' sessions stay")
		_, err = b.eng.Authenticate(ctx, secret)
		require.NoError(t, err, "API tokens keep working: revoke them on their own")
		sessions, err = b.eng.ListSessions(as)
		require.NoError(t, err)
		require.Len(t, sessions, 1)
		require.Equal(t, s.ID, sessions[0].ID)

		_, _, err = b.eng.SignIn(ctx, "viewer@example.com", "viewer-password", client)
		require.ErrorIs(t, err, engine.ErrUnauthorized, "the old password stops working")
		_, _, err = b.eng.SignIn(ctx, "viewer@example.com", "a new password", client)
		require.NoError(t, err)

		page, err := b.eng.ListAudit(ctx, engine.AuditFilter{Kind: engine.AuditKindUser})
		require.NoError(t, err)
		require.Equal(t, engine.AuditUserPassword, page.Items[0].Action)
		require.Equal(t, b.viewer.ID, page.Items[0].TargetID)
		require.NotContains(t, string(page.Items[0].Diff), "password\"")
		require.NotContains(t, string(page.Items[0].Diff), "a new password")

		require.ErrorIs(t, b.eng.ChangePassword(ctx, "x", "a new password", ""), engine.ErrForbidden, "the system has no password")
	})
}

// TestChangePasswordIsThrottled: wrong current passwords count as failed sign-ins of the
// account, so a borrowed session cannot guess the password quickly.
func TestChangePasswordIsThrottled(t *testing.T) {
	t.Parallel()
	b := setupAccounts(t, store.SQLite)
	as := b.as(b.editor)
	for range engine.LoginFailuresFree {
		var invalid *workflow.ValidationError
		require.ErrorAs(t, b.eng.ChangePassword(as, "guess", "a new password", ""), &invalid)
	}
	var throttled *engine.ThrottledError
	require.ErrorAs(t, b.eng.ChangePassword(as, "editor-password", "a new password", ""), &throttled)
	require.Equal(t, engine.LoginDelayFirst, throttled.RetryAfter)
	b.clock.Advance(time.Second)
	require.NoError(t, b.eng.ChangePassword(as, "editor-password", "a new password", ""))
}
